// Reading hedging options from JSON: every key, its range, and the cross-field checks.

#include "policies/hedging/hedging_options.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_hedging(const char* text, hedging_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[2]");
  read_hedging_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_hedging(const char* text) {
  hedging_options o;
  return read_hedging(text, o);
}

TEST(hedging_options, defaults_are_the_documented_ones) {
  hedging_options o;
  ASSERT_FALSE(read_hedging("{}", o));
  EXPECT_EQ(o.delay_ms, 1000.0);
  EXPECT_FALSE(o.delay_percentile);
  EXPECT_EQ(o.latency_window, 1000U);
  EXPECT_EQ(o.latency_samples_min, 20U);
  EXPECT_EQ(o.hedges_max, 1U);
  EXPECT_EQ(o.hedge_on, (outcome_class_set{outcome_class::overloaded, outcome_class::server_error,
                                           outcome_class::connection_error}));
  EXPECT_EQ(o.budget.kind, retry_budget_kind::none);
}

TEST(hedging_options, reads_every_key) {
  hedging_options o;
  ASSERT_FALSE(read_hedging(R"({"delay_ms": 250, "delay_percentile": 0.95, "latency_window": 500,
                        "latency_samples_min": 50, "hedges_max": 3, "hedge_on": ["timeout", "overloaded"],
                        "budget": {"kind": "token_bucket", "tokens_max": 20}})",
                    o));
  EXPECT_EQ(o.delay_ms, 250.0);
  EXPECT_EQ(o.delay_percentile, 0.95);
  EXPECT_EQ(o.latency_window, 500U);
  EXPECT_EQ(o.latency_samples_min, 50U);
  EXPECT_EQ(o.hedges_max, 3U);
  EXPECT_EQ(o.hedge_on, (outcome_class_set{outcome_class::timeout, outcome_class::overloaded}));
  EXPECT_EQ(o.budget.kind, retry_budget_kind::token_bucket);
  EXPECT_EQ(o.budget.tokens_max, 20.0);
}

TEST(hedging_options, ranges_are_checked_with_the_path) {
  struct bad_case {
    const char* text;
    const char* path;
  };
  for (const auto& c : {bad_case{R"({"delay_ms": -1})", "$.policies[2].delay_ms"},
                        bad_case{R"({"delay_ms": "fast"})", "$.policies[2].delay_ms"},
                        bad_case{R"({"delay_percentile": 0})", "$.policies[2].delay_percentile"},
                        bad_case{R"({"delay_percentile": 1})", "$.policies[2].delay_percentile"},
                        bad_case{R"({"delay_percentile": 95})", "$.policies[2].delay_percentile"},
                        bad_case{R"({"latency_window": 0})", "$.policies[2].latency_window"},
                        bad_case{R"({"latency_samples_min": 0})", "$.policies[2].latency_samples_min"},
                        bad_case{R"({"hedges_max": 0})", "$.policies[2].hedges_max"},
                        bad_case{R"({"hedges_max": 6})", "$.policies[2].hedges_max"},
                        bad_case{R"({"hedge_on": ["overloaded", "quota"]})", "$.policies[2].hedge_on[1]"},
                        bad_case{R"({"hedge_on": ["ok"]})", "$.policies[2].hedge_on[0]"},
                        bad_case{R"({"hedge_on": ["slow"]})", "$.policies[2].hedge_on[0]"},
                        bad_case{R"({"budget": {"kind": "percent", "percent": -5}})", "$.policies[2].budget.percent"},
                        bad_case{R"({"hedges": 2})", "$.policies[2]"}}) {
    const auto e = read_hedging(c.text);
    ASSERT_TRUE(e) << c.text;
    EXPECT_EQ(e->path, c.path) << c.text << ": " << e->message;
  }
  const auto e = read_hedging(R"({"hedges_max": 9})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("from 1 to 5"), std::string::npos) << e->message;
}

TEST(hedging_options, samples_min_above_the_window_is_refused) {
  const auto e = read_hedging(R"({"latency_window": 10, "latency_samples_min": 11})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].latency_samples_min");
  EXPECT_NE(e->message.find("latency_window"), std::string::npos) << e->message;
  EXPECT_FALSE(read_hedging(R"({"latency_window": 10, "latency_samples_min": 10})"));
  EXPECT_TRUE(read_hedging(R"({"latency_window": 10})")) << "the default minimum of 20 is above a window of 10";
}

}  // namespace
}  // namespace squall
