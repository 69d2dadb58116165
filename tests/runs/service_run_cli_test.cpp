// `squall run` on a scenario with a service under test, through the binary: a real child process (a small
// standard-library Python service, tests/runs/services/relay.py) relaying to squall's in-process fake
// providers. What the providers saw is attributed to the user requests and checked against what the
// relay's code does; each way a service can misbehave gets its exit code, its message and no process left.

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/squall_binary_test.hpp"

namespace squall::testing {
namespace {

using json = nlohmann::ordered_json;  // the configurations keep the order they are written in

class ServiceRun : public squall_binary_test {
 protected:
  // A scenario: `rate` requests/s for `duration_s`, the provider failing every call with 503 in
  // [fault_at_s, fault_at_s + fault_for_s), and `configurations` of the relay (name -> env).
  std::string scenario(const json& configurations, const json& assertions = json::object(), double duration_s = 3,
                       double fault_at_s = 1, double fault_for_s = 1, double rate = 10) {
    const json faults = fault_for_s > 0 ? json::array({{{"at_s", fault_at_s}, {"for_s", fault_for_s},
                                                        {"errors", {{"503", 1.0}}}}})
                                        : json::array();
    json s = {
        {"name", "relay"},
        {"seed", 3},
        {"duration_s", duration_s},
        {"drain_s", 10},
        {"interval_s", 0.5},
        {"providers",
         {{"openai",
           {{"api", "openai"},
            {"models", {{"gpt-4o-mini", {{"usd_per_mtok_in", 0.15}, {"usd_per_mtok_out", 0.6}}}}},
            {"latency", {{"ttft_ms", 5}, {"ms_per_output_token", 0}}},
            {"faults", faults}}}}},
        {"workload",
         {{"arrivals", {{"process", "constant"}, {"rate_per_s", rate}}},
          {"model", "gpt-4o-mini"},
          {"input_tokens", 20},
          {"output_tokens", 8}}},
        {"service",
         {{"command", {"python3", std::string(SQUALL_SOURCE_DIR) + "/tests/runs/services/relay.py"}},
          {"env", {{"PORT", "${port}"}, {"OPENAI_BASE_URL", "${providers.openai.base_url}"},
                   {"PID_FILE", (dir_ / "pid").string()}}},
          {"ready", {{"http", "/health"}}},
          {"ready_timeout_ms", 5000},
          {"stop", {{"signal", "SIGTERM"}, {"grace_ms", 1000}}},
          {"request", {{"method", "POST"}, {"path", "/ask"},
                       {"body", {{"prompt", "${prompt}"}, {"max_tokens", "${output_tokens}"}}}}},
          {"success", {{"statuses", {200}}, {"json_path", "$.answer"}}},
          {"configurations", configurations}}},
        {"assert", assertions}};
    const auto path = dir_ / "scenario.json";
    std::ofstream(path) << s.dump(2);
    return path.string();
  }

  int run_scenario(const std::string& path) { return run("run '" + path + "' --out '" + (dir_ / "out").string() + "' --no-color"); }

  json results() const {
    std::ifstream in(dir_ / "out" / "results.json");
    return json::parse(in);
  }

  // Whether the process whose pid the relay wrote is gone (or never wrote one).
  bool service_gone() const {
    std::ifstream in(dir_ / "pid");
    long pid = 0;
    if (!(in >> pid) || pid <= 0) return true;
    return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
  }
};

TEST_F(ServiceRun, RetriesOfTheServiceAreSeenByTheProvidersAndAttributedByThePromptMarker) {
  const auto path = scenario({{"retries-2", {{"env", {{"RETRIES", "2"}}}}}, {"no-retries", {{"env", {{"RETRIES", "0"}}}}}},
                             {{"no-retries", {{"upstream_attempts_request_peak_max", 1}}},
                              {"retries-2", {{"upstream_attempts_request_peak_min", 3}}}});
  ASSERT_EQ(run_scenario(path), 0) << output();
  const json doc = results();
  EXPECT_EQ(doc["mode"], "service");
  ASSERT_EQ(doc["configurations"].size(), 2U);
  for (const auto& c : doc["configurations"]) {
    const json& up = c["upstream"];
    const double requests = c["summary"]["requests"].get<double>();
    ASSERT_GT(requests, 20) << c.dump();
    EXPECT_EQ(up["unattributed"], 0) << up.dump();
    EXPECT_EQ(up["attributed"]["header"], 0);  // the relay does not forward the header
    EXPECT_EQ(up["attributed"]["prompt_marker"], up["attempts"]);
    EXPECT_EQ(up["user_requests_answered"].get<double>(), requests);
    const double failed = requests - c["summary"]["succeeded"].get<double>();
    EXPECT_GT(failed, 0) << "the 503 window failed some requests";
    // A request that failed made 1 + RETRIES attempts; one that succeeded made one, or more when the window
    // closed between its attempts.
    const int per_failure = c["name"] == "retries-2" ? 3 : 1;
    EXPECT_EQ(up["attempts_per_failed_request"], per_failure) << up.dump();
    EXPECT_EQ(up["attempts_request_peak"], per_failure);
    const double at_least = requests - failed + failed * per_failure;
    if (per_failure == 1) {
      EXPECT_EQ(up["attempts"].get<double>(), requests);
    } else {
      EXPECT_GE(up["attempts"].get<double>(), at_least);
      EXPECT_LE(up["attempts"].get<double>(), at_least + 6) << "only requests at the window's end retry and succeed";
    }
    // The service's own log agrees with what the providers saw.
    std::ifstream log(up["service"]["log"].get<std::string>());
    std::string line;
    int logged = 0;
    while (std::getline(log, line)) logged += line.find("\"upstream_attempt\"") != std::string::npos ? 1 : 0;
    EXPECT_EQ(logged, up["attempts"].get<int>());
    EXPECT_TRUE(up["service"]["log"].get<std::string>().ends_with("/service.log"));
  }
  EXPECT_TRUE(service_gone());
}

TEST_F(ServiceRun, AServiceThatExitsAtStartIsReportedWithItsLogAndExitCode5) {
  const auto path = scenario({{"broken", {{"env", {{"MODE", "exit"}}}}}});
  EXPECT_EQ(run_scenario(path), 5) << output();
  EXPECT_NE(output().find("exited"), std::string::npos) << output();
  EXPECT_NE(output().find("service.log"), std::string::npos) << output();
  EXPECT_NE(output().find("no configuration (on purpose)"), std::string::npos) << output();
  const json doc = results();
  EXPECT_EQ(doc["verdict"], "incomplete");
  EXPECT_EQ(doc["not_run"], json::array({"broken"}));
  EXPECT_TRUE(service_gone());
}

TEST_F(ServiceRun, AServiceThatIsNeverReadyIsStoppedAndReported) {
  const auto path = scenario({{"slow", {{"env", {{"MODE", "never_ready"}}}}}});
  EXPECT_EQ(run_scenario(path), 5) << output();
  EXPECT_NE(output().find("not ready"), std::string::npos) << output();
  EXPECT_TRUE(service_gone());
}

TEST_F(ServiceRun, AServiceListeningOnTheWrongPortIsNeverReady) {
  const auto path = scenario({{"wrong", {{"env", {{"MODE", "wrong_port"}}}}}});
  EXPECT_EQ(run_scenario(path), 5) << output();
  EXPECT_NE(output().find("not ready"), std::string::npos) << output();
  EXPECT_TRUE(service_gone());
}

TEST_F(ServiceRun, AServiceThatDiesMidRunEndsTheRunKeepingWhatRan) {
  const auto path = scenario({{"first", {{"env", {{"RETRIES", "0"}}}}},
                              {"dies", {{"env", {{"MODE", "die_after"}, {"DIE_AFTER", "8"}}}}},
                              {"never", json::object()}});
  EXPECT_EQ(run_scenario(path), 5) << output();
  EXPECT_NE(output().find("during the run"), std::string::npos) << output();
  EXPECT_NE(output().find("dying mid-run (on purpose)"), std::string::npos) << output();
  const json doc = results();
  EXPECT_EQ(doc["verdict"], "incomplete");
  ASSERT_EQ(doc["configurations"].size(), 2U);
  EXPECT_EQ(doc["configurations"][1]["incomplete"], true);
  EXPECT_EQ(doc["not_run"], json::array({"never"}));
  EXPECT_TRUE(service_gone());
}

TEST_F(ServiceRun, GarbageAnswersAreFailuresCountedAsBadAnswers) {
  const auto path = scenario({{"garbage", {{"env", {{"MODE", "garbage"}}}}}}, {{"garbage", {{"success_rate_min", 0.5}}}},
                             2, 0, 0);
  EXPECT_EQ(run_scenario(path), 1) << output();
  const json doc = results();
  const json& c = doc["configurations"][0];
  EXPECT_EQ(c["summary"]["succeeded"], 0);
  EXPECT_EQ(c["upstream"]["service_answers"]["bad_answer"].get<double>(), c["summary"]["requests"].get<double>());
  EXPECT_TRUE(service_gone());
}

TEST_F(ServiceRun, AServiceThatIgnoresItsStopSignalIsKilledAfterTheGracePeriod) {
  const auto path = scenario({{"stubborn", {{"env", {{"MODE", "ignore_term"}}}}}}, json::object(), 1, 0, 0);
  EXPECT_EQ(run_scenario(path), 0) << output();
  EXPECT_NE(results()["configurations"][0]["upstream"]["service"]["end"].get<std::string>().find("killed"),
            std::string::npos);
  EXPECT_TRUE(service_gone());
}

TEST_F(ServiceRun, ARemoteBaseUrlIsRefusedBeforeAnythingStarts) {
  json s = json::parse(std::ifstream(scenario({{"x", json::object()}})));
  s["service"].erase("command");
  s["service"].erase("env");
  s["service"].erase("ready");
  s["service"].erase("ready_timeout_ms");
  s["service"].erase("stop");
  s["service"]["configurations"] = {{"x", json::object()}};
  s["service"]["base_url"] = "http://10.1.2.3:8080";
  std::ofstream(dir_ / "scenario.json") << s.dump();
  EXPECT_EQ(run_scenario((dir_ / "scenario.json").string()), 2) << output();
  EXPECT_NE(output().find("$.service.base_url"), std::string::npos) << output();
  EXPECT_NE(output().find("not a loopback address"), std::string::npos) << output();
}


TEST_F(ServiceRun, AnIncidentTraceIsReplayedAgainstTheService) {
  // A trace of an incident: a simulated run whose provider fails every call for 1.5 s.
  json incident = json::parse(std::ifstream(scenario({{"x", json::object()}}, json::object(), 4, 1, 1.5)));
  const json service = incident["service"];
  incident.erase("service");
  incident["policies"] = {{"retry", {{"policies", json::array({{{"type", "retry"}, {"attempts_max", 3}}})}}}};
  std::ofstream(dir_ / "incident.json") << incident.dump();
  const std::string trace = (dir_ / "incident.jsonl").string();
  ASSERT_EQ(run("run '" + (dir_ / "incident.json").string() + "' --trace '" + trace + "' --out '" +
                (dir_ / "sim").string() + "' -q"),
            0)
      << output();
  json block = service;
  block.erase("configurations");
  block["env"]["RETRIES"] = "1";
  std::ofstream(dir_ / "service.json") << block.dump();

  ASSERT_EQ(run("replay '" + trace + "' --service '" + (dir_ / "service.json").string() + "' --out '" +
                (dir_ / "out").string() + "' --no-color"),
            0)
      << output();
  const json doc = results();
  EXPECT_EQ(doc["mode"], "service");
  const json& c = doc["configurations"][0];
  EXPECT_EQ(c["name"], "service");
  // The recorded arrivals were sent, and the rebuilt fault window failed the service's attempts in it.
  EXPECT_EQ(c["summary"]["requests"].get<double>(), 40);
  EXPECT_LT(c["summary"]["success_rate"].get<double>(), 0.9);
  EXPECT_EQ(c["upstream"]["attempts_request_peak"], 2);
  EXPECT_NE(output().find("reproduce: squall replay"), std::string::npos);
  EXPECT_NE(output().find("--service"), std::string::npos);
  EXPECT_TRUE(service_gone());

  // The same as a scenario file to commit: it loads, and names the service.
  ASSERT_EQ(run("trace2scenario '" + trace + "' --service '" + (dir_ / "service.json").string() + "' --out '" +
                (dir_ / "rebuilt.json").string() + "'"),
            0)
      << output();
  EXPECT_EQ(run("validate '" + (dir_ / "rebuilt.json").string() + "'"), 0) << output();
  EXPECT_EQ(run("replay '" + trace + "' --service '" + (dir_ / "service.json").string() +
                "' --policies scenarios/policies/retry-only.json"),
            2);
  EXPECT_NE(output().find("not both"), std::string::npos) << output();
}

TEST_F(ServiceRun, NoServiceOutlivesACrashOfSquall) {
  const auto path = scenario({{"long", {{"env", {{"RETRIES", "0"}}}}}}, json::object(), 60, 0, 0);
  // squall is killed by a crash signal mid-run: no destructor runs, the fatal-signal handler must act.
  const std::string command = "cd '" + std::string(SQUALL_SOURCE_DIR) + "' && ('" + SQUALL_BINARY + "' run '" + path +
                              "' --out '" + (dir_ / "out").string() + "' -q >'" + (dir_ / "out.txt").string() +
                              "' 2>&1 & pid=$!; for i in $(seq 1 100); do [ -s '" + (dir_ / "pid").string() +
                              "' ] && break; sleep 0.1; done; sleep 1; kill -SEGV $pid; wait $pid; echo $? > '" +
                              (dir_ / "status").string() + "')";
  ASSERT_EQ(std::system(command.c_str()), 0);
  ASSERT_TRUE(std::filesystem::exists(dir_ / "pid")) << output();
  EXPECT_NE(slurp(dir_ / "status"), "0\n") << output();
  // The service's group was SIGKILLed before squall died; give the kernel a moment to reap it.
  for (int i = 0; i < 50 && !service_gone(); ++i) ::usleep(100'000);
  EXPECT_TRUE(service_gone()) << output();
}

TEST_F(ServiceRun, CtrlCStopsTheLoadAndTheServiceAndWritesWhatRan) {
  const auto path = scenario({{"long", {{"env", {{"RETRIES", "0"}}}}}, {"next", json::object()}}, json::object(), 60, 0,
                             0);
  const std::string command = "cd '" + std::string(SQUALL_SOURCE_DIR) + "' && ('" + SQUALL_BINARY + "' run '" + path +
                              "' --out '" + (dir_ / "out").string() + "' -q >'" + (dir_ / "out.txt").string() +
                              "' 2>&1 & pid=$!; for i in $(seq 1 100); do [ -s '" + (dir_ / "pid").string() +
                              "' ] && break; sleep 0.1; done; sleep 2; kill -INT $pid; wait $pid; echo $? > '" +
                              (dir_ / "status").string() + "')";
  ASSERT_EQ(std::system(command.c_str()), 0);
  EXPECT_EQ(slurp(dir_ / "status"), "4\n") << output();
  const json doc = results();
  EXPECT_EQ(doc["verdict"], "incomplete");
  ASSERT_EQ(doc["configurations"].size(), 1U);
  EXPECT_GT(doc["configurations"][0]["summary"]["requests"].get<double>(), 5);
  EXPECT_NE(doc["configurations"][0]["upstream"]["service"]["end"].get<std::string>().find("stopped by SIGTERM"),
            std::string::npos);
  EXPECT_EQ(doc["not_run"], json::array({"next"}));
  EXPECT_TRUE(service_gone());
}

TEST_F(ServiceRun, ARequestTheServiceDoesNotAnswerInTimeIsATimeout) {
  json s = json::parse(std::ifstream(scenario({{"slow", {{"env", {{"MODE", "slow"}, {"SLOW_S", "2"}}}}}},
                                              {{"slow", {{"success_rate_min", 0.5}}}}, 1, 0, 0)));
  s["service"]["request"]["timeout_ms"] = 300;
  std::ofstream(dir_ / "scenario.json") << s.dump();
  EXPECT_EQ(run_scenario((dir_ / "scenario.json").string()), 1) << output();
  const json doc = results();
  const json& c = doc["configurations"][0];
  EXPECT_EQ(c["summary"]["succeeded"], 0);
  EXPECT_EQ(c["outcomes"]["timeout"].get<double>(), c["summary"]["requests"].get<double>());
  EXPECT_EQ(c["upstream"]["service_answers"]["timeout"].get<double>(), c["summary"]["requests"].get<double>());
  EXPECT_LT(c["summary"]["latency_max_ms"].get<double>(), 1000) << "timed out at 300 ms, not at the answer";
  EXPECT_TRUE(service_gone());
}

}  // namespace
}  // namespace squall::testing
