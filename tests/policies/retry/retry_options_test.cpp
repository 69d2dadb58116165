// Reading retry options from JSON: every key, its range, and the cross-field checks.

#include "policies/retry/retry_options.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_retry(const char* text, retry_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[0]");
  read_retry_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_retry(const char* text) {
  retry_options o;
  return read_retry(text, o);
}

TEST(retry_options, defaults_are_the_documented_ones) {
  retry_options o;
  ASSERT_FALSE(read_retry("{}", o));
  EXPECT_EQ(o.attempts_max, 3U);
  EXPECT_EQ(o.backoff, backoff_kind::exponential);
  EXPECT_EQ(o.delay_ms_base, 200.0);
  EXPECT_EQ(o.multiplier, 2.0);
  EXPECT_EQ(o.delay_ms_max, 30000.0);
  EXPECT_EQ(o.jitter, jitter_kind::full);
  EXPECT_EQ(o.retry_on, (outcome_class_set{outcome_class::rate_limited, outcome_class::overloaded,
                                           outcome_class::server_error, outcome_class::timeout,
                                           outcome_class::connection_error, outcome_class::bad_answer}));
  EXPECT_EQ(o.retry_after, retry_after_mode::honor);
  EXPECT_EQ(o.retry_after_ms_max, 60000.0);
  EXPECT_EQ(o.retry_after_over_max, retry_after_over_max_mode::cap);
  EXPECT_EQ(o.should_retry_header, hint_mode::honor);
  EXPECT_EQ(o.ratelimit_reset, hint_mode::honor);
  EXPECT_EQ(o.budget.kind, retry_budget_kind::none);
  for (const auto& c : o.per_class) {
    EXPECT_FALSE(c.attempts_max || c.backoff || c.delay_ms_base || c.delay_ms_max || c.multiplier || c.jitter);
  }
}

TEST(retry_options, reads_every_key) {
  retry_options o;
  ASSERT_FALSE(read_retry(R"({"attempts_max": 5, "backoff": "linear", "delay_ms_base": 50, "multiplier": 3,
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
  auto e = read_retry(R"({"attempts_max": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].attempts_max");
  EXPECT_NE(e->message.find("from 1 to 100"), std::string::npos) << e->message;
  EXPECT_TRUE(read_retry(R"({"attempts_max": 101})"));
  EXPECT_TRUE(read_retry(R"({"multiplier": 0.5})"));
  EXPECT_TRUE(read_retry(R"({"delay_ms_base": -1})"));
  e = read_retry(R"({"backoff": "fibonacci"})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("\"exponential\""), std::string::npos) << e->message;
  EXPECT_TRUE(read_retry(R"({"jitter": true})"));
}

TEST(retry_options, delay_ms_max_below_base_is_refused) {
  auto e = read_retry(R"({"delay_ms_base": 500, "delay_ms_max": 100})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].delay_ms_max");
  EXPECT_NE(e->message.find("delay_ms_base"), std::string::npos) << e->message;
}

TEST(retry_options, permanent_classes_are_refused_with_the_reason) {
  auto e = read_retry(R"({"retry_on": ["overloaded", "quota"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].retry_on[1]");
  EXPECT_NE(e->message.find("never retried"), std::string::npos) << e->message;
  for (const char* c : {R"({"retry_on": ["invalid_request"]})", R"({"retry_on": ["auth"]})"}) {
    e = read_retry(c);
    ASSERT_TRUE(e) << c;
    EXPECT_NE(e->message.find("never retried"), std::string::npos) << e->message;
  }
}

TEST(retry_options, unknown_class_names_the_index_path) {
  auto e = read_retry(R"({"retry_on": ["overloaded", "server_error", "503"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].retry_on[2]");
  EXPECT_NE(e->message.find("unknown outcome class \"503\""), std::string::npos) << e->message;
  e = read_retry(R"({"retry_on": "overloaded"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].retry_on");
}

TEST(retry_options, reads_the_hint_modes_and_the_budget) {
  retry_options o;
  ASSERT_FALSE(read_retry(R"({"should_retry_header": "ignore", "ratelimit_reset": "ignore",
                        "budget": {"kind": "percent", "percent": 20}})",
                    o));
  EXPECT_EQ(o.should_retry_header, hint_mode::ignore);
  EXPECT_EQ(o.ratelimit_reset, hint_mode::ignore);
  EXPECT_EQ(o.budget.kind, retry_budget_kind::percent);
  EXPECT_EQ(o.budget.percent, 20.0);
  auto e = read_retry(R"({"should_retry_header": "maybe"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].should_retry_header");
  e = read_retry(R"({"ratelimit_reset": true})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].ratelimit_reset");
  e = read_retry(R"({"budget": {"kind": "token_bucket", "token_ratio": -1}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].budget.token_ratio");
}

TEST(retry_options, reads_per_class_overrides) {
  retry_options o;
  ASSERT_FALSE(read_retry(R"({"delay_ms_base": 100, "per_class": {
                          "rate_limited": {"attempts_max": 6, "delay_ms_base": 2000, "backoff": "constant",
                                           "jitter": "none", "multiplier": 3, "delay_ms_max": 60000},
                          "overloaded": {"attempts_max": 2}, "connection_error": {"attempts_max": 2}}})",
                    o));
  const auto& rl = o.per_class[static_cast<std::size_t>(outcome_class::rate_limited)];
  EXPECT_EQ(rl.attempts_max, 6U);
  EXPECT_EQ(rl.delay_ms_base, 2000.0);
  EXPECT_EQ(rl.backoff, backoff_kind::constant);
  EXPECT_EQ(rl.jitter, jitter_kind::none);
  EXPECT_EQ(rl.multiplier, 3.0);
  EXPECT_EQ(rl.delay_ms_max, 60000.0);
  const auto over = resolve_retry_settings(o, outcome_class::overloaded);
  EXPECT_EQ(over.attempts_max, 2U);
  EXPECT_EQ(over.delay_ms_base, 100.0) << "unset keys keep the top-level value";
  EXPECT_EQ(over.backoff, backoff_kind::exponential);
  const auto server = resolve_retry_settings(o, outcome_class::server_error);
  EXPECT_EQ(server.attempts_max, 3U);
  EXPECT_EQ(resolve_retry_settings(o, outcome_class::rate_limited).delay_ms_base, 2000.0);
}

TEST(retry_options, per_class_mistakes_name_the_path) {
  auto e = read_retry(R"({"per_class": {"auth": {"attempts_max": 2}}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].per_class.auth");
  EXPECT_NE(e->message.find("never retried"), std::string::npos) << e->message;
  for (const char* c : {R"({"per_class": {"ok": {}}})", R"({"per_class": {"quota": {}}})",
                        R"({"per_class": {"invalid_request": {}}})"}) {
    e = read_retry(c);
    ASSERT_TRUE(e) << c;
    EXPECT_NE(e->message.find("never retried"), std::string::npos) << e->message;
  }

  e = read_retry(R"({"per_class": {"rate_limit": {}}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].per_class.rate_limit");
  EXPECT_NE(e->message.find("unknown outcome class"), std::string::npos) << e->message;

  e = read_retry(R"({"retry_on": ["overloaded"], "per_class": {"rate_limited": {"attempts_max": 2}}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].per_class.rate_limited");
  EXPECT_NE(e->message.find("retry_on"), std::string::npos) << e->message;

  e = read_retry(R"({"per_class": {"rate_limited": {"attempts_max": 0}}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].per_class.rate_limited.attempts_max");

  e = read_retry(R"({"per_class": {"rate_limited": {"delay_ms_base": 40000}}})");
  ASSERT_TRUE(e) << "the class base above the inherited cap of 30000";
  EXPECT_EQ(e->path, "$.policies[0].per_class.rate_limited.delay_ms_base");
  EXPECT_NE(e->message.find("delay_ms_max"), std::string::npos) << e->message;

  e = read_retry(R"({"per_class": {"rate_limited": {"delay_ms_max": 50}}})");
  ASSERT_TRUE(e) << "the class cap below the inherited base of 200";
  EXPECT_EQ(e->path, "$.policies[0].per_class.rate_limited.delay_ms_max");

  e = read_retry(R"({"per_class": {"rate_limited": {"attempts": 2}}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].per_class.rate_limited");
  EXPECT_NE(e->message.find("attempts_max"), std::string::npos) << e->message;

  e = read_retry(R"({"per_class": {"rate_limited": {"jitter": "fancy"}}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].per_class.rate_limited.jitter");

  e = read_retry(R"({"per_class": ["rate_limited"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].per_class");
  e = read_retry(R"({"per_class": {"rate_limited": 6}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].per_class.rate_limited");
}

TEST(retry_options, reads_the_sdk_keys) {
  retry_options o;
  ASSERT_FALSE(read_retry(R"({"jitter": "shrink", "jitter_fraction": 0.5, "retry_on_status": [408, 429, "5xx"],
                        "retry_after_over_max": "backoff", "retry_after_zero": "backoff",
                        "retry_after_ms_max": 2147483647, "retry_after_on_status": [429],
                        "backoff_after_hint": "none"})",
                          o));
  EXPECT_EQ(o.jitter, jitter_kind::shrink);
  EXPECT_EQ(o.jitter_fraction, 0.5);
  ASSERT_TRUE(o.retry_on_status);
  for (int s : {408, 429, 500, 503, 529, 599}) EXPECT_TRUE(o.retry_on_status->contains(s)) << s;
  for (int s : {200, 400, 409, 499, 600, 0}) EXPECT_FALSE(o.retry_on_status->contains(s)) << s;
  EXPECT_EQ(o.retry_after_over_max, retry_after_over_max_mode::backoff);
  EXPECT_EQ(o.retry_after_zero, retry_after_zero_mode::backoff);
  EXPECT_EQ(o.retry_after_ms_max, 2147483647.0);
  ASSERT_TRUE(o.retry_after_on_status);
  EXPECT_TRUE(o.retry_after_on_status->contains(429));
  EXPECT_FALSE(o.retry_after_on_status->contains(503));
  EXPECT_EQ(o.backoff_after_hint, backoff_after_hint_mode::none);
  retry_options defaults;
  EXPECT_FALSE(defaults.retry_after_on_status);
  EXPECT_EQ(defaults.backoff_after_hint, backoff_after_hint_mode::keep);
  EXPECT_FALSE(defaults.retry_on_status) << "by class unless asked";
  EXPECT_EQ(defaults.retry_after_zero, retry_after_zero_mode::at_once);
  EXPECT_EQ(defaults.jitter_fraction, 0.25);
}

TEST(retry_options, status_list_mistakes_name_the_item) {
  auto e = read_retry(R"({"retry_on_status": [429, 99]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].retry_on_status[1]");
  EXPECT_NE(e->message.find("from 100 to 599"), std::string::npos) << e->message;
  e = read_retry(R"({"retry_on_status": [429, "6xx"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].retry_on_status[1]");
  EXPECT_NE(e->message.find("\"5xx\""), std::string::npos) << e->message;
  e = read_retry(R"({"retry_on_status": "5xx"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].retry_on_status");
  EXPECT_TRUE(read_retry(R"({"jitter_fraction": 1.5})"));
  EXPECT_TRUE(read_retry(R"({"retry_after_zero": "later"})"));
  EXPECT_TRUE(read_retry(R"({"retry_after_ms_max": 2147483648})"));
}

}  // namespace
}  // namespace squall
