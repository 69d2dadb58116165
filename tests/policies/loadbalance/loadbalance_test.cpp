// The loadbalance policy under virtual time: one target per call drawn by weight (Portkey's rule, on the
// policy's own seeded stream), no move to another target on failure, and Portkey's per-target breaker
// leaving open targets out of the draw.

#include "policies/loadbalance/loadbalance.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "policies/core/rng.hpp"
#include "tests/policies/fallback/routed_providers.hpp"

namespace squall {
namespace {

using testing::routed_rig;

loadbalance_target lb_target(std::string provider, std::string model, double weight) {
  loadbalance_target t{std::move(provider), std::move(model), weight, {}};
  t.name = t.provider + "/" + t.model;
  return t;
}

// openai/gpt-4o weighs 3, anthropic/claude 1, local/llama 0.
loadbalance_options three_to_one() {
  loadbalance_options o;
  o.targets = {lb_target("openai", "gpt-4o", 3.0), lb_target("anthropic", "claude", 1.0),
               lb_target("local", "llama", 0.0)};
  return o;
}

// A loadbalance policy (seed 1) in front of the routed providers. Requests ask for openai/gpt-4o.
struct lb_rig : routed_rig<loadbalance_handler> {
  explicit lb_rig(const loadbalance_options& o) : routed_rig(o, "lb") {}

  outcome call(std::uint64_t id = 1) {
    auto p = begin(id, time_never, 0);
    return finish(*p);
  }

  std::size_t served_by(const std::string& name) const {
    std::size_t n = 0;
    for (const auto& s : providers.served) n += s == name ? 1U : 0U;
    return n;
  }
};

TEST(loadbalance, each_call_goes_to_the_target_portkeys_rule_picks_from_the_seeded_draw) {
  lb_rig rig(three_to_one());
  // Portkey's rule worked out on the same stream: u = uniform * 4; u < 3 is openai, else anthropic.
  rng draws(1);
  std::vector<std::string> expected;
  for (std::uint64_t i = 1; i <= 200; ++i) {
    const double u = draws.uniform() * 4.0;
    expected.push_back(u < 3.0 ? "openai/gpt-4o" : "anthropic/claude");
    EXPECT_TRUE(rig.call(i).ok());
  }
  EXPECT_EQ(rig.providers.served, expected);
}

TEST(loadbalance, shares_follow_the_weights_and_weight_zero_is_never_drawn) {
  lb_rig rig(three_to_one());
  constexpr int calls = 20000;
  for (int i = 0; i < calls; ++i) rig.call(static_cast<std::uint64_t>(i) + 1);
  // 0.75 and 0.25 within 0.01: the standard deviation of a share over 20000 draws is 0.0031.
  EXPECT_NEAR(static_cast<double>(rig.served_by("openai/gpt-4o")) / calls, 0.75, 0.01);
  EXPECT_NEAR(static_cast<double>(rig.served_by("anthropic/claude")) / calls, 0.25, 0.01);
  EXPECT_EQ(rig.served_by("local/llama"), 0U);
  EXPECT_EQ(rig.providers.served.size(), static_cast<std::size_t>(calls));
}

TEST(loadbalance, targets_without_a_weight_share_equally) {
  loadbalance_options o;
  o.targets = {lb_target("openai", "gpt-4o", 1.0), lb_target("anthropic", "claude", 1.0),
               lb_target("local", "llama", 1.0)};
  lb_rig rig(o);
  constexpr int calls = 12000;
  for (int i = 0; i < calls; ++i) rig.call(static_cast<std::uint64_t>(i) + 1);
  // 1/3 within 0.015 (the standard deviation is 0.0043).
  for (const char* name : {"openai/gpt-4o", "anthropic/claude", "local/llama"}) {
    EXPECT_NEAR(static_cast<double>(rig.served_by(name)) / calls, 1.0 / 3.0, 0.015) << name;
  }
}

TEST(loadbalance, a_failed_target_is_not_followed_by_another) {
  lb_rig rig(three_to_one());
  rig.providers.fails["anthropic/claude"] = outcome_class::server_error;
  std::size_t failures = 0;
  for (std::uint64_t i = 1; i <= 300; ++i) {
    const std::size_t before = rig.providers.served.size();
    const outcome o = rig.call(i);
    ASSERT_EQ(rig.providers.served.size(), before + 1) << "one attempt per call, whatever its outcome";
    if (!o.ok()) {
      ++failures;
      EXPECT_EQ(o.kind, outcome_class::server_error);
      EXPECT_EQ(rig.providers.served.back(), "anthropic/claude");
    }
  }
  EXPECT_EQ(failures, rig.served_by("anthropic/claude"));
  EXPECT_GT(failures, 0U);
  EXPECT_TRUE(rig.sink.events.empty()) << "no breaker, no events";
}

// openai/gpt-4o and anthropic/claude weigh 1 each; a breaker opens a target at its second failure and
// forgets it 30 s after its first.
loadbalance_options even_with_breaker() {
  loadbalance_options o;
  o.targets = {lb_target("openai", "gpt-4o", 1.0), lb_target("anthropic", "claude", 1.0)};
  target_breaker_options b;
  b.failures_to_open = 2;
  b.cooldown_ms = 30000.0;
  o.breaker = b;
  return o;
}

TEST(loadbalance, an_open_target_is_left_out_until_its_cooldown_has_run_from_its_first_failure) {
  lb_rig rig(even_with_breaker());
  rig.providers.fails["anthropic/claude"] = outcome_class::server_error;
  std::uint64_t id = 1;
  time_point first_failure{};
  while (rig.served_by("anthropic/claude") < 2) {
    rig.call(id++);
    if (rig.served_by("anthropic/claude") == 1 && first_failure == time_point{}) first_failure = rig.loop.now();
  }
  ASSERT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);
  EXPECT_EQ(rig.sink.events.back().detail, "anthropic/claude");
  EXPECT_EQ(rig.sink.events.back().value, 1U) << "its index";
  EXPECT_EQ(rig.policy.breakers()->failures(1), 2U) << "opened at its second failure";
  // Every call that starts up to 30 s after the first failure goes to openai.
  std::size_t while_open = 0;
  while (rig.loop.now() + from_ms(10) <= first_failure + from_ms(30000)) {
    const std::size_t before = rig.served_by("anthropic/claude");
    EXPECT_TRUE(rig.call(id++).ok());
    EXPECT_EQ(rig.served_by("anthropic/claude"), before) << "open: left out of the draw";
    ++while_open;
  }
  EXPECT_GT(while_open, 1000U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_recovered), 0U);
  // Past the cooldown it is back in the draw without a probe of any kind.
  rig.loop.run_until(first_failure + from_ms(30000) + duration{1});
  const std::size_t before = rig.served_by("anthropic/claude");
  for (int i = 0; i < 100; ++i) rig.call(id++);
  EXPECT_GT(rig.served_by("anthropic/claude"), before);
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_recovered), 1U);
}

TEST(loadbalance, when_every_target_is_open_none_is_left_out) {
  loadbalance_options o = even_with_breaker();
  o.breaker->failures_to_open = 1;
  lb_rig rig(o);
  rig.providers.fails["openai/gpt-4o"] = outcome_class::overloaded;
  rig.providers.fails["anthropic/claude"] = outcome_class::overloaded;
  std::uint64_t id = 1;
  while (rig.sink.count(policy_event_kind::endpoint_cooldown) < 2) rig.call(id++);
  const std::size_t openai_before = rig.served_by("openai/gpt-4o");
  const std::size_t anthropic_before = rig.served_by("anthropic/claude");
  for (int i = 0; i < 100; ++i) {
    const std::size_t before = rig.providers.served.size();
    EXPECT_EQ(rig.call(id++).kind, outcome_class::overloaded) << "the provider's failure, not circuit_open";
    EXPECT_EQ(rig.providers.served.size(), before + 1);
  }
  EXPECT_GT(rig.served_by("openai/gpt-4o"), openai_before);
  EXPECT_GT(rig.served_by("anthropic/claude"), anthropic_before);
}

TEST(loadbalance, when_the_targets_left_all_weigh_zero_the_call_fails_without_an_attempt) {
  loadbalance_options o;
  o.targets = {lb_target("openai", "gpt-4o", 1.0), lb_target("local", "llama", 0.0)};
  target_breaker_options b;
  b.failures_to_open = 1;
  o.breaker = b;
  lb_rig rig(o);
  rig.providers.fails["openai/gpt-4o"] = outcome_class::server_error;
  EXPECT_EQ(rig.call(1).kind, outcome_class::server_error);
  ASSERT_EQ(rig.providers.served.size(), 1U);
  const outcome o2 = rig.call(2);
  EXPECT_EQ(o2.kind, outcome_class::server_error);
  EXPECT_EQ(rig.providers.served.size(), 1U) << "Portkey selects nothing: no attempt";
  EXPECT_EQ(rig.served_by("local/llama"), 0U) << "weight 0 is never drawn, even alone";
}

TEST(loadbalance, a_cancelled_call_puts_the_request_back_and_counts_nothing) {
  loadbalance_options o = even_with_breaker();
  o.breaker->failures_to_open = 1;
  lb_rig rig(o);
  rig.providers.fails["openai/gpt-4o"] = outcome_class::server_error;
  rig.providers.fails["anthropic/claude"] = outcome_class::server_error;
  auto p = rig.begin(1, time_never, 0);
  p->op->cancel();
  EXPECT_EQ(p->ctx.req.provider, "openai");
  EXPECT_EQ(p->ctx.req.model, "gpt-4o");
  rig.loop.run();
  EXPECT_EQ(p->receiver.calls, 0);
  EXPECT_EQ(rig.providers.cancelled(), 1);
  ASSERT_NE(rig.policy.breakers(), nullptr);
  EXPECT_EQ(rig.policy.breakers()->failures(0) + rig.policy.breakers()->failures(1), 0U);
}

}  // namespace
}  // namespace squall
