#include "reports/aggregate.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "reports/html/report_html.hpp"
#include "reports/results.hpp"
#include "reports/results_input.hpp"
#include "reports/statistics.hpp"
#include "reports/summary_markdown.hpp"
#include "reports/timeseries_csv.hpp"
#include "tests/reports/run_fixture.hpp"

namespace squall::reports {
namespace {

TEST(Statistics, StudentTQuantiles) {
  EXPECT_NEAR(student_t_975(1), 12.7062047, 1e-6);
  EXPECT_NEAR(student_t_975(2), 4.3026527, 1e-6);
  EXPECT_NEAR(student_t_975(10), 2.2281389, 1e-6);
  EXPECT_NEAR(student_t_975(30), 2.0422725, 1e-6);
  EXPECT_NEAR(student_t_975(40), 2.0210754, 1e-6);
  EXPECT_NEAR(student_t_975(120), 1.9799304, 1e-6);
  EXPECT_NEAR(student_t_975(1e9), 1.9599640, 1e-6);
  EXPECT_EQ(student_t_975(2.7), student_t_975(2));  // a Welch df rounds down, to the wider interval
  EXPECT_EQ(student_t_975(0), std::numeric_limits<double>::infinity());
  // Monotone: more degrees of freedom, narrower interval, across the table's end.
  for (double df = 1; df < 200; ++df) EXPECT_GT(student_t_975(df), student_t_975(df + 1)) << df;
}

TEST(Statistics, SampleMeanSdAndInterval) {
  const std::vector<double> v = {1, 2, 3, 4};
  const auto s = describe_sample(v);
  EXPECT_EQ(s.n, 4U);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_NEAR(s.sd, std::sqrt(5.0 / 3.0), 1e-12);  // squares 2.25+0.25+0.25+2.25 = 5, over n-1 = 3
  // t(0.975, 3) = 3.182446305; half-width = t * sd / sqrt(4).
  EXPECT_NEAR(s.ci95_low, 2.5 - 3.182446305 * 1.2909944487 / 2, 1e-9);
  EXPECT_NEAR(s.ci95_high, 4.5542603, 1e-7);
  const std::vector<double> one = {7};
  const auto single = describe_sample(one);
  EXPECT_EQ(single.sd, 0);
  EXPECT_EQ(single.ci95_low, 7);
  EXPECT_EQ(single.ci95_high, 7);
  // Welch with equal n = 5 and sd: df = 8.
  EXPECT_NEAR(welch_half_width_95(5, 0.02, 5, 0.02), 2.306004135 * std::sqrt(0.0004 / 5 * 2), 1e-12);
  EXPECT_EQ(welch_half_width_95(1, 0.02, 5, 0.02), 0);
  EXPECT_EQ(welch_half_width_95(5, 0, 5, 0), 0);
}

// A results document small enough to check by hand, built on a real one so that it stays valid.
json hand_made(std::uint64_t seed, double success_rate, std::vector<int> offered, bool passed) {
  static const json real = testing::run_scenario(7);
  json d = real;
  d["seed"] = seed;
  d["configurations"] = json::array({real["configurations"][0]});
  json& c = d["configurations"][0];
  c["summary"] = {{"success_rate", success_rate}, {"retries", static_cast<double>(seed)}};
  c["series"] = {{"end_s", json::array()}, {"offered", offered}, {"outcomes", {{"ok", offered}}}};
  for (std::size_t i = 0; i < offered.size(); ++i) c["series"]["end_s"].push_back(5.0 * static_cast<double>(i + 1));
  c["outcomes"] = {{"ok", offered[0]}};
  d["assertions"] = json::array({{{"configuration", "plain"}, {"metric", "success_rate"}, {"kind", "min"},
                                  {"bound", 0.95}, {"measured", success_rate}, {"passed", passed}}});
  d["verdict"] = passed ? "pass" : "fail";
  return d;
}

TEST(Aggregate, MeansDeviationsAndIntervalsMatchHandComputedValues) {
  auto agg = aggregate_seeds({hand_made(1, 0.90, {10, 20}, false), hand_made(2, 0.92, {20, 30}, false),
                              hand_made(3, 0.97, {30, 40, 50}, true)});
  ASSERT_TRUE(agg.ok()) << agg.error().describe();
  const json& d = *agg;
  EXPECT_FALSE(check_results(d, "aggregate").has_value());
  EXPECT_EQ(d["aggregate"]["runs"], 3);
  EXPECT_EQ(d["aggregate"]["seeds"], json::array({1, 2, 3}));
  EXPECT_EQ(d["seed"], 1);
  const json& c = d["configurations"][0];
  // success_rate: mean 0.93; deviations -0.03, -0.01, +0.04 -> sd = sqrt(0.0026 / 2) = 0.0360555;
  // half-width = t(0.975, 2) * sd / sqrt(3) = 4.302652730 * 0.0208167 = 0.0895669; stored to 6 digits.
  EXPECT_NEAR(c["summary"]["success_rate"].get<double>(), 0.93, 1e-12);
  const json& s = c["summary_stats"]["success_rate"];
  EXPECT_EQ(s["n"], 3);
  EXPECT_NEAR(s["sd"].get<double>(), 0.0360555, 1e-6);
  EXPECT_NEAR(s["ci95_low"].get<double>(), 0.93 - 0.0895669, 1e-5);
  EXPECT_NEAR(s["ci95_high"].get<double>(), 0.93 + 0.0895669, 1e-5);
  // retries were 1, 2, 3: mean 2, sd 1, half-width 4.302652730 / sqrt(3) = 2.484138.
  EXPECT_EQ(c["summary"]["retries"], 2);
  EXPECT_NEAR(c["summary_stats"]["retries"]["ci95_high"].get<double>(), 4.484138, 1e-5);
  // Series: element-wise means, cut to the shortest run.
  EXPECT_EQ(c["series"]["offered"], json::array({20, 30}));
  EXPECT_EQ(c["series"]["outcomes"]["ok"], json::array({20, 30}));
  EXPECT_EQ(c["series"]["end_s"], json::array({5, 10}));
  EXPECT_EQ(c["outcomes"]["ok"], 20);
  // The assertion is re-checked on the mean (0.93 < 0.95) and counts the single runs that held it.
  const json& a = d["assertions"][0];
  EXPECT_NEAR(a["measured"].get<double>(), 0.93, 1e-12);
  EXPECT_EQ(a["passed"], false);
  EXPECT_EQ(a["passed_runs"], 1);
  EXPECT_EQ(a["runs"], 3);
  EXPECT_EQ(d["verdict"], "fail");
}

// Every writer shows a multi-seed run as means with their intervals, and names the seeds, not the first
// run's seed alone: summary.md, the terminal's table and the HTML report say the same.
TEST(Aggregate, EveryWriterShowsTheIntervalsAndTheSeeds) {
  auto agg = aggregate_seeds({hand_made(1, 0.90, {10, 20}, false), hand_made(2, 0.92, {20, 30}, false),
                              hand_made(3, 0.97, {30, 40, 50}, true)});
  ASSERT_TRUE(agg.ok()) << agg.error().describe();
  const json& c = (*agg)["configurations"][0];
  const json& s = c["summary_stats"]["success_rate"];
  char expected[64];
  std::snprintf(expected, sizeof expected, "\xC2\xB1 %.2f pp",
                (s["ci95_high"].get<double>() - s["ci95_low"].get<double>()) / 2 * 100);
  EXPECT_STREQ(expected, "\xC2\xB1 8.96 pp");  // 0.0895669 from the hand computation above
  const std::string terminal = summary_table(*agg, false);
  EXPECT_NE(terminal.find(std::string("93.00% ") + expected), std::string::npos) << terminal;
  const std::string md = summary_markdown(*agg);
  EXPECT_NE(md.find(std::string("93.00% ") + expected), std::string::npos) << md;
  const std::string html = report_html(*agg);
  EXPECT_NE(html.find(std::string("93.00%<small> ") + expected + " success</small>"), std::string::npos) << "card";
  EXPECT_NE(html.find(std::string(">93.00% ") + expected), std::string::npos) << "table";
  EXPECT_NE(html.find("<b>seeds</b> 1, 2, 3 (means"), std::string::npos);
  EXPECT_EQ(html.find("<b>seed</b> "), std::string::npos);
  // A single run has no interval to show.
  EXPECT_EQ(summary_table(hand_made(1, 0.90, {10, 20}, false), false).find("\xC2\xB1"), std::string::npos);
}

TEST(Aggregate, RealRunsOnThreeSeeds) {
  std::vector<json> runs = {testing::run_scenario(1), testing::run_scenario(2), testing::run_scenario(3)};
  auto agg = aggregate_seeds(runs);
  ASSERT_TRUE(agg.ok()) << agg.error().describe();
  const json& d = *agg;
  EXPECT_FALSE(check_results(d, "aggregate").has_value());
  for (std::size_t k = 0; k < runs[0]["configurations"].size(); ++k) {
    for (const char* metric : {"success_rate", "latency_p99_ms", "cost_usd", "requests"}) {
      double sum = 0;
      for (const auto& r : runs) sum += r["configurations"][k]["summary"][metric].get<double>();
      const double got = d["configurations"][k]["summary"][metric].get<double>();
      EXPECT_NEAR(got, sum / 3, std::fabs(sum / 3) * 1e-5) << metric;
      const json& s = d["configurations"][k]["summary_stats"][metric];
      EXPECT_LE(s["ci95_low"].get<double>(), got);
      EXPECT_GE(s["ci95_high"].get<double>(), got);
    }
  }
  // Different seeds draw different Poisson arrivals, so the request count has spread.
  EXPECT_GT(d["configurations"][0]["summary_stats"]["requests"]["sd"].get<double>(), 0);
  const std::string md = summary_markdown(d);
  EXPECT_NE(md.find("Means over 3 seeds (1, 2, 3)"), std::string::npos) << md;
  EXPECT_NE(md.find(" \xC2\xB1 "), std::string::npos);
  EXPECT_FALSE(timeseries_csv(d).empty());
  // Deterministic: the same runs give the same document.
  auto again = aggregate_seeds(runs);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->dump(), d.dump());
}

TEST(Aggregate, RefusesWhatCannotBeAggregated) {
  const json a = testing::run_scenario(1, 0.5, false);
  auto one = aggregate_seeds({a});
  ASSERT_FALSE(one.ok());
  EXPECT_EQ(one.error().message, "aggregating seeds needs at least 2 runs, got 1");

  const json other_scenario = testing::run_scenario(2, 0.6, false);
  auto mixed = aggregate_seeds({a, other_scenario});
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.error().file, "run 1");
  EXPECT_EQ(mixed.error().path, "$.scenario.digest");

  json reordered = testing::run_scenario(2, 0.5, false);
  std::swap(reordered["configurations"][0], reordered["configurations"][1]);
  auto order = aggregate_seeds({a, reordered});
  ASSERT_FALSE(order.ok());
  EXPECT_EQ(order.error().path, "$.configurations");

  auto invalid = aggregate_seeds({a, json::object()});
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().file, "run 1");
}

}  // namespace
}  // namespace squall::reports
