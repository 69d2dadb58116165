// LiteLLM's routing strategies (policies/litellm_router/litellm_routing.hpp) on one litellm_group, against
// sequences computed by hand from LiteLLM's router_strategy/ files: a fixed clock, the seed's draws replayed.

#include "policies/litellm_router/litellm_routing.hpp"

#include <array>
#include <string>

#include <gtest/gtest.h>

namespace squall {
namespace {

constexpr std::uint64_t routing_seed = 7;

litellm_router_options routing_group(std::size_t n, litellm_routing_strategy strategy) {
  litellm_router_options o;
  for (std::size_t i = 0; i < n; ++i) {
    litellm_deployment d;
    d.provider = "p";
    d.model = "m" + std::to_string(i);
    d.name = "p/" + d.model;
    o.deployments.push_back(d);
  }
  o.routing_strategy = strategy;
  return o;
}

outcome routing_success(std::uint32_t input_tokens, std::uint32_t output_tokens) {
  outcome o;
  o.input_tokens = input_tokens;
  o.output_tokens = output_tokens;
  return o;
}

void routing_cool(litellm_group& g, std::size_t index, time_point until) {
  g.state(index).cooled = true;
  g.state(index).cooling_until = until;
}

std::size_t picked(litellm_group& g, time_point now, rng& random, std::uint32_t input_tokens = 0) {
  const litellm_pick p = g.pick(now, input_tokens, random);
  EXPECT_EQ(p.status, litellm_pick_status::picked);
  return p.index;
}

const time_point t0{};

// ---- simple-shuffle ----

TEST(litellm_routing, simple_shuffle_weighs_by_rpm_when_no_deployment_has_a_weight) {
  litellm_router_options o = routing_group(2, litellm_routing_strategy::simple_shuffle);
  o.deployments[0].rpm = 100;
  o.deployments[1].rpm = 300;
  litellm_group g("g", o.deployments, o);
  rng random(routing_seed);
  rng mirror(routing_seed);
  // The draw is u * 400 against the weights 100, 300, exactly.
  for (int i = 0; i < 50; ++i) {
    const std::size_t expected = mirror.uniform() * 400.0 < 100.0 ? 0 : 1;
    EXPECT_EQ(picked(g, t0, random), expected) << "draw " << i;
  }
  // Over 20000 draws the share of m1 is 3/4 within 0.02 (about 6 standard deviations).
  std::array<int, 2> counts{};
  for (int i = 0; i < 20000; ++i) ++counts[picked(g, t0, random)];
  EXPECT_NEAR(counts[1] / 20000.0, 0.75, 0.02);
}

TEST(litellm_routing, simple_shuffle_weighs_by_tpm_and_a_missing_key_weighs_0) {
  litellm_router_options o = routing_group(3, litellm_routing_strategy::simple_shuffle);
  o.deployments[0].tpm = 1000;
  o.deployments[1].tpm = 3000;
  o.deployments[2].rpm = 50;  // no tpm: weight 0 once the first healthy deployment chose tpm
  litellm_group g("g", o.deployments, o);
  rng random(routing_seed);
  std::array<int, 3> counts{};
  for (int i = 0; i < 4000; ++i) ++counts[picked(g, t0, random)];
  EXPECT_EQ(counts[2], 0);
  EXPECT_NEAR(counts[1] / 4000.0, 0.75, 0.04);
}

TEST(litellm_routing, simple_shuffle_keeps_weights_when_any_deployment_has_one) {
  litellm_router_options o = routing_group(2, litellm_routing_strategy::simple_shuffle);
  o.deployments[0].weight = 2.0;
  o.deployments[0].weight_given = true;
  o.deployments[0].rpm = 1;
  o.deployments[1].rpm = 1000;  // ignored: m1 weighs its default weight 1
  litellm_group g("g", o.deployments, o);
  rng random(routing_seed);
  rng mirror(routing_seed);
  for (int i = 0; i < 50; ++i) {
    const std::size_t expected = mirror.uniform() * 3.0 < 2.0 ? 0 : 1;
    EXPECT_EQ(picked(g, t0, random), expected) << "draw " << i;
  }
}

TEST(litellm_routing, every_deployment_cooling_means_no_deployment) {
  litellm_router_options o = routing_group(2, litellm_routing_strategy::simple_shuffle);
  litellm_group g("g", o.deployments, o);
  routing_cool(g, 0, t0 + from_s(5.0));
  routing_cool(g, 1, t0 + from_s(5.0));
  rng random(routing_seed);
  EXPECT_EQ(g.pick(t0, 0, random).status, litellm_pick_status::none_healthy);
  EXPECT_LT(picked(g, t0 + from_s(5.0), random), 2U);
}

// ---- least-busy ----

TEST(litellm_routing, least_busy_picks_the_fewest_in_flight_and_the_first_seen_on_ties) {
  litellm_router_options o = routing_group(3, litellm_routing_strategy::least_busy);
  litellm_group g("g", o.deployments, o);
  rng random(routing_seed);
  rng mirror(routing_seed);
  g.attempt_started(0);
  g.attempt_started(0);
  g.attempt_started(1);
  g.attempt_started(2);
  EXPECT_EQ(picked(g, t0, random), 1U);  // 2, 1, 1 in flight: the first of the ties
  g.attempt_ended(0, t0, routing_success(1, 1), from_ms(10));
  g.attempt_ended(0, t0, outcome::failure(outcome_class::server_error), from_ms(10));
  EXPECT_EQ(picked(g, t0, random), 0U);  // failures count down too: 0, 1, 1

  // The minimum is taken over cooling deployments too; when it is one, a uniform draw among the healthy.
  routing_cool(g, 0, t0 + from_s(5.0));
  const std::size_t k = static_cast<std::size_t>(mirror.uniform() * 2.0);
  EXPECT_EQ(picked(g, t0, random), k == 0 ? 1U : 2U);
}

TEST(litellm_routing, least_busy_ranks_a_deployment_first_seen_later_after_the_others) {
  litellm_router_options o = routing_group(2, litellm_routing_strategy::least_busy);
  litellm_group g("g", o.deployments, o);
  rng random(routing_seed);
  routing_cool(g, 0, t0 + from_s(5.0));
  EXPECT_EQ(picked(g, t0, random), 1U);  // only m1 is seen: the dict is {m1}
  // Back from its cooldown m0 joins the dict after m1; both idle, the tie goes to m1.
  EXPECT_EQ(picked(g, t0 + from_s(5.0), random), 1U);
  g.attempt_started(1);
  EXPECT_EQ(picked(g, t0 + from_s(5.0), random), 0U);
}

// ---- latency-based-routing ----

TEST(litellm_routing, latency_based_picks_the_lowest_average_and_an_unsampled_deployment_averages_0) {
  litellm_router_options o = routing_group(3, litellm_routing_strategy::latency_based);
  litellm_group g("g", o.deployments, o);
  rng random(routing_seed);
  // Samples are seconds per output token: 2 s / 100 = 0.02, 1 s / 100 = 0.01.
  g.attempt_ended(0, t0, routing_success(10, 100), from_s(2.0));
  g.attempt_ended(1, t0, routing_success(10, 100), from_s(1.0));
  EXPECT_DOUBLE_EQ(g.average_latency_s(0, t0), 0.02);
  EXPECT_DOUBLE_EQ(g.average_latency_s(1, t0), 0.01);
  EXPECT_EQ(picked(g, t0, random), 2U);  // m2 has no sample: its placeholder [0] averages 0
  // That placeholder stays in the list: 3 s / 100 = 0.03 makes [0, 0.03], averaging 0.015 > 0.01.
  g.attempt_ended(2, t0, routing_success(10, 100), from_s(3.0));
  EXPECT_DOUBLE_EQ(g.average_latency_s(2, t0), 0.015);
  EXPECT_EQ(picked(g, t0, random), 1U);
  // A timeout is a 1000 s sample: m1 now averages (0.01 + 1000) / 2, and m2 (0.015) is the lowest.
  g.attempt_ended(1, t0, outcome::failure(outcome_class::timeout), from_s(600.0));
  EXPECT_DOUBLE_EQ(g.average_latency_s(1, t0), (0.01 + 1000.0) / 2.0);
  EXPECT_EQ(picked(g, t0, random), 2U);
  // Other failures leave no sample.
  g.attempt_ended(2, t0, outcome::failure(outcome_class::server_error), from_s(9.0));
  EXPECT_DOUBLE_EQ(g.average_latency_s(2, t0), 0.015);
}

TEST(litellm_routing, latency_based_keeps_the_first_nine_samples_and_replaces_the_tenth) {
  litellm_router_options o = routing_group(1, litellm_routing_strategy::latency_based);
  litellm_group g("g", o.deployments, o);
  for (int i = 0; i < 10; ++i) g.attempt_ended(0, t0, routing_success(1, 1), from_s(0.5));
  EXPECT_DOUBLE_EQ(g.average_latency_s(0, t0), 0.5);
  g.attempt_ended(0, t0, routing_success(1, 1), from_s(10.5));
  EXPECT_DOUBLE_EQ(g.average_latency_s(0, t0), (9 * 0.5 + 10.5) / 10.0);
  // The next sample replaces the 10th again; the first nine never leave.
  g.attempt_ended(0, t0, routing_success(1, 1), from_s(0.5));
  EXPECT_DOUBLE_EQ(g.average_latency_s(0, t0), 0.5);
}

TEST(litellm_routing, latency_based_draws_among_those_within_the_buffer) {
  litellm_router_options o = routing_group(3, litellm_routing_strategy::latency_based);
  o.routing_strategy_args.lowest_latency_buffer = 0.5;
  litellm_group g("g", o.deployments, o);
  g.attempt_ended(0, t0, routing_success(1, 10), from_s(0.1));  // 0.01
  g.attempt_ended(1, t0, routing_success(1, 10), from_s(0.14));  // 0.014 <= 0.01 * 1.5
  g.attempt_ended(2, t0, routing_success(1, 10), from_s(0.16));  // 0.016 > 0.015
  rng random(routing_seed);
  rng mirror(routing_seed);
  std::array<int, 3> counts{};
  for (int i = 0; i < 40; ++i) {
    const std::size_t expected = static_cast<std::size_t>(mirror.uniform() * 2.0);
    const std::size_t got = picked(g, t0, random);
    EXPECT_EQ(got, expected) << "draw " << i;
    ++counts[got];
  }
  EXPECT_EQ(counts[2], 0);
  EXPECT_GT(counts[0], 0);
  EXPECT_GT(counts[1], 0);
}

TEST(litellm_routing, latency_based_forgets_its_map_ttl_after_the_last_write) {
  litellm_router_options o = routing_group(2, litellm_routing_strategy::latency_based);
  o.routing_strategy_args.ttl_s = 30.0;
  litellm_group g("g", o.deployments, o);
  g.attempt_ended(0, t0, routing_success(1, 1), from_s(5.0));
  g.attempt_ended(1, t0 + from_s(10.0), routing_success(1, 1), from_s(1.0));
  EXPECT_DOUBLE_EQ(g.average_latency_s(0, t0 + from_s(39.0)), 5.0);  // renewed by m1's write at 10 s
  EXPECT_DOUBLE_EQ(g.average_latency_s(0, t0 + from_s(40.0)), 0.0);
}

TEST(litellm_routing, latency_based_skips_a_deployment_at_its_rpm_and_a_success_without_output_leaves_nothing) {
  litellm_router_options o = routing_group(2, litellm_routing_strategy::latency_based);
  o.deployments[0].rpm = 1;
  litellm_group g("g", o.deployments, o);
  rng random(routing_seed);
  g.attempt_ended(1, t0, routing_success(1, 1), from_s(9.0));  // m1 averages 9
  EXPECT_EQ(picked(g, t0, random), 0U);                        // m0's placeholder: 0
  g.attempt_ended(0, t0, routing_success(1, 0), from_s(1.0));  // 0 output tokens: no sample, no count
  EXPECT_EQ(g.usage(0, t0).successes, 0U);
  g.attempt_ended(0, t0, routing_success(1, 100), from_s(1.0));
  EXPECT_EQ(g.usage(0, t0).successes, 1U);
  EXPECT_EQ(picked(g, t0, random), 1U);  // m0: 1 success + 1 > rpm 1
  EXPECT_EQ(picked(g, t0 + from_s(60.0), random), 0U);  // a new minute
}

// ---- usage-based-routing (v1) ----

TEST(litellm_routing, usage_based_picks_the_lowest_tokens_this_minute_and_skips_at_rpm_minus_1) {
  litellm_router_options o = routing_group(2, litellm_routing_strategy::usage_based);
  o.deployments[0].rpm = 3;
  litellm_group g("g", o.deployments, o);
  rng random(routing_seed);
  const time_point t = t0 + from_s(1.0);
  EXPECT_EQ(picked(g, t, random), 0U);  // both unused: the first
  g.attempt_ended(0, t, routing_success(60, 40), from_ms(10));  // m0: 100 tokens
  EXPECT_EQ(picked(g, t, random), 1U);
  g.attempt_ended(1, t, routing_success(30, 20), from_ms(10));  // m1: 50
  EXPECT_EQ(picked(g, t, random), 1U);
  g.attempt_ended(1, t, routing_success(30, 20), from_ms(10));  // m1: 100, a tie
  EXPECT_EQ(picked(g, t, random), 0U);                          // m0 succeeded first this minute
  g.attempt_ended(0, t, routing_success(1, 1), from_ms(10));      // m0: 2 successes, 102 tokens
  g.attempt_ended(1, t, routing_success(100, 100), from_ms(10));  // m1: 300 tokens
  // m0 has fewer tokens, but rpm 3 skips it at 2 successes (2 + 1 >= 3).
  EXPECT_EQ(picked(g, t, random), 1U);
  // The minute rolls over at 60 s: every count is 0 again and m0 leads.
  EXPECT_EQ(picked(g, t0 + from_s(60.0), random), 0U);
}

TEST(litellm_routing, usage_based_ties_follow_the_order_of_first_success_in_the_minute) {
  litellm_router_options o = routing_group(2, litellm_routing_strategy::usage_based);
  litellm_group g("g", o.deployments, o);
  rng random(routing_seed);
  g.attempt_ended(1, t0, routing_success(0, 0), from_ms(10));  // m1 enters the dict first, with 0 tokens
  EXPECT_EQ(picked(g, t0, random), 1U);
}

TEST(litellm_routing, usage_based_with_every_deployment_over_tpm_has_no_deployment) {
  litellm_router_options o = routing_group(2, litellm_routing_strategy::usage_based);
  o.deployments[0].tpm = 1000;
  o.deployments[1].tpm = 500;
  litellm_group g("g", o.deployments, o);
  rng random(routing_seed);
  g.attempt_ended(0, t0, routing_success(500, 100), from_ms(10));  // m0: 600 tokens
  g.attempt_ended(1, t0, routing_success(400, 50), from_ms(10));   // m1: 450 tokens
  EXPECT_EQ(picked(g, t0, random, 50), 1U);   // m1: 450 + 50 = 500 reaches tpm without passing it
  EXPECT_EQ(picked(g, t0, random, 51), 0U);   // m1 would pass 500; m0: 651 <= 1000
  EXPECT_EQ(g.pick(t0, 401, random).status, litellm_pick_status::none_within_limits);
}

// ---- usage-based-routing-v2 ----

TEST(litellm_routing, usage_based_v2_draws_among_ties_and_ignores_rpm_when_choosing) {
  litellm_router_options o = routing_group(3, litellm_routing_strategy::usage_based_v2);
  o.deployments[1].rpm = 1;
  litellm_group g("g", o.deployments, o);
  rng random(routing_seed);
  rng mirror(routing_seed);
  g.attempt_ended(2, t0, routing_success(5, 5), from_ms(10));  // m2: 10 tokens; m0 and m1 tie at 0
  g.attempt_ended(1, t0, routing_success(0, 0), from_ms(10));  // a success at m1's rpm: still chosen
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(picked(g, t0, random), static_cast<std::size_t>(mirror.uniform() * 2.0)) << "draw " << i;
  }
}

TEST(litellm_routing, usage_based_v2_admits_rpm_attempts_a_minute) {
  litellm_router_options o = routing_group(1, litellm_routing_strategy::usage_based_v2);
  o.deployments[0].rpm = 2;
  litellm_group g("g", o.deployments, o);
  EXPECT_TRUE(g.admit(0, t0));
  EXPECT_TRUE(g.admit(0, t0 + from_s(30.0)));
  EXPECT_FALSE(g.admit(0, t0 + from_s(59.0)));
  EXPECT_FALSE(g.admit(0, t0 + from_s(59.5)));  // a refusal is not counted, and does not help either
  EXPECT_TRUE(g.admit(0, t0 + from_s(60.0)));
}

}  // namespace
}  // namespace squall
