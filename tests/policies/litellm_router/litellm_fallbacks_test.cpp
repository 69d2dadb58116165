// The litellm_router policy's fallbacks across model groups and its routing strategies inside the retry
// loop, against sequences computed by hand from LiteLLM's router.py and fallback_event_handlers.py.

#include "policies/litellm_router/litellm_router.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/policies/litellm_router/litellm_router_rig.hpp"

namespace squall {
namespace {

using testing::litellm_failure_of;
using testing::litellm_fallback_of;
using testing::litellm_test_group;
using testing::litellm_mirror;
using testing::litellm_rig;
using testing::litellm_success_of;
using testing::timed_call;

using model_list = std::vector<std::string>;

constexpr duration fallback_attempt_latency = from_ms(10);

// One deployment "m0" and the fallback groups named, each of one deployment.
litellm_router_options litellm_with_fallbacks(std::uint32_t num_retries, std::initializer_list<const char*> names) {
  litellm_router_options o = litellm_test_group(1, num_retries);
  o.model_group = "primary";
  for (const char* n : names) o.fallbacks.push_back(litellm_fallback_of(n, 1));
  return o;
}

TEST(litellm_fallbacks, each_group_is_tried_in_order_until_one_answers) {
  litellm_rig rig(litellm_with_fallbacks(0, {"a", "b", "c"}));
  rig.answers.push_back(litellm_failure_of(outcome_class::overloaded, 503));
  rig.answers.push_back(litellm_failure_of(outcome_class::server_error, 500));
  rig.answers.push_back(outcome{});
  timed_call& c = rig.call();
  EXPECT_EQ(rig.models(), (model_list{"m0", "a0", "b0"}));
  EXPECT_TRUE(c.receiver.last.ok());
  EXPECT_EQ(rig.details(policy_event_kind::fallback_used), (model_list{"a", "b"}));
  // No sleep between groups: each fallback starts as the previous group's loop ends.
  EXPECT_EQ(c.receiver.at, time_point{} + fallback_attempt_latency * 3);
  EXPECT_EQ(c.ctx.req.model, "own");
}

TEST(litellm_fallbacks, when_every_group_fails_the_primary_groups_failure_is_delivered) {
  litellm_rig rig(litellm_with_fallbacks(0, {"a", "b"}));
  rig.answers.push_back(litellm_failure_of(outcome_class::overloaded, 503));
  rig.fallback = litellm_failure_of(outcome_class::server_error, 500);
  timed_call& c = rig.call();
  EXPECT_EQ(rig.models(), (model_list{"m0", "a0", "b0"}));
  EXPECT_EQ(c.receiver.last.http_status, 503);
  EXPECT_EQ(c.receiver.last.kind, outcome_class::overloaded);
}

TEST(litellm_fallbacks, every_failure_class_falls_back) {
  // The version read has no exception that skips fallbacks: a 400, a 401 and a 404 all fall back.
  for (int status : {400, 401, 404, 429}) {
    litellm_rig rig(litellm_with_fallbacks(0, {"a"}));
    rig.answers.push_back(litellm_failure_of(outcome_class::invalid_request, status));
    rig.fallback = outcome{};
    timed_call& c = rig.call();
    EXPECT_EQ(rig.models(), (model_list{"m0", "a0"})) << status;
    EXPECT_TRUE(c.receiver.last.ok()) << status;
  }
}

TEST(litellm_fallbacks, max_fallbacks_0_turns_them_off_and_any_other_value_runs_the_whole_list) {
  litellm_router_options none = litellm_with_fallbacks(0, {"a", "b", "c"});
  none.max_fallbacks = 0;
  litellm_rig off(none);
  off.call();
  EXPECT_EQ(off.models(), (model_list{"m0"}));
  EXPECT_EQ(off.sink.count(policy_event_kind::fallback_used), 0U);

  // run_async_fallback checks the depth once, on entry (depth 0 < 1), then loops over every group.
  litellm_router_options one = litellm_with_fallbacks(0, {"a", "b", "c"});
  one.max_fallbacks = 1;
  litellm_rig on(one);
  on.call();
  EXPECT_EQ(on.models(), (model_list{"m0", "a0", "b0", "c0"}));
}

TEST(litellm_fallbacks, a_fallback_naming_the_primary_group_is_skipped) {
  litellm_rig rig(litellm_with_fallbacks(0, {"primary", "b"}));
  rig.call();
  EXPECT_EQ(rig.models(), (model_list{"m0", "b0"}));
  EXPECT_EQ(rig.details(policy_event_kind::fallback_used), (model_list{"b"}));
}

TEST(litellm_fallbacks, each_group_runs_its_own_retry_loop) {
  litellm_rig rig(litellm_with_fallbacks(1, {"a"}));
  rig.fallback = litellm_failure_of(outcome_class::server_error, 500);
  timed_call& c = rig.call();
  EXPECT_EQ(rig.models(), (model_list{"m0", "m0", "a0", "a0"}));
  // Each group of one sleeps 0.5 s before its retry and 0.5 s after it (n = 0 twice), plus jitter.
  litellm_mirror m;
  const duration primary = fallback_attempt_latency * 2 + from_s(0.5) + m.jitter() + from_s(0.5) + m.jitter();
  const duration second = fallback_attempt_latency * 2 + from_s(0.5) + m.jitter() + from_s(0.5) + m.jitter();
  EXPECT_EQ(rig.attempts[2].start, time_point{} + primary);
  EXPECT_EQ(c.receiver.at, time_point{} + primary + second);
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_exhausted), 2U);
}

TEST(litellm_fallbacks, each_group_keeps_its_own_cooldowns) {
  // The primary group of two cools a deployment on a 429; the fallback group's deployment of the same
  // provider and model is another deployment, with its own state.
  litellm_mirror m;
  const std::size_t first = m.pick(2);
  const std::string cooled = "m" + std::to_string(first);
  litellm_router_options o = litellm_test_group(2, 0);
  o.fallbacks.push_back(litellm_fallback_of("backup", 1));
  o.fallbacks[0].deployments[0].model = cooled;
  o.fallbacks[0].deployments[0].name = "backup:p/" + cooled;
  litellm_rig rig(o);
  rig.answers.push_back(litellm_failure_of(outcome_class::rate_limited, 429));
  rig.fallback = outcome{};
  timed_call& c = rig.call();
  EXPECT_EQ(rig.models(), (model_list{cooled, cooled}));
  EXPECT_TRUE(c.receiver.last.ok());
  EXPECT_TRUE(rig.policy->group(0).cooling(first, rig.loop.now()));
  EXPECT_FALSE(rig.policy->group(1).cooling(0, rig.loop.now()));
  // A cooldown in the fallback group is named by its group.
  rig.answers.push_back(litellm_failure_of(outcome_class::auth, 401));  // the primary's healthy one
  rig.answers.push_back(litellm_failure_of(outcome_class::auth, 401));  // backup's only deployment
  rig.call();
  EXPECT_EQ(rig.details(policy_event_kind::endpoint_cooldown),
            (model_list{"p/" + cooled, "p/m" + std::to_string(1 - first), "backup:p/" + cooled}));
  EXPECT_TRUE(rig.policy->group(1).cooling(0, rig.loop.now()));
}

TEST(litellm_fallbacks, a_fallback_group_with_every_deployment_cooling_fails_at_once) {
  litellm_router_options o = litellm_with_fallbacks(0, {"a", "b"});
  litellm_rig rig(o);
  rig.fallback = litellm_failure_of(outcome_class::auth, 401);  // a 401 cools a deployment of a group of one
  rig.call();
  EXPECT_EQ(rig.models(), (model_list{"m0", "a0", "b0"}));
  rig.fallback = outcome{};
  timed_call& c = rig.call();
  // Every group now has no healthy deployment: no attempt, and the primary's "no deployments" failure.
  EXPECT_EQ(rig.attempts.size(), 3U);
  EXPECT_EQ(c.receiver.last.kind, outcome_class::rate_limited);
  EXPECT_EQ(rig.sink.count(policy_event_kind::fallback_used), 4U);
}

// ---- routing strategies inside the loop ----

TEST(litellm_router_strategies, least_busy_spreads_concurrent_calls_by_in_flight_count) {
  litellm_router_options o = litellm_test_group(2, 0);
  o.routing_strategy = litellm_routing_strategy::least_busy;
  litellm_rig rig(o);
  rig.fallback = outcome{};
  // Three calls at once: m0 (0, 0 in flight), m1 (1, 0), then m0 (1, 1: the first seen).
  rig.start();
  rig.start();
  rig.start();
  rig.loop.run();
  EXPECT_EQ(rig.models(), (model_list{"m0", "m1", "m0"}));
  // All answered: both are idle again and m0 leads.
  rig.call();
  EXPECT_EQ(rig.attempts.back().model, "m0");
  EXPECT_EQ(rig.policy->group(0).state(0).in_flight, 0U);
}

TEST(litellm_router_strategies, cancelling_a_call_in_flight_frees_its_least_busy_slot) {
  litellm_router_options o = litellm_test_group(1, 0);
  o.routing_strategy = litellm_routing_strategy::least_busy;
  litellm_rig rig(o);
  call_context ctx;
  testing::recording_receiver receiver;
  operation& op = rig.policy->start(call_scope{&ctx, time_never}, receiver);
  EXPECT_EQ(rig.policy->group(0).state(0).in_flight, 1U);
  op.cancel();
  EXPECT_EQ(rig.policy->group(0).state(0).in_flight, 0U);
  rig.loop.run();
}

TEST(litellm_router_strategies, latency_based_learns_from_the_calls_it_routes) {
  litellm_router_options o = litellm_test_group(2, 0);
  o.routing_strategy = litellm_routing_strategy::latency_based;
  litellm_rig rig(o);
  rig.fallback = litellm_success_of(10, 100);
  // No map yet: both average 0 and the first call is a draw between them.
  litellm_mirror m;
  const std::size_t first = m.pick(2);
  rig.call();
  EXPECT_EQ(rig.attempts[0].model, "m" + std::to_string(first));
  // The map exists now: the other gets its placeholder [0] and is the lowest.
  rig.call();
  EXPECT_EQ(rig.attempts[1].model, "m" + std::to_string(1 - first));
  // [0.01 s / 100 tokens] against [0, 0.0001]: the second one averages less and keeps the traffic.
  rig.call();
  EXPECT_EQ(rig.attempts[2].model, "m" + std::to_string(1 - first));
  EXPECT_DOUBLE_EQ(rig.policy->group(0).average_latency_s(first, rig.loop.now()), 0.0001);
}

TEST(litellm_router_strategies, usage_based_with_every_deployment_over_its_limit_fails_rate_limited) {
  litellm_router_options o = litellm_test_group(2, 2);
  o.routing_strategy = litellm_routing_strategy::usage_based;
  o.deployments[0].tpm = 100;
  o.deployments[1].tpm = 100;
  litellm_rig rig(o);
  rig.fallback = outcome{};
  timed_call& c = rig.call(101);
  EXPECT_EQ(rig.attempts.size(), 0U);
  EXPECT_EQ(c.receiver.last.kind, outcome_class::rate_limited);
  EXPECT_FALSE(c.receiver.last.retry_after.has_value());
  // Both deployments stay healthy, so the loop retries twice, without sleeping, and finds none again.
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_scheduled), 2U);
  EXPECT_EQ(c.receiver.at, time_point{});
  // A request within the limits is routed.
  rig.call(100);
  EXPECT_EQ(rig.attempts.size(), 1U);
}

TEST(litellm_router_strategies, usage_based_v2_refuses_the_attempt_past_rpm_with_a_429_against_the_deployment) {
  litellm_router_options o = litellm_test_group(1, 1);
  o.routing_strategy = litellm_routing_strategy::usage_based_v2;
  o.deployments[0].rpm = 1;
  litellm_rig rig(o);
  rig.fallback = outcome{};
  rig.call();
  EXPECT_EQ(rig.attempts.size(), 1U);
  timed_call& c = rig.call();
  // The second attempt this minute never reaches the provider: a 429 with Retry-After 60 s. Its retry,
  // 60 s + jitter later, is in the next minute and goes through.
  litellm_mirror m;
  const duration sleep = from_s(60.0) + m.jitter();
  EXPECT_EQ(rig.delays(policy_event_kind::retry_scheduled), (std::vector<duration>{sleep}));
  ASSERT_EQ(rig.attempts.size(), 2U);
  EXPECT_EQ(rig.attempts[1].start, time_point{} + fallback_attempt_latency + sleep);
  EXPECT_TRUE(c.receiver.last.ok());
}

TEST(litellm_router_strategies, usage_based_v2_with_every_deployment_over_tpm_fails_with_retry_after_60_s) {
  litellm_router_options o = litellm_test_group(1, 0);
  o.routing_strategy = litellm_routing_strategy::usage_based_v2;
  o.deployments[0].tpm = 10;
  litellm_rig rig(o);
  timed_call& c = rig.call(11);
  EXPECT_EQ(rig.attempts.size(), 0U);
  EXPECT_EQ(c.receiver.last.kind, outcome_class::rate_limited);
  ASSERT_TRUE(c.receiver.last.retry_after.has_value());
  EXPECT_EQ(*c.receiver.last.retry_after, from_s(60.0));
}

}  // namespace
}  // namespace squall
