// Reading circuit breaker options from JSON.

#include "policies/circuit_breaker/circuit_breaker_options.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_circuit_breaker(const char* text, circuit_breaker_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[2]");
  read_circuit_breaker_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_circuit_breaker(const char* text) {
  circuit_breaker_options o;
  return read_circuit_breaker(text, o);
}

TEST(circuit_breaker_options, defaults_are_the_documented_ones) {
  circuit_breaker_options o;
  ASSERT_FALSE(read_circuit_breaker("{}", o));
  EXPECT_EQ(o.window, breaker_window_kind::count);
  EXPECT_EQ(o.window_size, 100U);
  EXPECT_EQ(o.failure_rate_threshold, 0.5);
  EXPECT_EQ(o.slow_call_rate_threshold, 1.0);
  EXPECT_EQ(o.slow_call_ms, 60000.0);
  EXPECT_EQ(o.calls_min, 100U);
  EXPECT_EQ(o.open_ms, 60000.0);
  EXPECT_EQ(o.half_open_calls, 10U);
  EXPECT_FALSE(o.failure_on.contains(outcome_class::rate_limited));
  EXPECT_EQ(o.failure_on, (outcome_class_set{outcome_class::overloaded, outcome_class::server_error,
                                             outcome_class::timeout, outcome_class::connection_error}));
}

TEST(circuit_breaker_options, reads_every_key) {
  circuit_breaker_options o;
  ASSERT_FALSE(read_circuit_breaker(R"({"window": "time", "window_size": 60, "failure_rate_threshold": 0.25,
                        "slow_call_rate_threshold": 0.8, "slow_call_ms": 2000, "calls_min": 20,
                        "open_ms": 5000, "half_open_calls": 4, "failure_on": ["rate_limited", "timeout"]})",
                    o));
  EXPECT_EQ(o.window, breaker_window_kind::time);
  EXPECT_EQ(o.window_size, 60U);
  EXPECT_EQ(o.failure_rate_threshold, 0.25);
  EXPECT_EQ(o.slow_call_rate_threshold, 0.8);
  EXPECT_EQ(o.slow_call_ms, 2000.0);
  EXPECT_EQ(o.calls_min, 20U);
  EXPECT_EQ(o.open_ms, 5000.0);
  EXPECT_EQ(o.half_open_calls, 4U);
  EXPECT_EQ(o.failure_on, (outcome_class_set{outcome_class::rate_limited, outcome_class::timeout}));
}

TEST(circuit_breaker_options, rates_must_be_above_zero_and_at_most_one) {
  auto e = read_circuit_breaker(R"({"failure_rate_threshold": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].failure_rate_threshold");
  EXPECT_NE(e->message.find("greater than 0"), std::string::npos) << e->message;
  e = read_circuit_breaker(R"({"slow_call_rate_threshold": 1.5})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].slow_call_rate_threshold");
  EXPECT_FALSE(read_circuit_breaker(R"({"failure_rate_threshold": 1})"));
}

TEST(circuit_breaker_options, a_time_window_is_at_most_an_hour) {
  EXPECT_FALSE(read_circuit_breaker(R"({"window": "count", "window_size": 5000})"));
  auto e = read_circuit_breaker(R"({"window": "time", "window_size": 5000})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].window_size");
  EXPECT_NE(e->message.find("1 to 3600"), std::string::npos) << e->message;
}

TEST(circuit_breaker_options, ranges_and_classes_are_checked) {
  EXPECT_TRUE(read_circuit_breaker(R"({"half_open_calls": 0})"));
  EXPECT_TRUE(read_circuit_breaker(R"({"calls_min": 100001})"));
  EXPECT_TRUE(read_circuit_breaker(R"({"open_ms": 0})"));
  EXPECT_TRUE(read_circuit_breaker(R"({"window": "sliding"})"));
  auto e = read_circuit_breaker(R"({"failure_on": ["timeout", "5xx"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].failure_on[1]");
  e = read_circuit_breaker(R"({"failure_on": ["ok"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].failure_on[0]");
}

}  // namespace
}  // namespace squall
