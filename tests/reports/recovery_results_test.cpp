// What the writers make of recovery and of assertions without samples: results.json carries the
// recovery per configuration and no made-up measured value; JUnit, summary.md and `squall report`'s
// reader show and accept them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "reports/junit_xml.hpp"
#include "reports/results.hpp"
#include "reports/results_input.hpp"
#include "reports/summary_markdown.hpp"
#include "tests/reports/run_fixture.hpp"
#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::reports {
namespace {

// 60 s at 50 requests/s; every call fails with 503 from 20 s to 30 s ("storm"). "plain" has no policy
// and recovers at once; "stuck" has a breaker that stays open past the end of the run.
json recovery_results_document() {
  json text = json::parse(R"({
    "name": "recovery-writers", "seed": 3, "duration_s": 60, "drain_s": 5, "interval_s": 1,
    "providers": {"p": {"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 1}},
                        "latency": {"ttft_ms": 50, "ms_per_output_token": 0}, "error_latency_ms": 0,
                        "faults": [{"name": "storm", "at_s": 20, "for_s": 10, "errors": {"503": 1.0}}]}},
    "workload": {"arrivals": {"process": "constant", "rate_per_s": 50}, "output_tokens": 10},
    "policies": {"plain": {"policies": []},
                 "stuck": {"policies": [{"type": "circuit_breaker", "calls_min": 10, "window_size": 10,
                                         "open_ms": 600000}]}},
    "assert": {"plain": {"after": {"storm": {"success_rate_min": 0.99}}},
               "stuck": {"latency_ok_p99_ms_max": 100000, "recovery_s_max": 30,
                         "during": {"storm": {"success_rate_min": 0.5}}}}
  })");
  return testing::run_document(text, 3, "r.json");
}

TEST(RecoveryResults, ResultsCarryRecoveryPerConfigurationAndNoMadeUpNumbers) {
  const json doc = recovery_results_document();
  EXPECT_EQ(doc["scenario"]["faults"][0]["name"], "storm");
  const json& plain = doc["configurations"][0]["recovery"];
  EXPECT_EQ(plain["baseline_success_rate"], 1.0);
  ASSERT_EQ(plain["windows"].size(), 1U);
  EXPECT_EQ(plain["windows"][0]["fault"], "storm");
  EXPECT_EQ(plain["windows"][0]["recovered"], true);
  EXPECT_LE(plain["windows"][0]["recovery_s"].get<double>(), 1.0);
  const json& stuck = doc["configurations"][1]["recovery"]["windows"][0];
  EXPECT_EQ(stuck["recovered"], false);
  EXPECT_TRUE(stuck["recovery_s"].is_null());
  EXPECT_EQ(stuck["note"], "not recovered before the run ended");

  ASSERT_EQ(doc["assertions"].size(), 4U);
  const json& after = doc["assertions"][0];
  EXPECT_EQ(after["scope"], "after");
  EXPECT_EQ(after["fault"], "storm");
  EXPECT_EQ(after["passed"], true);
  // "stuck" answers nothing after the breaker opens at 20.2 s; what it answered before was fine, so its
  // latency percentile has samples. Its recovery and the window's rate fail.
  EXPECT_EQ(doc["assertions"][1]["passed"], true);
  const json& recovery = doc["assertions"][2];
  EXPECT_EQ(recovery["passed"], false);
  EXPECT_FALSE(recovery.contains("measured"));
  EXPECT_NE(recovery["note"].get<std::string>().find("not recovered"), std::string::npos);
  EXPECT_EQ(doc["assertions"][3]["passed"], false);
  // Only the calls sent in the last 50 ms before the storm complete, successfully, inside it.
  EXPECT_LT(doc["assertions"][3]["measured"].get<double>(), 0.01);
  EXPECT_EQ(doc["verdict"], "fail");
}

TEST(RecoveryResults, NoSamplesShowsInJunitAndSummaryAndReadsBack) {
  json doc = recovery_results_document();
  // An assertion on a metric without samples, as results.json writes it.
  doc["assertions"][1] = {{"configuration", "stuck"}, {"metric", "latency_ok_p99_ms"}, {"kind", "max"},
                          {"bound", 5000}, {"note", "no samples: no request succeeded"}, {"passed", false}};
  const std::string xml = junit_xml(doc);
  EXPECT_NE(xml.find("message=\"latency_ok_p99_ms: no samples: no request succeeded; must be &lt;= 5000\""),
            std::string::npos) << xml;
  EXPECT_NE(xml.find("recovery_s_max &lt;= 30"), std::string::npos);
  EXPECT_NE(xml.find("success_rate_min &gt;= 0.5 during storm"), std::string::npos);

  const std::string md = summary_markdown(doc);
  EXPECT_NE(md.find("### Recovery"), std::string::npos) << md;
  EXPECT_NE(md.find("not recovered (not recovered before the run ended)"), std::string::npos) << md;
  EXPECT_NE(md.find("no samples: no request succeeded"), std::string::npos);

  // `squall report` and `squall compare` read the file back: no "measured" is no error when a note says why.
  const auto file = std::filesystem::temp_directory_path() / ("squall-recovery-" + std::to_string(::getpid()) + ".json");
  std::ofstream(file) << doc.dump(2);
  auto loaded = load_results(file.string());
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().describe());
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace squall::reports
