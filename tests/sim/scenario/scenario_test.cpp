#include "sim/scenario/scenario.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"

namespace squall::sim {
namespace {

namespace fs = std::filesystem;
const fs::path source_dir = SQUALL_SOURCE_DIR;
const fs::path broken_dir = source_dir / "tests/sim/scenario/broken";

struct broken_case {
  const char* file;
  const char* path;     // the JSON path the message must name ("" when the error has none)
  const char* message;  // a fragment the message must contain
};

// Each broken scenario file, the place its error must name, and what it must say.
const broken_case broken_cases[] = {
    {"syntax-error.json", "", "invalid JSON at line 3, column 13"},
    {"not-an-object.json", "$", "expected an object, got an array"},
    {"unknown-top-key.json", "$", "unknown key \"duraton_s\"; did you mean \"duration_s\"?"},
    {"wrong-type.json", "$.duration_s", "expected a number, got \"600\""},
    {"missing-providers.json", "$", "missing key \"providers\""},
    {"slots-out-of-range.json", "$.providers.openai.capacity.slots", "expected an integer from 1 to"},
    {"unknown-model.json", "$.workload.model", "has no model \"gpt-5-turbo\""},
    {"missing-policy-file.json", "$.policies.baseline", "cannot open the file"},
    {"bad-policy-option.json", "$.policies[0].attempts_max", "expected an integer from 1 to 100, got 0"},
    {"unknown-policy-type.json", "$.policies.baseline.policies[0].type", "unknown policy type \"retyr\""},
    {"error-mix-over-one.json", "$.providers.openai.faults[0].errors", "got a sum of 1.3"},
    {"unknown-assert-metric.json", "$.assert.baseline.succes_rate_min", "unknown metric \"succes_rate\""},
    {"assert-unknown-configuration.json", "$.assert.candidate", "no configuration named \"candidate\""},
    {"unknown-distribution.json", "$.providers.openai.latency.ttft_ms.dist", "got \"gaussian\""},
    {"unknown-outage.json", "$.providers.openai.faults[0].outage", "got \"explode\""},
    {"retry-on-permanent-error.json", "$.policies.baseline.policies[0].retry_on[1]", "never retried"},
    {"arrivals-without-rate.json", "$.workload.arrivals", "missing \"rate_per_s\""},
    {"assert-unknown-fault.json", "$.assert.baseline.during.strom", "no fault window named \"strom\"; expected one of \"storm\""},
    {"assert-window-latency.json", "$.assert.baseline.after.storm.latency_p99_ms_max", "the metrics of a fault window are:"},
    {"duplicate-fault-name.json", "$.providers.openai.faults[1].name", "already named \"storm\""},
    {"assert-during-and-after.json", "$.assert.baseline.during.storm.after", "cannot hold another \"after\""},
};

TEST(Scenario, EveryBrokenFileIsRejectedWithItsPlaceAndReason) {
  std::set<std::string> covered;
  for (const auto& c : broken_cases) {
    SCOPED_TRACE(c.file);
    auto s = load_scenario(broken_dir / c.file);
    ASSERT_FALSE(s.ok());
    const config_error& e = s.error();
    EXPECT_EQ(e.path, c.path);
    EXPECT_NE(e.message.find(c.message), std::string::npos) << e.describe();
    EXPECT_FALSE(e.file.empty());
    covered.insert(c.file);
  }
  // A broken file added to the folder must be added to the table too.
  for (const auto& entry : fs::directory_iterator(broken_dir)) {
    if (entry.path().extension() != ".json") continue;
    EXPECT_TRUE(covered.count(entry.path().filename().string())) << entry.path();
  }
}

TEST(Scenario, ErrorsInsideAPolicyFileNameThatFile) {
  auto s = load_scenario(broken_dir / "bad-policy-option.json");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().file.find("bad-retry.json"), std::string::npos);
}

TEST(Scenario, TheLibraryLoads) {
  int loaded = 0;
  for (const auto& entry : fs::directory_iterator(source_dir / "scenarios")) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    auto s = load_scenario(entry.path());
    ASSERT_TRUE(s.ok()) << s.error().describe();
    EXPECT_GE(s->configurations.size(), 2U) << "every library scenario compares configurations";
    EXPECT_FALSE(s->description.empty());
    ++loaded;
  }
  EXPECT_GE(loaded, 3);
}

TEST(Scenario, DigestChangesWithAPolicyFileNotWithItsPath) {
  auto a = load_scenario(source_dir / "scenarios/quickstart.json");
  auto b = load_scenario(source_dir / "scenarios/../scenarios/quickstart.json");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->digest, b->digest);
  EXPECT_EQ(a->digest.size(), 64U);
}

// {"policy": ..., "reference": "why"} keeps a configuration as a reference (a bad example); the reason
// must be a short text, and the digest covers it.
TEST(Scenario, AConfigurationCanBeKeptAsAReference) {
  auto quickstart = read_json_file(source_dir / "scenarios/quickstart.json");
  ASSERT_TRUE(quickstart.ok());
  json doc = *quickstart;
  const std::string first = doc["policies"].begin().key();
  const json policy = doc["policies"][first];
  doc["policies"][first] = {{"policy", policy}, {"reference", "what not to do"}};
  auto s = parse_scenario(doc, source_dir / "scenarios");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->configurations[0].reference, "what not to do");
  for (std::size_t i = 1; i < s->configurations.size(); ++i) EXPECT_TRUE(s->configurations[i].reference.empty());
  auto plain = parse_scenario(*quickstart, source_dir / "scenarios");
  ASSERT_TRUE(plain.ok());
  EXPECT_NE(s->digest, plain->digest);
  EXPECT_EQ(s->configurations[0].pipeline.policies.size(), plain->configurations[0].pipeline.policies.size());
  for (const json& bad : {json(""), json(true), json(std::string(201, 'x'))}) {
    doc["policies"][first]["reference"] = bad;
    auto e = parse_scenario(doc, source_dir / "scenarios");
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().path, json_path_key(json_path_key("$.policies", first), "reference"));
  }
}

TEST(Scenario, SummaryMetricNamesAreExactlyTheSummaryKeys) {
  scenario s;
  s.duration_s = 1;
  s.drain_s = 1;
  configuration_result r;
  r.metrics = std::make_unique<run_metrics>();
  const summary sum = summarize(r);
  std::vector<std::string> keys;
  for (const auto& kv : sum) keys.push_back(kv.first);
  // A run without a service has every metric but what the providers saw of a service.
  std::vector<std::string> expected = summary_metric_names();
  for (const auto& u : upstream_metric_names()) std::erase(expected, u);
  EXPECT_EQ(keys, expected);
  // A run with one appends those, in the same order.
  for (const auto& u : upstream_metric_names()) r.upstream_summary.emplace_back(u, 1.0);
  keys.clear();
  for (const auto& kv : summarize(r)) keys.push_back(kv.first);
  EXPECT_EQ(keys, summary_metric_names());
}

}  // namespace
}  // namespace squall::sim
