#include "reports/compare.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "reports/junit_xml.hpp"
#include "reports/results_input.hpp"
#include "reports/summary_markdown.hpp"
#include "reports/timeseries_csv.hpp"
#include "tests/reports/run_fixture.hpp"

namespace squall::reports {
namespace {

const json& config(const json& doc, const std::string& name) {
  for (const auto& c : doc["configurations"]) {
    if (c["name"] == name) return c;
  }
  throw std::runtime_error("no configuration " + name);
}

std::vector<std::string> names(const json& doc) {
  std::vector<std::string> out;
  for (const auto& c : doc["configurations"]) out.push_back(c["name"].get<std::string>());
  return out;
}

TEST(Compare, IdenticalCandidatePassesAndMergesSideBySide) {
  const json base = testing::run_scenario(7, 0.5, false);
  auto result = compare_results(base, base);
  ASSERT_TRUE(result.ok()) << result.error().describe();
  EXPECT_TRUE(result->passed());
  EXPECT_TRUE(result->regressions.empty());
  EXPECT_TRUE(result->warnings.empty());
  EXPECT_EQ(result->verdict_text(), "no regression\n");

  const json& m = result->merged;
  EXPECT_FALSE(check_results(m, "merged").has_value()) << check_results(m, "merged")->describe();
  EXPECT_EQ(names(m), (std::vector<std::string>{"base: plain", "candidate: plain", "base: retry", "candidate: retry",
                                                "base: " + testing::odd_name, "candidate: " + testing::odd_name}));
  EXPECT_EQ(m["verdict"], "pass");
  // Six compared metrics for each of the three pairs, all held.
  ASSERT_EQ(m["assertions"].size(), 18U);
  for (const auto& a : m["assertions"]) {
    EXPECT_TRUE(a["passed"].get<bool>()) << a.dump();
    EXPECT_EQ(a["source"], "compare");
  }
  EXPECT_EQ(m["assertions"][0]["name"], "compare: success_rate drop <= 0.5 pp");
  EXPECT_EQ(m["assertions"][0]["configuration"], "candidate: plain");
  EXPECT_EQ(m["compare"]["base"]["seed"], 7);
  EXPECT_EQ(m["compare"]["passed"], true);

  // Every writer renders the merged document.
  const std::string md = summary_markdown(m);
  EXPECT_NE(md.find("| metric | base: plain | candidate: plain | base: retry | candidate: retry |"), std::string::npos);
  // Each candidate column shows its change against the base run of the same configuration, not the first column.
  EXPECT_EQ(m["configurations"][3]["baseline"], "base: retry");
  const auto row_at = md.find("| success rate |");
  ASSERT_NE(row_at, std::string::npos);
  const std::string row = md.substr(row_at, md.find('\n', row_at) - row_at);
  std::vector<std::string> cells;
  for (std::size_t at = 1, next; (next = row.find(" |", at)) != std::string::npos; at = next + 2) cells.push_back(row.substr(at + 1, next - at - 1));
  ASSERT_EQ(cells.size(), 7U) << row;
  EXPECT_TRUE(cells[4].ends_with("(=)")) << row;
  EXPECT_FALSE(cells[3].ends_with("(=)")) << row;  // base: retry against base: plain
  EXPECT_NE(md.find("Changes in brackets are against the base run of the same configuration."), std::string::npos);
  EXPECT_NE(junit_xml(m).find("<testcase name=\"compare: latency_p99_ms growth &lt;= 10%\" classname=\"squall.writers-test.candidate: plain\"/>"),
            std::string::npos) << junit_xml(m);
  std::size_t rows = 0;
  for (const auto& c : base["configurations"]) rows += c["series"]["end_s"].size();
  const std::string csv = timeseries_csv(m);
  EXPECT_EQ(static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')), 2 * rows + 1);
}

// Issue 13: two identical documents with values near 1.7e308 were reported as regressions (the bound
// b + 10% overflowed to inf, which tidy() turned into 0).
TEST(Compare, IdenticalDocumentsWithValuesNearTheLargestDoubleDoNotRegress) {
  json doc = testing::run_scenario(7, 0.5, false);
  for (auto& c : doc["configurations"]) {
    for (const char* metric : {"latency_p50_ms", "latency_p99_ms", "cost_usd", "attempts_per_request"}) {
      c["summary"][metric] = 1.7e308;
    }
  }
  auto same = compare_results(doc, doc);
  ASSERT_TRUE(same.ok()) << same.error().describe();
  EXPECT_TRUE(same->regressions.empty()) << same->verdict_text();
  EXPECT_TRUE(same->passed());
  // Every bound the merged document states is a finite number a results reader accepts.
  EXPECT_FALSE(check_results(same->merged, "merged").has_value());
  for (const auto& a : same->merged["assertions"]) EXPECT_TRUE(std::isfinite(a["bound"].get<double>())) << a.dump();
  // A real growth at that size is still one.
  json worse = doc;
  worse["configurations"][0]["summary"]["latency_p99_ms"] = 1.79e308;
  json smaller = doc;
  smaller["configurations"][0]["summary"]["latency_p99_ms"] = 1.0e308;
  auto grew = compare_results(smaller, worse);
  ASSERT_TRUE(grew.ok());
  EXPECT_FALSE(grew->regressions.empty()) << grew->verdict_text();
}

TEST(Compare, CandidateMadeWorseFailsNamingMeasuredValuesAndTolerance) {
  // The same workload with more of the provider's calls failing: the configuration without retries
  // loses successes; the scenario digest differs, which is worth a warning.
  const json base = testing::run_scenario(7, 0.5);
  const json worse = testing::run_scenario(7, 0.95);
  auto result = compare_results(base, worse);
  ASSERT_TRUE(result.ok()) << result.error().describe();
  EXPECT_FALSE(result->passed());
  ASSERT_EQ(result->warnings.size(), 1U);
  EXPECT_NE(result->warnings[0].find("different scenarios"), std::string::npos);

  const regression* plain = nullptr;
  for (const auto& r : result->regressions) {
    if (r.configuration == "plain" && r.metric == "success_rate") plain = &r;
  }
  ASSERT_NE(plain, nullptr) << result->verdict_text();
  const double b = config(base, "plain")["summary"]["success_rate"].get<double>();
  const double c = config(worse, "plain")["summary"]["success_rate"].get<double>();
  EXPECT_EQ(plain->base, b);
  EXPECT_EQ(plain->candidate, c);
  EXPECT_NEAR(plain->change, (c - b) * 100, 1e-9);
  EXPECT_LT(plain->change, -5);  // 45 more points of failures over a third of the run
  EXPECT_EQ(plain->tolerance, 0.5);
  EXPECT_EQ(plain->unit, "pp");
  EXPECT_NE(plain->describe().find("plain: success_rate fell by "), std::string::npos) << plain->describe();
  EXPECT_NE(plain->describe().find("tolerance 0.5 pp"), std::string::npos);
  EXPECT_NE(result->verdict_text().find("REGRESSION  plain: success_rate fell by"), std::string::npos);

  const json& m = result->merged;
  EXPECT_EQ(m["verdict"], "fail");
  EXPECT_EQ(m["compare"]["passed"], false);
  EXPECT_EQ(m["compare"]["regressions"].size(), result->regressions.size());
  EXPECT_EQ(m["warnings"].size(), 1U);
  const std::string xml = junit_xml(m);
  EXPECT_NE(xml.find("<testcase name=\"compare: success_rate drop &lt;= 0.5 pp\" classname=\"squall.writers-test.candidate: plain\">"),
            std::string::npos) << xml;
  const std::string md = summary_markdown(m);
  EXPECT_NE(md.find("> **warning:** the runs come from different scenarios"), std::string::npos) << md;
  EXPECT_NE(md.find("| \xE2\x9D\x8C | candidate: plain | compare: success_rate drop <= 0.5 pp |"), std::string::npos) << md;
}

TEST(Compare, TolerancesAreBoundsWithSlackForTinyChanges) {
  const json base = testing::run_scenario(7, 0.5, false);
  auto with = [&](const char* metric, double factor, double add = 0) {
    json c = base;
    for (auto& cfg : c["configurations"]) {
      const double v = cfg["summary"][metric].get<double>();
      cfg["summary"][metric] = v * factor + add;
    }
    auto r = compare_results(base, c);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->regressions.size() : 999U;
  };
  EXPECT_EQ(with("latency_p99_ms", 1.09), 0U);
  EXPECT_EQ(with("latency_p99_ms", 1.11), 3U);
  EXPECT_EQ(with("latency_p99_ms", 0.5), 0U);  // better is never a regression
  EXPECT_EQ(with("cost_usd", 1.04), 0U);
  EXPECT_EQ(with("cost_usd", 1.06), 3U);
  EXPECT_EQ(with("attempts_per_request", 1.2), 3U);
  EXPECT_EQ(with("success_rate", 1, -0.004), 0U);
  EXPECT_EQ(with("success_rate", 1, -0.006), 3U);
  EXPECT_EQ(with("degraded_rate", 1, 0.02), 3U);

  // A 2 ms median growing to 6 ms is +200%, but under the 5 ms slack.
  json tiny = base;
  json tiny_worse = base;
  tiny["configurations"][0]["summary"]["latency_p50_ms"] = 2;
  tiny_worse["configurations"][0]["summary"]["latency_p50_ms"] = 6;
  auto r = compare_results(tiny, tiny_worse);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->passed());
  tiny_worse["configurations"][0]["summary"]["latency_p50_ms"] = 8;
  r = compare_results(tiny, tiny_worse);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->regressions.size(), 1U);
  EXPECT_EQ(r->regressions[0].metric, "latency_p50_ms");
  EXPECT_NEAR(r->regressions[0].change, 300, 1e-9);

  compare_tolerances loose;
  loose.latency_p99_growth_pct_max = 50;
  json slower = base;
  for (auto& cfg : slower["configurations"]) cfg["summary"]["latency_p99_ms"] = cfg["summary"]["latency_p99_ms"].get<double>() * 1.4;
  r = compare_results(base, slower, loose);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->passed());
}

TEST(Compare, WithinSeedNoiseIsReportedNotFailed) {
  json base = testing::run_scenario(7, 0.5, false);
  base["configurations"] = json::array({base["configurations"][0]});
  auto stats = [](json& doc, double mean, double sd) {
    doc["configurations"][0]["summary"]["success_rate"] = mean;
    doc["configurations"][0]["summary_stats"] = {{"success_rate", {{"n", 5U}, {"mean", mean}, {"sd", sd}}}};
  };
  json candidate = base;
  stats(base, 0.95, 0.02);
  stats(candidate, 0.94, 0.02);  // 1 pp worse, tolerance 0.5 pp, but the noise is +/-2.9 pp
  auto noisy = compare_results(base, candidate);
  ASSERT_TRUE(noisy.ok());
  EXPECT_TRUE(noisy->passed());
  ASSERT_EQ(noisy->within_noise.size(), 1U);
  // Welch: df = 8, t = 2.306004135, half-width = t * sqrt(2 * 0.02^2 / 5).
  EXPECT_NEAR(noisy->within_noise[0].noise, 2.306004135 * std::sqrt(2 * 0.0004 / 5), 1e-9);
  EXPECT_NE(noisy->merged["assertions"][0]["note"].get<std::string>().find("within seed noise"), std::string::npos);
  EXPECT_TRUE(noisy->merged["assertions"][0]["passed"].get<bool>());

  stats(base, 0.95, 0.001);
  stats(candidate, 0.94, 0.001);  // the same drop, now far beyond the noise
  auto clear = compare_results(base, candidate);
  ASSERT_TRUE(clear.ok());
  EXPECT_FALSE(clear->passed());
  EXPECT_TRUE(clear->within_noise.empty());
}

TEST(Compare, PairsByNameOrTheOnlyConfigurationsAndWarnsAboutUnpaired) {
  json base = testing::run_scenario(7, 0.5, false);
  json candidate = base;
  candidate["configurations"].erase(2);
  auto r = compare_results(base, candidate);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->warnings.size(), 1U);
  EXPECT_EQ(r->warnings[0], "configuration \"odd, \\\"quoted\\\" <name> & co\" is only in the base run");
  EXPECT_EQ(r->merged["configurations"].size(), 5U);

  json one_a = base, one_b = base;
  one_a["configurations"] = json::array({base["configurations"][0]});
  one_b["configurations"] = json::array({base["configurations"][1]});
  r = compare_results(one_a, one_b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->warnings.at(0), "no configuration name in common; comparing base \"plain\" with candidate \"retry\"");
  EXPECT_EQ(names(r->merged), (std::vector<std::string>{"base: plain", "candidate: retry"}));

  json two_b = base;
  two_b["configurations"] = json::array({base["configurations"][1], base["configurations"][2]});
  two_b["configurations"][0]["name"] = "x";
  two_b["configurations"][1]["name"] = "y";
  r = compare_results(one_a, two_b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().describe(), "candidate: $.configurations: no configuration to compare: base has \"plain\", candidate has \"x\", \"y\"");
}

TEST(Compare, BadInputIsAnErrorValue) {
  const json good = testing::run_scenario(7, 0.5, false);
  auto r = compare_results(json::array(), good);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().file, "base");
  EXPECT_EQ(r.error().path, "$");
  json old = good;
  old["format"] = "squall-results/0";
  r = compare_results(good, old);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().file, "candidate");
  EXPECT_EQ(r.error().path, "$.format");
  compare_tolerances negative;
  negative.cost_growth_pct_max = -1;
  r = compare_results(good, good, negative);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().path, "$.cost_growth_pct_max");
}

TEST(Compare, ParsesTolerancesFromJson) {
  auto t = parse_tolerances(json::parse(R"({"success_rate_drop_pp_max": 2, "latency_p99_growth_pct_max": 25})"), "t.json");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->success_rate_drop_pp_max, 2);
  EXPECT_EQ(t->latency_p99_growth_pct_max, 25);
  EXPECT_EQ(t->cost_growth_pct_max, 5);  // the default
  auto negative = parse_tolerances(json::parse(R"({"cost_growth_pct_max": -1})"), "t.json");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().file, "t.json");
  EXPECT_EQ(negative.error().path, "$.cost_growth_pct_max");
  auto unknown = parse_tolerances(json::parse(R"({"p99_growth": 1})"), "t.json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().path, "$");
  EXPECT_NE(unknown.error().message.find("unknown key \"p99_growth\""), std::string::npos) << unknown.error().message;
}

}  // namespace
}  // namespace squall::reports
