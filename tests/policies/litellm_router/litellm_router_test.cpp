// The litellm_router policy against sequences computed by hand from LiteLLM's rules (see
// policies/litellm_router/litellm_router.hpp): virtual time, a scripted transport, the seed's draws replayed.

#include "policies/litellm_router/litellm_router.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/policies/litellm_router/litellm_router_rig.hpp"

namespace squall {
namespace {

using testing::litellm_failure_of;
using testing::litellm_test_group;
using testing::litellm_mirror;
using testing::litellm_rig;
using testing::recording_receiver;
using testing::timed_call;

constexpr duration attempt_latency = from_ms(10);

// Every sleep of a call, in order: those before retries, then the one after the last retry.
std::vector<duration> litellm_all_sleeps(const litellm_rig& rig) {
  std::vector<duration> out = rig.delays(policy_event_kind::retry_scheduled);
  for (duration d : rig.delays(policy_event_kind::retry_exhausted)) out.push_back(d);
  return out;
}

TEST(litellm_router, backoff_repeats_the_first_exponent_and_sleeps_after_the_last_retry) {
  litellm_rig rig(litellm_test_group(1, 3));
  rig.answers.push_back(litellm_failure_of(outcome_class::server_error, 500));
  rig.fallback = litellm_failure_of(outcome_class::overloaded, 503);
  timed_call& c = rig.call();

  // n = 0, 0, 1, 2: 0.5 s, 0.5 s, 1 s, 2 s, each plus U(0, 0.75) s; one deployment, so no shuffle draws.
  litellm_mirror m;
  const std::vector<duration> expected = {from_s(0.5) + m.jitter(), from_s(0.5) + m.jitter(),
                                          from_s(1.0) + m.jitter(), from_s(2.0) + m.jitter()};
  EXPECT_EQ(litellm_all_sleeps(rig), expected);
  ASSERT_EQ(rig.attempts.size(), 4U);
  time_point t{};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(rig.attempts[i].start, t) << "attempt " << i;
    t += attempt_latency + expected[i];
  }
  // After the last sleep the call ends with its FIRST failure, not the latest.
  EXPECT_EQ(c.receiver.at, t);
  EXPECT_EQ(c.receiver.last.http_status, 500);
  EXPECT_EQ(c.receiver.last.kind, outcome_class::server_error);
}

TEST(litellm_router, backoff_is_capped_at_8_s) {
  litellm_rig rig(litellm_test_group(1, 6));
  rig.call();
  litellm_mirror m;
  std::vector<duration> expected;
  for (double s : {0.5, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0}) expected.push_back(from_s(s) + m.jitter());
  EXPECT_EQ(litellm_all_sleeps(rig), expected);
}

TEST(litellm_router, router_retry_after_is_a_floor_under_the_backoff) {
  litellm_router_options o = litellm_test_group(1, 3);
  o.retry_after_s = 1.5;
  litellm_rig rig(o);
  rig.call();
  litellm_mirror m;
  const std::vector<duration> expected = {from_s(1.5) + m.jitter(), from_s(1.5) + m.jitter(),
                                          from_s(1.5) + m.jitter(), from_s(2.0) + m.jitter()};
  EXPECT_EQ(litellm_all_sleeps(rig), expected);
}

TEST(litellm_router, a_hint_up_to_60_s_from_the_first_failure_sets_every_sleep) {
  litellm_router_options o = litellm_test_group(1, 2);
  o.retry_after_s = 10.0;  // a floor for the backoff only: the hint wins even when shorter
  litellm_rig rig(o);
  rig.answers.push_back(litellm_failure_of(outcome_class::rate_limited, 429, 2.0));
  // Later failures carry other hints; LiteLLM keeps reading the first failure's headers.
  rig.fallback = litellm_failure_of(outcome_class::rate_limited, 429, 30.0);
  timed_call& c = rig.call();
  litellm_mirror m;
  const std::vector<duration> expected = {from_s(2.0) + m.jitter(), from_s(2.0) + m.jitter(), from_s(2.0) + m.jitter()};
  EXPECT_EQ(litellm_all_sleeps(rig), expected);
  EXPECT_EQ(rig.attempts.size(), 3U);
  EXPECT_EQ(*c.receiver.last.retry_after, from_s(2.0));
  // A 429 in a group of one never cools its only deployment.
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U);
}

TEST(litellm_router, a_hint_over_60_s_falls_back_on_the_backoff) {
  litellm_rig rig(litellm_test_group(1, 2));
  rig.answers.push_back(litellm_failure_of(outcome_class::rate_limited, 429, 61.0));
  rig.fallback = litellm_failure_of(outcome_class::rate_limited, 429, 1.0);
  rig.call();
  litellm_mirror m;
  const std::vector<duration> expected = {from_s(0.5) + m.jitter(), from_s(0.5) + m.jitter(), from_s(1.0) + m.jitter()};
  EXPECT_EQ(litellm_all_sleeps(rig), expected);
}

TEST(litellm_router, no_sleep_while_another_deployment_is_healthy) {
  litellm_rig rig(litellm_test_group(2, 2));
  timed_call& c = rig.call();
  // Three 500s spread over two deployments stay under the five requests the share rule needs.
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U);
  EXPECT_EQ(litellm_all_sleeps(rig), (std::vector<duration>{duration{}, duration{}, duration{}}));
  litellm_mirror m;
  ASSERT_EQ(rig.attempts.size(), 3U);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rig.attempts[i].start, time_point{} + attempt_latency * static_cast<std::int64_t>(i));
    EXPECT_EQ(rig.attempts[i].model, "m" + std::to_string(m.pick(2))) << "attempt " << i;
  }
  EXPECT_EQ(c.receiver.at, time_point{} + attempt_latency * 3);
  // The caller's own provider and model come back.
  EXPECT_EQ(c.ctx.req.model, "own");
  EXPECT_EQ(c.ctx.req.provider, "own-provider");
}

TEST(litellm_router, a_429_cools_a_deployment_of_a_group_and_the_retry_goes_to_the_other) {
  litellm_rig rig(litellm_test_group(2, 2));
  rig.answers.push_back(litellm_failure_of(outcome_class::rate_limited, 429));
  rig.fallback = outcome{};
  timed_call& c = rig.call();
  litellm_mirror m;
  const std::size_t first = m.pick(2);
  // One deployment left healthy: the sleep is the backoff, drawn after the shuffle.
  const duration sleep = from_s(0.5) + m.jitter();
  ASSERT_EQ(rig.attempts.size(), 2U);
  EXPECT_EQ(rig.attempts[0].model, "m" + std::to_string(first));
  EXPECT_EQ(rig.attempts[1].model, "m" + std::to_string(1 - first));
  EXPECT_EQ(rig.attempts[1].start, time_point{} + attempt_latency + sleep);
  EXPECT_TRUE(c.receiver.last.ok());
  ASSERT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);
  EXPECT_EQ(rig.sink.events[0].kind, policy_event_kind::endpoint_cooldown);
  EXPECT_EQ(rig.sink.events[0].value, first);
  EXPECT_EQ(rig.sink.events[0].delay, from_s(5.0));
  // The cooldown lasts cooldown_time_s (5 s) from the failure.
  EXPECT_TRUE(rig.policy->cooling(first));
  rig.loop.run_until(time_point{} + attempt_latency + from_s(5.0) - from_ms(1));
  EXPECT_TRUE(rig.policy->cooling(first));
  rig.loop.run_until(time_point{} + attempt_latency + from_s(5.0));
  EXPECT_FALSE(rig.policy->cooling(first));
}

TEST(litellm_router, a_retry_that_finds_no_deployment_fails_at_once_and_the_first_failure_is_delivered) {
  litellm_rig rig(litellm_test_group(2, 2));
  rig.answers.push_back(litellm_failure_of(outcome_class::rate_limited, 429));
  rig.answers.push_back(litellm_failure_of(outcome_class::rate_limited, 429, 3.0));
  timed_call& c = rig.call();
  litellm_mirror m;
  m.pick(2);
  // Sleeps: one healthy after the first 429 (n = 0), none after the second (n = 0 again), then the
  // no-deployment failure of retry 2 (n = 1). The first failure had no hint.
  const std::vector<duration> expected = {from_s(0.5) + m.jitter(), from_s(0.5) + m.jitter(), from_s(1.0) + m.jitter()};
  EXPECT_EQ(litellm_all_sleeps(rig), expected);
  EXPECT_EQ(rig.attempts.size(), 2U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 2U);
  EXPECT_EQ(c.receiver.last.kind, outcome_class::rate_limited);
  EXPECT_FALSE(c.receiver.last.retry_after.has_value());
  EXPECT_EQ(c.receiver.at, time_point{} + attempt_latency * 2 + expected[0] + expected[1] + expected[2]);
}

TEST(litellm_router, a_401_in_a_group_of_one_cools_and_is_not_retried) {
  litellm_rig rig(litellm_test_group(1, 3));
  rig.fallback = litellm_failure_of(outcome_class::auth, 401);
  timed_call& c = rig.call();
  EXPECT_EQ(rig.attempts.size(), 1U);
  EXPECT_EQ(c.receiver.at, time_point{} + attempt_latency);
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_scheduled), 0U);
  // The next call finds no deployment: LiteLLM's "no deployments available", a rate limit, no attempt.
  timed_call& next = rig.call();
  EXPECT_EQ(rig.attempts.size(), 1U);
  EXPECT_EQ(next.receiver.last.kind, outcome_class::rate_limited);
  EXPECT_EQ(next.receiver.at, c.receiver.at);
}

TEST(litellm_router, a_401_in_a_group_is_retried_on_the_other_deployment) {
  litellm_rig rig(litellm_test_group(2, 1));
  rig.answers.push_back(litellm_failure_of(outcome_class::auth, 401));
  rig.fallback = outcome{};
  timed_call& c = rig.call();
  EXPECT_EQ(rig.attempts.size(), 2U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);
  EXPECT_TRUE(c.receiver.last.ok());
}

TEST(litellm_router, a_404_cools_and_is_never_retried) {
  litellm_rig rig(litellm_test_group(2, 3));
  rig.fallback = litellm_failure_of(outcome_class::invalid_request, 404);
  timed_call& c = rig.call();
  EXPECT_EQ(rig.attempts.size(), 1U);
  EXPECT_EQ(c.receiver.last.http_status, 404);
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);
}

TEST(litellm_router, a_400_is_retried_but_never_cools) {
  litellm_rig rig(litellm_test_group(1, 2));
  rig.fallback = litellm_failure_of(outcome_class::invalid_request, 400);
  rig.call();
  EXPECT_EQ(rig.attempts.size(), 3U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U);
}

TEST(litellm_router, a_connection_error_never_cools) {
  litellm_router_options o = litellm_test_group(2, 0);
  o.failure_share_requests_min = 1;
  litellm_rig rig(o);
  rig.fallback = outcome::failure(outcome_class::connection_error);
  for (int i = 0; i < 4; ++i) rig.call();
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U);
}

TEST(litellm_router, retry_policy_counts_follow_the_class_of_the_first_failure) {
  litellm_router_options o = litellm_test_group(1, 3);
  o.retry_policy.rate_limit = 1;
  o.retry_policy.bad_request = 0;
  litellm_rig rig(o);
  rig.answers.push_back(litellm_failure_of(outcome_class::rate_limited, 429));
  rig.call();  // then 500s, which alone would get num_retries = 3
  EXPECT_EQ(rig.attempts.size(), 2U);
  litellm_mirror m;
  // One retry: remaining = 1 before it and after it, so both sleeps use n = 0.
  const std::vector<duration> expected = {from_s(0.5) + m.jitter(), from_s(0.5) + m.jitter()};
  EXPECT_EQ(litellm_all_sleeps(rig), expected);

  rig.answers.push_back(litellm_failure_of(outcome_class::invalid_request, 400));
  rig.call();
  EXPECT_EQ(rig.attempts.size(), 3U);  // bad_request 0: not retried

  rig.answers.push_back(litellm_failure_of(outcome_class::timeout, 0));
  rig.call();
  EXPECT_EQ(rig.attempts.size(), 7U);  // no timeout count: num_retries
}

TEST(litellm_router, more_than_half_failed_over_five_requests_cools_a_deployment_of_a_group) {
  litellm_rig rig(litellm_test_group(2, 0));
  litellm_mirror m;
  std::array<int, 2> fails{};
  std::size_t cooled = 2;
  std::size_t call_of_cooldown = 0;
  for (std::size_t call = 1; call <= 12 && cooled == 2; ++call) {
    const std::size_t d = m.pick(2);
    if (++fails[d] == 5) {
      cooled = d;
      call_of_cooldown = call;
    }
  }
  ASSERT_LT(cooled, 2U);
  for (std::size_t call = 1; call <= call_of_cooldown; ++call) {
    EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U) << "before call " << call;
    rig.call();
  }
  ASSERT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);
  EXPECT_EQ(rig.sink.events.back().value, cooled);
  EXPECT_TRUE(rig.policy->cooling(cooled));
}

TEST(litellm_router, the_share_rule_counts_from_failure_share_requests_min) {
  litellm_router_options o = litellm_test_group(2, 0);
  o.failure_share_requests_min = 2;
  litellm_rig rig(o);
  litellm_mirror m;
  // Every call fails with a 500 until one deployment has 2 failures out of 2 requests (100% > 50%).
  std::array<int, 2> fails{};
  std::size_t calls_needed = 0;
  for (std::size_t call = 1; calls_needed == 0; ++call) {
    if (++fails[m.pick(2)] == 2) calls_needed = call;
  }
  for (std::size_t call = 1; call < calls_needed; ++call) rig.call();
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U);
  rig.call();
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);
}

TEST(litellm_router, exactly_half_failed_does_not_cool) {
  litellm_router_options o = litellm_test_group(2, 0);
  o.failure_share_requests_min = 2;
  litellm_rig rig(o);
  // Successes everywhere first, then failures: each deployment's failures never pass its successes.
  rig.fallback = outcome{};
  for (int i = 0; i < 10; ++i) rig.call();
  rig.fallback = litellm_failure_of(outcome_class::server_error, 500);
  litellm_mirror m;
  std::array<int, 2> ok{};
  for (int i = 0; i < 10; ++i) ++ok[m.pick(2)];
  const int failures_allowed = std::min(ok[0], ok[1]);  // a deployment at failures == successes is at 50%
  std::array<int, 2> fails{};
  int calls = 0;
  while (true) {
    const std::size_t d = m.pick(2);
    if (fails[d] + 1 > ok[d]) break;  // the next failure of d would pass 50%
    ++fails[d];
    ++calls;
  }
  for (int i = 0; i < calls; ++i) rig.call();
  EXPECT_GE(calls, failures_allowed);
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U);
  rig.call();
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);
}

TEST(litellm_router, a_single_deployment_cools_only_at_1000_requests_all_failed) {
  litellm_rig rig(litellm_test_group(1, 0));
  for (int i = 0; i < 999; ++i) rig.call();
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U);
  rig.call();
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);
}

TEST(litellm_router, the_minute_counters_forget_60_s_after_their_last_increment) {
  litellm_router_options o = litellm_test_group(2, 0);
  litellm_rig rig(o);
  // Four 500s on the deployments, then a pause of a minute: the fifth failure starts from zero.
  for (int i = 0; i < 4; ++i) rig.call();
  rig.loop.run_until(rig.loop.now() + from_s(60.0));
  for (int i = 0; i < 4; ++i) rig.call();
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U);
}

TEST(litellm_router, an_allowed_fails_other_than_3_cools_on_the_failure_past_it) {
  litellm_router_options o = litellm_test_group(1, 0);
  o.allowed_fails = 1;
  litellm_rig rig(o);
  rig.call();
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U);
  rig.call();
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);
}

TEST(litellm_router, allowed_fails_3_is_the_default_rule) {
  litellm_router_options o = litellm_test_group(1, 0);
  o.allowed_fails = 3;
  litellm_rig rig(o);
  for (int i = 0; i < 6; ++i) rig.call();
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U);
}

TEST(litellm_router, the_count_rule_forgets_cooldown_time_after_the_last_failure) {
  litellm_router_options o = litellm_test_group(1, 0);
  o.allowed_fails = 1;
  litellm_rig rig(o);
  rig.call();
  rig.loop.run_until(rig.loop.now() + from_s(5.0));
  rig.call();
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U);
}

TEST(litellm_router, disable_cooldowns_keeps_every_deployment) {
  litellm_router_options o = litellm_test_group(2, 0);
  o.disable_cooldowns = true;
  litellm_rig rig(o);
  rig.fallback = litellm_failure_of(outcome_class::rate_limited, 429);
  for (int i = 0; i < 3; ++i) rig.call();
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U);
}

TEST(litellm_router, weights_steer_the_shuffle) {
  litellm_router_options o = litellm_test_group(2, 0);
  o.deployments[1].weight = 3.0;
  litellm_rig rig(o);
  rig.fallback = outcome{};
  rng mirror(testing::litellm_rig_seed);
  for (int i = 0; i < 20; ++i) {
    rig.call();
    const std::string expected = mirror.uniform() * 4.0 < 1.0 ? "m0" : "m1";
    EXPECT_EQ(rig.attempts.back().model, expected) << "call " << i;
  }
}

TEST(litellm_router, cancelling_a_sleeping_call_puts_the_request_back) {
  litellm_rig rig(litellm_test_group(1, 2));
  call_context ctx;
  ctx.req.model = "own";
  recording_receiver receiver;
  operation& op = rig.policy->start(call_scope{&ctx, time_never}, receiver);
  rig.loop.run_until(time_point{} + from_ms(100));  // the first attempt failed; the call sleeps
  EXPECT_EQ(ctx.req.model, "m0");
  op.cancel();
  EXPECT_EQ(ctx.req.model, "own");
  rig.loop.run();
  EXPECT_EQ(receiver.calls, 0);
  EXPECT_EQ(rig.attempts.size(), 1U);
}

}  // namespace
}  // namespace squall
