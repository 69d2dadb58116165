// The example services of examples/ under the scenarios of scenarios/, through the binary, end to end:
// a Node service on the official openai npm client, and a Python service (aiohttp from Debian) with its
// own breaker, backoff and fallback. What squall's fake providers saw is checked against what the SDK
// is documented to do and against each service's own log of its attempts.

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/squall_binary_test.hpp"

namespace squall::testing {
namespace {

using json = nlohmann::ordered_json;

class Examples : public squall_binary_test {
 protected:
  int run_scenario(const std::string& scenario) {
    return run("run scenarios/" + scenario + " --out '" + (dir_ / "out").string() + "' --no-color");
  }
  json results() const {
    std::ifstream in(dir_ / "out" / "results.json");
    return json::parse(in);
  }
  static const json& configuration(const json& doc, const std::string& name) {
    for (const auto& c : doc["configurations"]) {
      if (c["name"] == name) return c;
    }
    throw std::runtime_error("no configuration " + name);
  }
  // How many user requests made n attempts, by the service's own log ("request_done" lines).
  static std::map<std::string, int> logged_histogram(const json& config) {
    std::ifstream log(config["upstream"]["service"]["log"].get<std::string>());
    std::map<std::string, int> histogram;
    std::string line;
    while (std::getline(log, line)) {
      if (line.empty() || line[0] != '{') continue;
      const json entry = json::parse(line, nullptr, false);
      if (entry.is_discarded() || entry.value("event", "") != "request_done") continue;
      ++histogram[std::to_string(entry["attempts"].get<int>())];
    }
    return histogram;
  }
  static std::map<std::string, int> provider_histogram(const json& config) {
    std::map<std::string, int> histogram;
    for (const auto& [n, count] : config["upstream"]["attempts_per_request_histogram"].items()) {
      histogram[n] = count.get<int>();
    }
    return histogram;
  }
};

TEST_F(Examples, NodeOpenAiSdkRetriesA503TwiceWithItsOwnBackoff) {
  ASSERT_EQ(run_scenario("node-openai-503-storm.json"), 0) << output();
  const json doc = results();
  const json& sdk = configuration(doc, "sdk-default-retries");
  const json& up = sdk["upstream"];
  // Every attempt was attributed by the prompt marker (the service forwards no header).
  EXPECT_EQ(up["unattributed"], 0);
  EXPECT_EQ(up["attributed"]["prompt_marker"], up["attempts"]);
  // A request the storm failed made three attempts: maxRetries 2.
  ASSERT_LT(sdk["summary"]["success_rate"].get<double>(), 1.0);
  EXPECT_EQ(up["attempts_per_failed_request"], 3);
  EXPECT_EQ(up["attempts_request_peak"], 3);
  // The SDK's backoff: 0.5 s then 1 s, each with up to 25% taken off (the provider sends no retry-after on
  // these 503s). The pause is measured from the end of one attempt to the arrival of the next, so the
  // SDK's own time to send again adds a little.
  const json& before = up["retry_delays"]["before_attempt"];
  EXPECT_GE(before["2"]["min_ms"].get<double>(), 375.0 - 5) << before.dump();
  EXPECT_LE(before["2"]["max_ms"].get<double>(), 500.0 + 60) << before.dump();
  EXPECT_GE(before["3"]["min_ms"].get<double>(), 750.0 - 5) << before.dump();
  EXPECT_LE(before["3"]["max_ms"].get<double>(), 1000.0 + 60) << before.dump();
  // The service's own log counts the same attempts per request.
  EXPECT_EQ(logged_histogram(sdk), provider_histogram(sdk));

  const json& none = configuration(doc, "no-retries");
  EXPECT_EQ(none["upstream"]["attempts_request_peak"], 1);
  EXPECT_EQ(none["upstream"]["attempts"], none["summary"]["requests"]);
  EXPECT_EQ(logged_histogram(none), provider_histogram(none));
  EXPECT_LT(none["summary"]["success_rate"].get<double>(), sdk["summary"]["success_rate"].get<double>());
}

TEST_F(Examples, NodeOpenAiSdkHonoursRetryAfterMs) {
  ASSERT_EQ(run_scenario("node-openai-429-storm.json"), 0) << output();
  const json doc = results();
  const json& sdk = configuration(doc, "sdk-default-retries");
  const json& delays = sdk["upstream"]["retry_delays"];
  // retry-after-ms: 1500 on every 429 of the storm, instead of the SDK's own 0.5 s and 1 s.
  EXPECT_GE(delays["min_ms"].get<double>(), 1500.0 - 5) << delays.dump();
  EXPECT_LE(delays["max_ms"].get<double>(), 1500.0 + 60) << delays.dump();
  EXPECT_EQ(logged_histogram(sdk), provider_histogram(sdk));
}

TEST_F(Examples, PythonServiceWithAndWithoutItsBreakerInOneReport) {
  ASSERT_EQ(run_scenario("python-breaker-503-storm.json"), 0) << output();
  const json doc = results();
  const json& with = configuration(doc, "with-breaker");
  const json& without = configuration(doc, "without-breaker");
  // The service forwards x-squall-request-id: attributed by the header.
  for (const json* c : {&with, &without}) {
    EXPECT_EQ((*c)["upstream"]["unattributed"], 0);
    EXPECT_EQ((*c)["upstream"]["attributed"]["header"], (*c)["upstream"]["attempts"]);
    EXPECT_EQ(logged_histogram(*c), provider_histogram(*c));
  }
  // Both sides differ the way a breaker makes them differ: the providers see fewer attempts, the users
  // wait less.
  EXPECT_LT(with["upstream"]["attempts"].get<double>(), without["upstream"]["attempts"].get<double>());
  EXPECT_LT(with["summary"]["latency_p95_ms"].get<double>(), without["summary"]["latency_p95_ms"].get<double>());
  // Without a breaker, a request in the storm spends RETRY_ATTEMPTS (3) on the failing primary, then asks
  // the fallback: four attempts.
  EXPECT_EQ(without["upstream"]["attempts_request_peak"], 4);
  const std::string report = slurp(dir_ / "out" / "report.html");
  EXPECT_NE(report.find("What the providers saw"), std::string::npos);
  EXPECT_NE(report.find("provider attempts / request"), std::string::npos);
  const std::string summary = slurp(dir_ / "out" / "summary.md");
  EXPECT_NE(summary.find("provider attempts"), std::string::npos);
}

}  // namespace
}  // namespace squall::testing
