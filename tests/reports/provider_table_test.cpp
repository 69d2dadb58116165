// Per-provider figures in results.json, aggregated over seeds, and in the Markdown summary.
#include "reports/provider_table.hpp"

#include <gtest/gtest.h>

#include <string>

#include "reports/aggregate.hpp"
#include "reports/summary_markdown.hpp"
#include "tests/reports/run_fixture.hpp"

namespace squall::reports {
namespace {

// One configuration with one provider whose queue wait figures are round numbers.
json provider_doc(std::uint64_t seed, double mean_ms, double share) {
  json doc = testing::run_scenario(seed, 0.5, false);
  json& p = doc["configurations"][0]["providers"][0];
  p["queue_waited_share"] = share;
  p["queue_wait_mean_ms"] = mean_ms;
  p["queue_wait_p50_ms"] = mean_ms / 2;
  p["queue_wait_p90_ms"] = mean_ms * 2;
  p["queue_wait_p99_ms"] = mean_ms * 4;
  return doc;
}

TEST(ProviderFigures, ResultsJsonHasQueueWaitPerProvider) {
  const json doc = testing::run_scenario();
  for (const auto& c : doc["configurations"]) {
    ASSERT_EQ(c["providers"].size(), 1U) << c["name"];
    const json& p = c["providers"][0];
    EXPECT_EQ(p["name"], "p");
    for (const char* key : {"busy_max", "queue_max", "service_started", "queue_waited_share", "queue_wait_mean_ms",
                            "queue_wait_p50_ms", "queue_wait_p90_ms", "queue_wait_p99_ms"}) {
      EXPECT_TRUE(p.contains(key) && p[key].is_number()) << key;
    }
    // 1,000 slots for 20 requests/s: nobody waits, and every attempt started service.
    EXPECT_EQ(p["queue_waited_share"], 0);
    EXPECT_EQ(p["queue_wait_p99_ms"], 0);
    EXPECT_GT(p["service_started"].get<double>(), 1000);
  }
}

TEST(ProviderFigures, OneRowPerConfigurationAndProviderInReadingUnits) {
  const provider_table t = provider_figures(provider_doc(7, 120, 0.25));
  ASSERT_EQ(t.header.size(), 9U);
  EXPECT_EQ(t.header[4], "waited");
  ASSERT_EQ(t.rows.size(), 3U) << "three configurations, one provider each";
  const auto& row = t.rows[0];
  EXPECT_EQ(row[0], "plain");
  EXPECT_EQ(row[1], "p");
  EXPECT_EQ(row[4], "25.00%");
  EXPECT_EQ(row[5], "120 ms");
  EXPECT_EQ(row[6], "60 ms");
  EXPECT_EQ(row[7], "240 ms");
  EXPECT_EQ(row[8], "480 ms");
}

TEST(ProviderFigures, NoTableWhenNoProviderMeasuredItsQueue) {
  // A live run or a service under test: busy_max and queue_max only.
  json doc = testing::run_scenario(7, 0.5, false);
  for (auto& c : doc["configurations"]) {
    for (auto& p : c["providers"]) {
      for (const char* key : {"service_started", "queue_waited_share", "queue_wait_mean_ms", "queue_wait_p50_ms",
                              "queue_wait_p90_ms", "queue_wait_p99_ms"}) {
        p.erase(key);
      }
    }
  }
  EXPECT_TRUE(provider_figures(doc).rows.empty());
  EXPECT_EQ(summary_markdown(doc).find("### Providers"), std::string::npos);
}

TEST(ProviderFigures, MarkdownSummaryHasAProvidersTable) {
  const std::string md = summary_markdown(provider_doc(7, 120, 0.25));
  const auto at = md.find("### Providers\n\n| configuration | provider | peak busy | peak queue | waited | queue wait mean |");
  ASSERT_NE(at, std::string::npos) << md;
  EXPECT_NE(md.find("| plain | p |", at), std::string::npos) << md;
  EXPECT_NE(md.find("| 25.00% | 120 ms | 60 ms | 240 ms | 480 ms |", at), std::string::npos) << md;
  EXPECT_LT(at, md.find("No assertions.")) << "the providers table comes before the assertions";
}

TEST(ProviderFigures, SeedsAggregateToTheMeanOfEachFigure) {
  auto agg = aggregate_seeds({provider_doc(7, 100, 0.2), provider_doc(8, 300, 0.4)});
  ASSERT_TRUE(agg.ok()) << agg.error().describe();
  const json& p = (*agg)["configurations"][0]["providers"][0];
  EXPECT_DOUBLE_EQ(p["queue_wait_mean_ms"].get<double>(), 200);
  EXPECT_DOUBLE_EQ(p["queue_wait_p99_ms"].get<double>(), 800);
  EXPECT_DOUBLE_EQ(p["queue_waited_share"].get<double>(), 0.3);
}

}  // namespace
}  // namespace squall::reports
