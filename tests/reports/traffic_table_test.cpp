#include "reports/traffic_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "reports/aggregate.hpp"
#include "reports/compare.hpp"
#include "reports/results_input.hpp"
#include "reports/summary_markdown.hpp"
#include "tests/reports/run_fixture.hpp"

namespace squall::reports {
namespace {

// One fallback run for every test of this file: the simulation is deterministic, so running it once is
// the same as running it per test, and cheaper under the sanitizers.
const json& fallback_run() {
  static const json doc = testing::run_fallback_scenario();
  return doc;
}

const json& config_named(const json& doc, const std::string& name) {
  for (const auto& c : doc["configurations"]) {
    if (c["name"] == name) return c;
  }
  throw std::runtime_error("no configuration " + name);
}

const json* provider_named(const json& config, const std::string& name) {
  for (const auto& p : config["providers"]) {
    if (p["name"] == name) return &p;
  }
  return nullptr;
}

// The error row of a class, status and provider, or null.
const json* error_row(const json& config, const std::string& cls, int status, const std::string& provider) {
  for (const auto& e : config["errors"]) {
    if (e.value("class", "") == cls && e.value("http_status", -1) == status && e.value("provider", "") == provider) return &e;
  }
  return nullptr;
}

double slowest_request_s(const json& config) {
  double most = 0;
  for (const auto& q : config["latency_spectrum"]) most = std::max(most, q["latency_ms"].get<double>());
  return most / 1000.0;
}

TEST(ErrorTable, RequestCountsPerClassEqualTheOutcomeCounts) {
  for (const auto& c : fallback_run()["configurations"]) {
    std::map<std::string, double> requests;
    for (const auto& e : c["errors"]) requests[e["class"].get<std::string>()] += e["requests"].get<double>();
    for (auto it = c["outcomes"].begin(); it != c["outcomes"].end(); ++it) {
      if (it.key() == "ok") continue;
      EXPECT_EQ(requests[it.key()], it->get<double>()) << c["name"] << " " << it.key();
    }
    EXPECT_EQ(requests.count("ok"), 0U) << "a success is not an error";
  }
}

TEST(ErrorTable, ThePlainRunShowsThe503sTheCallerSawWithinTheFaultWindow) {
  const json& plain = config_named(fallback_run(), "plain");
  const json* row = error_row(plain, "overloaded", 503, "primary");
  ASSERT_NE(row, nullptr) << plain["errors"].dump();
  EXPECT_EQ((*row)["model"], "m1");
  EXPECT_EQ((*row)["policy"], "");
  EXPECT_EQ((*row)["requests"], plain["outcomes"]["overloaded"]);
  EXPECT_GT((*row)["requests"].get<double>(), 0);
  // Without a policy each failed request is its one failed attempt.
  EXPECT_EQ((*row)["attempts"], (*row)["requests"]);
  // The provider fails only from 20 s to 40 s; an answer arrives at most one request's latency later.
  EXPECT_GE((*row)["first_s"].get<double>(), 20.0);
  EXPECT_LE((*row)["first_s"].get<double>(), (*row)["last_s"].get<double>());
  EXPECT_LE((*row)["last_s"].get<double>(), 40.0 + slowest_request_s(plain));
}

TEST(ErrorTable, TheFallbackKeepsThe503sOnTheAttemptsSide) {
  const json& fallback = config_named(fallback_run(), "fallback");
  const json* row = error_row(fallback, "overloaded", 503, "primary");
  ASSERT_NE(row, nullptr) << fallback["errors"].dump();
  EXPECT_EQ((*row)["requests"], 0) << "the backup answered every call the primary failed";
  EXPECT_GT((*row)["attempts"].get<double>(), 0);
  const json* primary = provider_named(fallback, "primary");
  ASSERT_NE(primary, nullptr);
  EXPECT_EQ((*row)["attempts"], (*primary)["failures"]);
  EXPECT_GE((*row)["first_s"].get<double>(), 20.0);
  EXPECT_LE((*row)["last_s"].get<double>(), 40.0 + slowest_request_s(fallback));
}

TEST(TrafficTable, ProviderAttemptsAddUpToTheSummaryAndMovedToTheBackup) {
  for (const auto& c : fallback_run()["configurations"]) {
    double attempts = 0, cost = 0;
    for (const auto& p : c["providers"]) {
      ASSERT_TRUE(p.contains("attempts")) << p.dump();
      EXPECT_EQ(p["attempts"].get<double>(),
                p["successes"].get<double>() + p["failures"].get<double>() + p["cancelled"].get<double>())
          << p.dump();
      attempts += p["attempts"].get<double>();
      cost += p["cost_usd"].get<double>();
    }
    EXPECT_EQ(attempts, c["summary"]["attempts"].get<double>()) << c["name"];
    EXPECT_NEAR(cost, c["summary"]["cost_usd"].get<double>(), 1e-6 + 1e-4 * cost) << c["name"];
  }
  const json* plain_backup = provider_named(config_named(fallback_run(), "plain"), "backup");
  ASSERT_NE(plain_backup, nullptr);
  EXPECT_EQ((*plain_backup)["attempts"], 0);
  const json& fallback = config_named(fallback_run(), "fallback");
  const json* backup = provider_named(fallback, "backup");
  ASSERT_NE(backup, nullptr);
  EXPECT_GT((*backup)["successes"].get<double>(), 0);
  EXPECT_GT((*backup)["attempt_latency_p95_ms"].get<double>(), 0);
  bool backup_model = false;
  for (const auto& m : fallback["models"]) {
    if (m["provider"] == "backup") {
      EXPECT_EQ(m["model"], testing::script_model);
      EXPECT_EQ(m["attempts"], (*backup)["attempts"]);
      backup_model = true;
    }
  }
  EXPECT_TRUE(backup_model) << fallback["models"].dump();
}

TEST(TrafficTable, SameSeedGivesTheSameBytes) {
  EXPECT_EQ(testing::run_fallback_scenario().dump(), fallback_run().dump());
}

TEST(TrafficTable, TextTablesShowTheRunsNumbers) {
  const provider_table traffic = traffic_figures(fallback_run());
  ASSERT_FALSE(traffic.rows.empty());
  const json& fallback = config_named(fallback_run(), "fallback");
  const std::string backup_attempts = std::to_string((*provider_named(fallback, "backup"))["attempts"].get<long long>());
  bool found = false;
  for (const auto& row : traffic.rows) {
    if (row[0] == "fallback" && row[1] == "backup") {
      EXPECT_EQ(row[2], testing::script_model);
      EXPECT_EQ(row[3], backup_attempts);
      found = true;
    }
  }
  EXPECT_TRUE(found);
  const provider_table errors = error_figures(fallback_run());
  ASSERT_FALSE(errors.rows.empty());
  EXPECT_EQ(errors.header.size(), errors.rows[0].size());
  const std::string md = summary_markdown(fallback_run());
  EXPECT_NE(md.find("### Errors"), std::string::npos);
  EXPECT_NE(md.find("### Traffic by provider and model"), std::string::npos);
  EXPECT_NE(md.find("| fallback | backup | " + testing::script_model + " | " + backup_attempts + " |"), std::string::npos)
      << md;
}

TEST(TrafficTable, DocumentsWithoutTheNewKeysStillReadAndRender) {
  json old = fallback_run();
  for (auto& c : old["configurations"]) {
    c.erase("errors");
    c.erase("models");
    for (auto& p : c["providers"]) {
      for (const char* key : {"attempts", "successes", "failures", "cancelled", "cost_usd", "attempt_latency_p50_ms",
                              "attempt_latency_p95_ms"})
        p.erase(key);
    }
  }
  EXPECT_FALSE(check_results(old, "old.json").has_value());
  EXPECT_TRUE(error_figures(old).rows.empty());
  EXPECT_TRUE(traffic_figures(old).rows.empty());
  const std::string md = summary_markdown(old);
  EXPECT_EQ(md.find("### Errors"), std::string::npos);
  EXPECT_EQ(md.find("### Traffic"), std::string::npos);
  // Compared against a new one: the merged document shows the new side's tables only.
  auto compared = compare_results(old, fallback_run());
  ASSERT_TRUE(compared) << compared.error().describe();
  bool candidate_rows = false, base_rows = false;
  for (const auto& row : error_figures(compared->merged).rows) {
    candidate_rows = candidate_rows || row[0].rfind("candidate: ", 0) == 0;
    base_rows = base_rows || row[0].rfind("base: ", 0) == 0;
  }
  EXPECT_TRUE(candidate_rows);
  EXPECT_FALSE(base_rows);
}

TEST(TrafficTable, SeedsAggregateRowByRow) {
  const json a = fallback_run();
  const json b = testing::run_fallback_scenario(12);
  auto folded = aggregate_seeds({a, b});
  ASSERT_TRUE(folded) << folded.error().describe();
  const json* ra = error_row(config_named(a, "plain"), "overloaded", 503, "primary");
  const json* rb = error_row(config_named(b, "plain"), "overloaded", 503, "primary");
  const json* mean = error_row(config_named(*folded, "plain"), "overloaded", 503, "primary");
  ASSERT_TRUE(ra && rb && mean);
  EXPECT_NEAR((*mean)["requests"].get<double>(), ((*ra)["requests"].get<double>() + (*rb)["requests"].get<double>()) / 2, 1e-9);
  EXPECT_EQ((*mean)["first_s"].get<double>(), std::min((*ra)["first_s"].get<double>(), (*rb)["first_s"].get<double>()));
  EXPECT_EQ((*mean)["last_s"].get<double>(), std::max((*ra)["last_s"].get<double>(), (*rb)["last_s"].get<double>()));
  const json* pa = provider_named(config_named(a, "fallback"), "backup");
  const json* pb = provider_named(config_named(b, "fallback"), "backup");
  const json* pm = provider_named(config_named(*folded, "fallback"), "backup");
  ASSERT_TRUE(pa && pb && pm);
  EXPECT_NEAR((*pm)["attempts"].get<double>(), ((*pa)["attempts"].get<double>() + (*pb)["attempts"].get<double>()) / 2, 1e-9);
  EXPECT_FALSE(error_figures(*folded).rows.empty());
  EXPECT_FALSE(traffic_figures(*folded).rows.empty());
}

}  // namespace
}  // namespace squall::reports
