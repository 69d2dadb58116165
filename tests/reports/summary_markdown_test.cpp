#include "reports/summary_markdown.hpp"

#include <gtest/gtest.h>

#include <string>

#include "reports/format.hpp"
#include "tests/reports/run_fixture.hpp"

namespace squall::reports {
namespace {

std::string line_starting(const std::string& text, const std::string& prefix) {
  const auto at = text.find("\n" + prefix);
  if (at == std::string::npos) return "";
  return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

TEST(SummaryMarkdown, HeadsWithScenarioSeedReproduceAndVerdict) {
  const json doc = testing::run_scenario();
  ASSERT_EQ(doc["verdict"], "fail");
  const std::string md = summary_markdown(doc);
  EXPECT_TRUE(md.starts_with("## squall: writers-test \xE2\x80\x94 \xE2\x9D\x8C fail\n")) << md;
  EXPECT_NE(md.find("seed 7"), std::string::npos);
  EXPECT_NE(md.find("Reproduce: `squall run writers-test.json --seed 7`"), std::string::npos) << md;
  EXPECT_NE(md.find("Faults: `p.faults[0]` (p) 20\xE2\x80\x93" "40 s: 50% 503"), std::string::npos) << md;
}

TEST(SummaryMarkdown, TableHasOneColumnPerConfigurationWithTheDifferenceToTheFirst) {
  const json doc = testing::run_scenario();
  const std::string md = summary_markdown(doc);
  EXPECT_NE(md.find("| metric | plain | retry | odd, \"quoted\" <name> & co |\n|---|---:|---:|---:|\n"), std::string::npos) << md;
  for (const char* label : {"success rate", "degraded rate", "latency p50", "latency p95", "latency p99", "latency p99.9",
                            "attempts / request", "cache hit rate", "breaker openings", "cost", "cost / success",
                            "cost wasted"}) {
    const std::string row = line_starting(md, std::string("| ") + label + " |");
    EXPECT_FALSE(row.empty()) << label << "\n" << md;
  }
  // The success-rate row: plain's value, then retry's value with its change in points.
  const auto& plain = doc["configurations"][0]["summary"];
  const auto& retry = doc["configurations"][1]["summary"];
  const double p = plain["success_rate"].get<double>(), r = retry["success_rate"].get<double>();
  const std::string expected = "| success rate | " + format_value(p, unit::percent) + " | " + format_value(r, unit::percent) +
                               " (" + format_delta(p, r, unit::percent) + ") |";
  EXPECT_TRUE(line_starting(md, "| success rate |").starts_with(expected)) << expected << "\n" << md;
  EXPECT_GT(r, p);  // the retry helped during the fault window
  EXPECT_NE(md.find("| retries |"), std::string::npos);  // shown because the retry configuration retried
}

TEST(SummaryMarkdown, ListsEveryAssertionWithItsResult) {
  const json doc = testing::run_scenario();
  const std::string md = summary_markdown(doc);
  EXPECT_NE(md.find("### Assertions: 2 of 3 passed"), std::string::npos) << md;
  EXPECT_NE(md.find("| \xE2\x9C\x85 | retry | success_rate_min >= 0.9 | "), std::string::npos) << md;
  EXPECT_NE(md.find("| \xE2\x9D\x8C | plain | success_rate_min >= 0.99 | "), std::string::npos) << md;
  const std::string md_none = summary_markdown(testing::run_scenario(7, 0.5, false));
  EXPECT_NE(md_none.find("No assertions."), std::string::npos);
  EXPECT_NE(md_none.find("\xE2\x9C\x85 pass"), std::string::npos);
}

TEST(SummaryMarkdown, PipesInNamesDoNotBreakTheTable) {
  json doc = testing::run_scenario();
  doc["configurations"][0]["name"] = "a|b";
  EXPECT_NE(summary_markdown(doc).find("| metric | a\\|b | retry |"), std::string::npos);
}

TEST(SummaryMarkdown, SameDocumentSameBytes) {
  EXPECT_EQ(summary_markdown(testing::run_scenario(5)), summary_markdown(testing::run_scenario(5)));
}

}  // namespace
}  // namespace squall::reports
