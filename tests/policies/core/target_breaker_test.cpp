// Portkey's per-target circuit breaker (policies/core/target_breaker.hpp), on sequences worked out by
// hand from Portkey's gateway 2.2.3 (src/utils/circuitBreaker.ts and the cache providers' recordFailure /
// recordSuccess): counts since the first failure, open at the threshold, forgotten strictly after
// cooldown_ms from the first failure, with no probe.

#include "policies/core/target_breaker.hpp"

#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace squall {
namespace {

time_point breaker_at_ms(double ms) { return time_point{} + from_ms(ms); }

TEST(target_breaker, opens_at_the_failure_count_and_closes_strictly_after_the_cooldown_without_a_probe) {
  target_breaker_options o;
  o.failures_to_open = 3;
  o.cooldown_ms = 30000.0;
  target_breakers b(o, 2);
  EXPECT_FALSE(b.record(0, outcome::failure(outcome_class::server_error), breaker_at_ms(0)));
  EXPECT_FALSE(b.record(0, outcome::failure(outcome_class::server_error), breaker_at_ms(1000)));
  EXPECT_EQ(b.start_call(breaker_at_ms(1500)).open, 0U) << "two failures of three";
  EXPECT_TRUE(b.record(0, outcome::failure(outcome_class::server_error), breaker_at_ms(2000))) << "the third opens it";
  EXPECT_FALSE(b.record(0, outcome::failure(outcome_class::server_error), breaker_at_ms(2500))) << "already open";
  EXPECT_EQ(b.start_call(breaker_at_ms(2000)).open, 1U);
  // The clock started at the first failure (t = 0): open up to and including t = 30 s.
  const target_breakers::check at_cooldown = b.start_call(breaker_at_ms(30000));
  EXPECT_EQ(at_cooldown.open, 1U);
  EXPECT_EQ(at_cooldown.recovered, 0U);
  const target_breakers::check after = b.start_call(breaker_at_ms(30000) + duration{1});
  EXPECT_EQ(after.open, 0U);
  EXPECT_EQ(after.recovered, 1U) << "closed by itself, no call was let through to probe it";
  EXPECT_EQ(b.failures(0), 0U);
  EXPECT_EQ(b.successes(0), 0U);
  EXPECT_EQ(b.start_call(breaker_at_ms(30001)).recovered, 0U) << "recovered once";
}

TEST(target_breaker, the_cooldown_runs_from_the_first_failure_not_from_the_opening) {
  target_breaker_options o;
  o.failures_to_open = 2;
  o.cooldown_ms = 30000.0;
  target_breakers b(o, 1);
  b.record(0, outcome::failure(outcome_class::server_error), breaker_at_ms(0));
  EXPECT_TRUE(b.record(0, outcome::failure(outcome_class::server_error), breaker_at_ms(20000)));
  EXPECT_EQ(b.start_call(breaker_at_ms(29999)).open, 1U);
  EXPECT_EQ(b.start_call(breaker_at_ms(30001)).open, 0U) << "open for 10 s only";
}

TEST(target_breaker, counts_are_forgotten_after_the_cooldown_even_below_the_threshold) {
  target_breaker_options o;
  o.failures_to_open = 2;
  o.cooldown_ms = 30000.0;
  target_breakers b(o, 1);
  b.record(0, outcome::failure(outcome_class::server_error), breaker_at_ms(0));
  const target_breakers::check c = b.start_call(breaker_at_ms(40000));
  EXPECT_EQ(c.recovered, 0U) << "it was never open";
  EXPECT_EQ(b.failures(0), 0U);
  EXPECT_FALSE(b.record(0, outcome::failure(outcome_class::server_error), breaker_at_ms(40000)))
      << "one failure since the reset, not two";
}

TEST(target_breaker, successes_before_the_first_failure_are_dropped) {
  target_breaker_options o;
  o.failure_percent_to_open = 50.0;
  o.requests_min = 4;
  target_breakers b(o, 1);
  for (int i = 0; i < 10; ++i) b.record(0, outcome{}, breaker_at_ms(i));
  EXPECT_EQ(b.successes(0), 10U);
  b.record(0, outcome::failure(outcome_class::server_error), breaker_at_ms(100));
  EXPECT_EQ(b.successes(0), 0U);
  EXPECT_EQ(b.failures(0), 1U);
}

TEST(target_breaker, the_share_is_judged_once_requests_min_answers_are_counted) {
  target_breaker_options o;
  o.failure_percent_to_open = 50.0;
  o.requests_min = 4;
  target_breakers b(o, 1);
  const outcome fail = outcome::failure(outcome_class::server_error);
  EXPECT_FALSE(b.record(0, fail, breaker_at_ms(0)));
  EXPECT_FALSE(b.record(0, outcome{}, breaker_at_ms(1)));
  EXPECT_FALSE(b.record(0, fail, breaker_at_ms(2))) << "2 of 3 is 67 %, but only 3 answers";
  EXPECT_FALSE(b.record(0, outcome{}, breaker_at_ms(3))) << "a success never opens it";
  EXPECT_EQ(b.start_call(breaker_at_ms(4)).open, 1U) << "2 of 4 is 50 %, at the threshold";
}

TEST(target_breaker, below_the_share_stays_closed) {
  target_breaker_options o;
  o.failure_percent_to_open = 50.0;
  o.requests_min = 5;
  target_breakers b(o, 1);
  const outcome fail = outcome::failure(outcome_class::server_error);
  b.record(0, fail, breaker_at_ms(0));
  b.record(0, outcome{}, breaker_at_ms(1));
  b.record(0, outcome{}, breaker_at_ms(2));
  b.record(0, fail, breaker_at_ms(3));
  EXPECT_FALSE(b.record(0, outcome{}, breaker_at_ms(4))) << "2 of 5 is 40 %";
  EXPECT_EQ(b.start_call(breaker_at_ms(5)).open, 0U);
  EXPECT_TRUE(b.record(0, fail, breaker_at_ms(6))) << "3 of 6 is 50 %";
}

TEST(target_breaker, by_default_every_status_from_500_is_a_failure_and_nothing_below) {
  target_breaker_options o;
  o.failures_to_open = 1;
  target_breakers b(o, 1);
  outcome limited = outcome::failure(outcome_class::rate_limited);
  limited.http_status = 429;
  EXPECT_FALSE(b.record(0, limited, breaker_at_ms(0)));
  EXPECT_FALSE(b.record(0, outcome::failure(outcome_class::timeout), breaker_at_ms(0))) << "a timeout is Portkey's 408";
  EXPECT_FALSE(b.record(0, outcome::failure(outcome_class::rejected), breaker_at_ms(0))) << "no status";
  EXPECT_EQ(b.failures(0), 0U);
  EXPECT_TRUE(b.record(0, outcome::failure(outcome_class::connection_error), breaker_at_ms(0)))
      << "a failed fetch is Portkey's 500";
}

TEST(target_breaker, failure_on_status_replaces_the_default) {
  target_breaker_options o;
  o.failures_to_open = 2;
  http_status_set s;
  s.insert(408);
  s.insert(429);
  o.failure_on_status = s;
  target_breakers b(o, 1);
  outcome five_hundred = outcome::failure(outcome_class::server_error);
  five_hundred.http_status = 500;
  EXPECT_FALSE(b.record(0, five_hundred, breaker_at_ms(0)));
  EXPECT_EQ(b.failures(0), 0U) << "500 is not listed";
  EXPECT_FALSE(b.record(0, outcome::failure(outcome_class::timeout), breaker_at_ms(0)));
  outcome limited = outcome::failure(outcome_class::rate_limited);
  limited.http_status = 429;
  EXPECT_TRUE(b.record(0, limited, breaker_at_ms(0)));
}

TEST(target_breaker, targets_are_independent) {
  target_breaker_options o;
  o.failures_to_open = 1;
  target_breakers b(o, 3);
  b.record(1, outcome::failure(outcome_class::server_error), breaker_at_ms(0));
  EXPECT_EQ(b.start_call(breaker_at_ms(0)).open, 2U);
  b.record(2, outcome::failure(outcome_class::overloaded), breaker_at_ms(0));
  EXPECT_EQ(b.start_call(breaker_at_ms(0)).open, 6U);
}

TEST(target_breaker, breaker_status_stands_for_what_portkey_answers) {
  EXPECT_EQ(breaker_status(outcome{}), 0);
  EXPECT_EQ(breaker_status(outcome::failure(outcome_class::timeout)), 408);
  EXPECT_EQ(breaker_status(outcome::failure(outcome_class::connection_error)), 500);
  EXPECT_EQ(breaker_status(outcome::failure(outcome_class::overloaded)), 503);
  EXPECT_EQ(breaker_status(outcome::failure(outcome_class::circuit_open)), 0);
  outcome o = outcome::failure(outcome_class::overloaded);
  o.http_status = 529;
  EXPECT_EQ(breaker_status(o), 529) << "a status received wins";
}

std::optional<config_error> read_breaker_json(const std::string& text, std::optional<target_breaker_options>& out) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[0]");
  read_target_breaker(reader, "breaker", out);
  return reader.finish();
}

TEST(target_breaker_options, reads_every_key_and_defaults_are_the_documented_ones) {
  std::optional<target_breaker_options> o;
  ASSERT_FALSE(read_breaker_json(R"({"breaker": {"failures_to_open": 4}})", o));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->failures_to_open, 4U);
  EXPECT_EQ(o->failure_percent_to_open, 0.0);
  EXPECT_EQ(o->requests_min, 5U);
  EXPECT_EQ(o->cooldown_ms, 30000.0);
  EXPECT_FALSE(o->failure_on_status);
  o.reset();
  ASSERT_FALSE(read_breaker_json(R"({"breaker": {"failure_percent_to_open": 12.5, "requests_min": 10,
      "cooldown_ms": 60000, "failure_on_status": [429, "5xx"]}})", o));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->failure_percent_to_open, 12.5);
  EXPECT_EQ(o->requests_min, 10U);
  EXPECT_EQ(o->cooldown_ms, 60000.0);
  ASSERT_TRUE(o->failure_on_status);
  EXPECT_TRUE(o->failure_on_status->contains(429));
  EXPECT_TRUE(o->failure_on_status->contains(503));
  EXPECT_FALSE(o->failure_on_status->contains(408));
  o.reset();
  ASSERT_FALSE(read_breaker_json("{}", o));
  EXPECT_FALSE(o) << "absent: no breaker";
}

TEST(target_breaker_options, mistakes_name_their_json_path) {
  std::optional<target_breaker_options> o;
  auto e = read_breaker_json(R"({"breaker": 5})", o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].breaker");
  e = read_breaker_json(R"({"breaker": {"cooldown_ms": 60000}})", o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].breaker");
  EXPECT_NE(e->message.find("never opens"), std::string::npos) << e->message;
  e = read_breaker_json(R"({"breaker": {"failure_percent_to_open": 101}})", o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].breaker.failure_percent_to_open");
  e = read_breaker_json(R"({"breaker": {"failures_to_open": 1, "requests_min": 0}})", o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].breaker.requests_min");
  e = read_breaker_json(R"({"breaker": {"failures_to_open": 1, "failure_on_status": [200, 99]}})", o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].breaker.failure_on_status[1]");
  e = read_breaker_json(R"({"breaker": {"failures_to_open": 1, "cooldown_interval": 1}})", o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].breaker");
  EXPECT_NE(e->message.find("cooldown_interval"), std::string::npos) << e->message;
  EXPECT_FALSE(o) << "nothing is kept from a wrong breaker";
}

}  // namespace
}  // namespace squall
