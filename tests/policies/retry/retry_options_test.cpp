// Reading retry options from JSON: every key, its range, and the cross-field checks.

#include "policies/retry/retry_options.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read(const char* text, retry_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[0]");
  read_retry_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read(const char* text) {
  retry_options o;
  return read(text, o);
}

TEST(retry_options, defaults_are_the_documented_ones) {
  retry_options o;
  ASSERT_FALSE(read("{}", o));
  EXPECT_EQ(o.attempts_max, 3U);
  EXPECT_EQ(o.backoff, backoff_kind::exponential);
  EXPECT_EQ(o.delay_ms_base, 200.0);
  EXPECT_EQ(o.multiplier, 2.0);
  EXPECT_EQ(o.delay_ms_max, 30000.0);
  EXPECT_EQ(o.jitter, jitter_kind::full);
  EXPECT_EQ(o.retry_on, (outcome_class_set{outcome_class::rate_limited, outcome_class::overloaded,
                                           outcome_class::server_error, outcome_class::timeout,
                                           outcome_class::connection_error}));
  EXPECT_EQ(o.retry_after, retry_after_mode::honor);
  EXPECT_EQ(o.retry_after_ms_max, 60000.0);
  EXPECT_EQ(o.retry_after_over_max, retry_after_over_max_mode::cap);
}

TEST(retry_options, reads_every_key) {
  retry_options o;
  ASSERT_FALSE(read(R"({"attempts_max": 5, "backoff": "linear", "delay_ms_base": 50, "multiplier": 3,
                        "delay_ms_max": 900, "jitter": "decorrelated", "retry_on": ["overloaded"],
                        "retry_after": "ignore", "retry_after_ms_max": 1000, "retry_after_over_max": "give_up"})",
                    o));
  EXPECT_EQ(o.attempts_max, 5U);
  EXPECT_EQ(o.backoff, backoff_kind::linear);
  EXPECT_EQ(o.delay_ms_base, 50.0);
  EXPECT_EQ(o.multiplier, 3.0);
  EXPECT_EQ(o.delay_ms_max, 900.0);
  EXPECT_EQ(o.jitter, jitter_kind::decorrelated);
  EXPECT_EQ(o.retry_on, outcome_class_set{outcome_class::overloaded});
  EXPECT_EQ(o.retry_after, retry_after_mode::ignore);
  EXPECT_EQ(o.retry_after_ms_max, 1000.0);
  EXPECT_EQ(o.retry_after_over_max, retry_after_over_max_mode::give_up);
}

TEST(retry_options, ranges_are_checked) {
  auto e = read(R"({"attempts_max": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].attempts_max");
  EXPECT_NE(e->message.find("from 1 to 100"), std::string::npos) << e->message;
  EXPECT_TRUE(read(R"({"attempts_max": 101})"));
  EXPECT_TRUE(read(R"({"multiplier": 0.5})"));
  EXPECT_TRUE(read(R"({"delay_ms_base": -1})"));
  e = read(R"({"backoff": "fibonacci"})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("\"exponential\""), std::string::npos) << e->message;
  EXPECT_TRUE(read(R"({"jitter": true})"));
}

TEST(retry_options, delay_ms_max_below_base_is_refused) {
  auto e = read(R"({"delay_ms_base": 500, "delay_ms_max": 100})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].delay_ms_max");
  EXPECT_NE(e->message.find("delay_ms_base"), std::string::npos) << e->message;
}

TEST(retry_options, permanent_classes_are_refused_with_the_reason) {
  auto e = read(R"({"retry_on": ["overloaded", "quota"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].retry_on[1]");
  EXPECT_NE(e->message.find("never retried"), std::string::npos) << e->message;
  for (const char* c : {R"({"retry_on": ["invalid_request"]})", R"({"retry_on": ["auth"]})"}) {
    e = read(c);
    ASSERT_TRUE(e) << c;
    EXPECT_NE(e->message.find("never retried"), std::string::npos) << e->message;
  }
}

TEST(retry_options, unknown_class_names_the_index_path) {
  auto e = read(R"({"retry_on": ["overloaded", "server_error", "503"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].retry_on[2]");
  EXPECT_NE(e->message.find("unknown outcome class \"503\""), std::string::npos) << e->message;
  e = read(R"({"retry_on": "overloaded"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].retry_on");
}

}  // namespace
}  // namespace squall
