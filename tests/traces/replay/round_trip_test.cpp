// The "done when", through the squall binary: a live run of a scripted fault scenario writes a
// trace; replaying the trace with the same policy gives the same success rate (within 2 points) and p95
// latency (within 10%), and the fault windows found are the scripted ones (within one window); another
// policy shows a different result. Also the commands' errors and exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/support/squall_binary_test.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class Replay : public squall::testing::squall_binary_test {
 protected:
  json load(const fs::path& file) {
    std::ifstream in(file);
    return json::parse(in);
  }
  std::string path(const std::string& name) { return (dir_ / name).string(); }
};

const json& summary_of(const json& results, const std::string& configuration) {
  for (const auto& c : results["configurations"]) {
    if (c["name"] == configuration) return c["summary"];
  }
  static const json none;
  ADD_FAILURE() << "no configuration " << configuration;
  return none;
}

TEST_F(Replay, ALiveRunsTraceReplaysToTheSameResultAndFaultWindows) {
  const std::string scenario = "tests/traces/replay/round-trip.json";
  ASSERT_EQ(run("run " + scenario + " -q --mode live --trace " + path("live.jsonl") + " --out " + path("live")), 0)
      << output();
  // The replay gets the recorded run's seed (5): the same requests then draw the same provider numbers
  // (common random numbers), so the comparison measures the reconstruction, not the luck of the draws.
  ASSERT_EQ(run("replay " + path("live.jsonl") +
                " -q --seed 5 --policies scenarios/policies/retry-only.json scenarios/policies/no-retry.json --out " +
                path("replay")),
            0)
      << output();
  const json recorded = load(dir_ / "live/results.json");
  const json& original = summary_of(recorded, "retry-only");
  const json replayed = load(dir_ / "replay/results.json");
  const json& same = summary_of(replayed, "retry-only");
  const json& other = summary_of(replayed, "no-retry");
  EXPECT_EQ(same["requests"], original["requests"]);
  const double success = original["success_rate"];
  EXPECT_NEAR(same["success_rate"].get<double>(), success, 0.02);
  const double p95 = original["latency_p95_ms"];
  EXPECT_NEAR(same["latency_p95_ms"].get<double>(), p95, 0.10 * p95);
  // Without retries, the 503 window costs about 70% of its requests: the replay shows it.
  EXPECT_LT(other["success_rate"].get<double>(), success - 0.05);
  EXPECT_DOUBLE_EQ(other["attempts_per_request"].get<double>(), 1.0);

  // The fault windows found are the scripted ones, to within one window (1 s here).
  ASSERT_EQ(run("trace2scenario " + path("live.jsonl") + " --out " + path("s.json")), 0) << output();
  const json rebuilt = load(dir_ / "s.json");
  const json& faults = rebuilt["providers"]["openai"]["faults"];
  ASSERT_EQ(faults.size(), 2u) << faults.dump();
  EXPECT_NEAR(faults[0]["at_s"].get<double>(), 6, 1.0);
  EXPECT_NEAR(faults[0]["at_s"].get<double>() + faults[0]["for_s"].get<double>(), 12, 1.0);
  EXPECT_NEAR(faults[0]["errors"]["503"].get<double>(), 0.7, 0.07);
  EXPECT_NEAR(faults[1]["at_s"].get<double>(), 16, 1.0);
  EXPECT_NEAR(faults[1]["at_s"].get<double>() + faults[1]["for_s"].get<double>(), 22, 1.0);
  EXPECT_NEAR(faults[1]["latency_x"].get<double>(), 4, 0.5);
  EXPECT_EQ(run("validate " + path("s.json")), 0) << output();
}

TEST_F(Replay, Trace2scenarioWritesAScenarioThatRunsWithPolicyPathsRelativeToIt) {
  ASSERT_EQ(run("run tests/traces/replay/round-trip.json -q --trace " + path("sim.jsonl") + " --out " + path("sim")), 0)
      << output();
  fs::create_directories(dir_ / "lib");
  ASSERT_EQ(run("trace2scenario " + path("sim.jsonl") + " --name incident --out " + path("lib/incident.json") +
                " --policies scenarios/policies/retry-only.json"),
            0)
      << output();
  EXPECT_NE(output().find("[     6.0 s,     12.0 s)"), std::string::npos) << output();
  const json doc = load(dir_ / "lib/incident.json");
  EXPECT_EQ(doc["name"], "incident");
  EXPECT_EQ(doc["workload"]["arrivals"]["process"], "recorded");
  // The policy path is written relative to the scenario, as the scenario library writes them.
  const std::string policy = doc["policies"]["retry-only"];
  EXPECT_TRUE(fs::exists(dir_ / "lib" / policy)) << policy;
  EXPECT_EQ(run("run " + path("lib/incident.json") + " -q --out " + path("o")), 0) << output();
}

TEST_F(Replay, BadInputIsExitTwoAndUnwritableOutputExitThree) {
  EXPECT_EQ(run("replay " + path("missing.jsonl")), 2);
  EXPECT_NE(output().find("missing.jsonl"), std::string::npos) << output();
  {
    std::ofstream t(dir_ / "retries.jsonl");
    t << "{\"squall_trace\": 1, \"source\": \"import\"}\n"
      << "{\"t_ms\": 5, \"attempt\": 2, \"status\": 200, \"latency_ms\": 100}\n";
  }
  EXPECT_EQ(run("replay " + path("retries.jsonl")), 2);
  EXPECT_NE(output().find("no first attempts"), std::string::npos) << output();
  {
    std::ofstream t(dir_ / "truncated.jsonl");
    t << "{\"squall_trace\": 1, \"source\": \"import\"}\n{\"t_ms\": 5, \"attempt\": 1, \"sta";
  }
  EXPECT_EQ(run("trace2scenario " + path("truncated.jsonl") + " --out " + path("t.json")), 2);
  EXPECT_FALSE(fs::exists(dir_ / "t.json"));
  {
    std::ofstream t(dir_ / "ok.jsonl");
    t << "{\"squall_trace\": 1, \"source\": \"import\"}\n"
      << "{\"t_ms\": 5, \"attempt\": 1, \"status\": 200, \"latency_ms\": 100}\n";
  }
  EXPECT_EQ(run("replay " + path("ok.jsonl") + " --policies " + path("nope.json")), 2);
  EXPECT_NE(output().find("nope.json"), std::string::npos) << output();
  EXPECT_EQ(run("replay " + path("ok.jsonl") + " --window-s 0"), 2);
  EXPECT_EQ(run("trace2scenario " + path("ok.jsonl") + " --out " + path("no/such/dir/s.json")), 3) << output();
  EXPECT_EQ(run("replay " + path("ok.jsonl") + " -q --out " + path("r")), 0) << output();
}

}  // namespace
