// Reading adaptive throttle options from JSON: defaults, every key, ranges with their JSON paths.

#include "policies/adaptive_throttle/adaptive_throttle_options.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_adaptive_throttle(const char* text, adaptive_throttle_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[0]");
  read_adaptive_throttle_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_adaptive_throttle(const char* text) {
  adaptive_throttle_options o;
  return read_adaptive_throttle(text, o);
}

TEST(adaptive_throttle_options, defaults_are_the_documented_ones) {
  adaptive_throttle_options o;
  ASSERT_FALSE(read_adaptive_throttle("{}", o));
  EXPECT_EQ(o.window_s, 120U);
  EXPECT_EQ(o.k, 2.0);
  EXPECT_EQ(o.reject_on, (outcome_class_set{outcome_class::rate_limited, outcome_class::overloaded}));
}

TEST(adaptive_throttle_options, reads_every_key) {
  adaptive_throttle_options o;
  ASSERT_FALSE(read_adaptive_throttle(R"({"window_s": 30, "k": 1.5, "reject_on": ["overloaded", "server_error"]})", o));
  EXPECT_EQ(o.window_s, 30U);
  EXPECT_EQ(o.k, 1.5);
  EXPECT_EQ(o.reject_on, (outcome_class_set{outcome_class::overloaded, outcome_class::server_error}));
}

TEST(adaptive_throttle_options, ranges_are_checked) {
  auto e = read_adaptive_throttle(R"({"k": 0.5})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].k");
  EXPECT_NE(e->message.find("from 1 to 10"), std::string::npos) << e->message;
  e = read_adaptive_throttle(R"({"window_s": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].window_s");
  e = read_adaptive_throttle(R"({"window_s": 3601})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].window_s");
}

TEST(adaptive_throttle_options, ok_cannot_count_as_a_refusal) {
  auto e = read_adaptive_throttle(R"({"reject_on": ["rate_limited", "ok"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].reject_on[1]");
  EXPECT_NE(e->message.find("ok is the provider accepting"), std::string::npos) << e->message;
  e = read_adaptive_throttle(R"({"reject_on": ["slow"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].reject_on[0]");
}

}  // namespace
}  // namespace squall
