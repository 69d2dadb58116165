// The router under virtual time: the target per request class and priority, and moving off a target
// whose answers fail, then back after the recheck.

#include "policies/router/router.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/engine/event_loop.hpp"
#include "tests/policies/fallback/routed_providers.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::recording_receiver;
using testing::recording_sink;
using testing::routed_providers;
using testing::routed_rig;

router_target target(std::string provider, std::string model) {
  router_target t{std::move(provider), std::move(model), {}};
  t.name = (t.provider.empty() ? std::string("*") : t.provider) + "/" + t.model;
  return t;
}

router_candidate candidate(std::string provider, std::string model, double usd, double quality, double speed) {
  return router_candidate{target(std::move(provider), std::move(model)), usd, quality, speed};
}

// Four candidates whose orders differ under every priority:
//   0 openai/gpt-4o-mini  $0.6   q 0.6   speed 100
//   1 openai/gpt-4o       $10    q 0.9   speed 60
//   2 local/llama-3-8b    $0     q 0.3   speed 20
//   3 anthropic/opus      $75    q 0.95  speed 30
router_options four_candidates(router_priority priority) {
  router_options o;
  o.priority = priority;
  o.candidates = {candidate("openai", "gpt-4o-mini", 0.6, 0.6, 100), candidate("openai", "gpt-4o", 10, 0.9, 60),
                  candidate("local", "llama-3-8b", 0, 0.3, 20), candidate("anthropic", "opus", 75, 0.95, 30)};
  return o;
}

// A router in front of the routing transport. Requests ask for openai/gpt-4o unless told otherwise.
struct router_rig : routed_rig<router_handler> {
  explicit router_rig(const router_options& o) : routed_rig(o, "router") {}

  std::unique_ptr<pending> begin(std::uint8_t complexity, std::uint64_t id = 1) {
    return routed_rig::begin(id, time_never, complexity);
  }

  outcome call(std::uint8_t complexity, std::uint64_t id = 1) {
    auto p = begin(complexity, id);
    return finish(*p);
  }

  std::string served(std::uint8_t complexity) {
    const outcome o = call(complexity);
    return std::string(o.provider) + "/" + std::string(o.model);
  }

  const policy_event* last(policy_event_kind kind) const {
    const policy_event* found = nullptr;
    for (const auto& e : sink.events) {
      if (e.kind == kind) found = &e;
    }
    return found;
  }

};

TEST(router, routes_pick_the_class_then_the_next_higher_class_then_the_requests_own) {
  router_options o;
  o.routes[0] = target("local", "llama-3-8b");
  o.routes[2] = target("anthropic", "sonnet");
  router_rig rig(o);
  EXPECT_EQ(rig.served(0), "local/llama-3-8b");
  EXPECT_EQ(rig.served(1), "anthropic/sonnet") << "moderate has no route: the next higher class's";
  EXPECT_EQ(rig.served(2), "anthropic/sonnet");
  EXPECT_EQ(rig.sink.count(policy_event_kind::routed), 3U);
  EXPECT_EQ(rig.served(3), "openai/gpt-4o") << "nothing at or above critical: the request's own model";
  EXPECT_EQ(rig.served(200), "openai/gpt-4o") << "larger complexities count as critical";
  EXPECT_EQ(rig.sink.count(policy_event_kind::routed), 3U);
  const policy_event* e = rig.last(policy_event_kind::routed);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->detail, "anthropic/sonnet");
  EXPECT_EQ(e->value, 2U) << "the request class";
  EXPECT_EQ(e->policy, "router");
  EXPECT_EQ(rig.policy.targets(), 2U);
}

TEST(router, a_route_without_provider_keeps_the_requests_provider_and_routed_is_only_a_change) {
  router_options o;
  o.routes[0] = target("", "gpt-4o-mini");
  o.routes[1] = target("", "gpt-4o");
  router_rig rig(o);
  EXPECT_EQ(rig.served(0), "openai/gpt-4o-mini");
  ASSERT_EQ(rig.sink.count(policy_event_kind::routed), 1U);
  EXPECT_EQ(rig.sink.events[0].detail, "*/gpt-4o-mini");
  EXPECT_EQ(rig.served(1), "openai/gpt-4o");
  EXPECT_EQ(rig.sink.count(policy_event_kind::routed), 1U) << "the request's own model: no event";
}

TEST(router, candidates_are_ordered_per_class_by_the_priority) {
  using list = std::vector<std::uint8_t>;
  sim::event_loop loop;
  recording_sink sink;
  routed_providers providers(loop, from_ms(1));
  const auto orders = [&](router_priority p) {
    router_handler h(four_candidates(p), "r", policy_environment{loop, sink, 1}, providers.transport);
    return std::vector<list>{h.preference(0), h.preference(1), h.preference(2), h.preference(3)};
  };
  // Eligible (quality >= 0, 0.4, 0.7, 0.9) by the priority, then the rest by quality.
  EXPECT_EQ(orders(router_priority::cost), (std::vector<list>{{2, 0, 1, 3}, {0, 1, 3, 2}, {1, 3, 0, 2}, {1, 3, 0, 2}}));
  EXPECT_EQ(orders(router_priority::speed), (std::vector<list>{{0, 1, 3, 2}, {0, 1, 3, 2}, {1, 3, 0, 2}, {1, 3, 0, 2}}));
  EXPECT_EQ(orders(router_priority::quality), (std::vector<list>{{3, 1, 0, 2}, {3, 1, 0, 2}, {3, 1, 0, 2}, {3, 1, 0, 2}}));
  // balanced = (q/0.95 + s/100 + 1 - c/75) / 3: mini 0.767, gpt-4o 0.694, llama 0.505, opus 0.451.
  EXPECT_EQ(orders(router_priority::balanced),
            (std::vector<list>{{0, 1, 2, 3}, {0, 1, 3, 2}, {1, 3, 0, 2}, {1, 3, 0, 2}}));
}

TEST(router, candidates_route_each_class_to_its_first_choice) {
  router_rig rig(four_candidates(router_priority::cost));
  EXPECT_EQ(rig.served(0), "local/llama-3-8b");
  EXPECT_EQ(rig.served(1), "openai/gpt-4o-mini");
  EXPECT_EQ(rig.served(2), "openai/gpt-4o");
  EXPECT_EQ(rig.served(3), "openai/gpt-4o");
  EXPECT_EQ(rig.sink.count(policy_event_kind::routed), 2U) << "gpt-4o is what the requests asked for";
}

TEST(router, equal_candidates_keep_the_list_order) {
  router_options o;
  o.priority = router_priority::cost;
  o.candidates = {candidate("anthropic", "a", 1, 0.5, 1), candidate("local", "b", 1, 0.5, 1)};
  router_rig rig(o);
  EXPECT_EQ(rig.policy.preference(0), (std::vector<std::uint8_t>{0, 1}));
  EXPECT_EQ(rig.served(0), "anthropic/a");
}

// Simple requests prefer local/llama-3-8b, then openai/gpt-4o-mini; recheck after one second.
router_options cheap_first() {
  router_options o;
  o.priority = router_priority::cost;
  o.candidates = {candidate("local", "llama-3-8b", 0, 0.5, 1), candidate("openai", "gpt-4o-mini", 0.6, 0.6, 1)};
  o.recheck_ms = 1000;
  return o;
}

TEST(router, moves_off_a_failing_target_and_back_after_the_recheck) {
  router_rig rig(cheap_first());
  rig.providers.fails["local/llama-3-8b"] = outcome_class::overloaded;
  for (std::uint64_t id = 1; id <= 9; ++id) {
    EXPECT_EQ(rig.call(0, id).kind, outcome_class::overloaded) << "the router does not retry";
  }
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U) << "fewer than 10 answers";
  rig.call(0, 10);
  ASSERT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);
  const policy_event unhealthy = *rig.last(policy_event_kind::endpoint_cooldown);
  EXPECT_EQ(unhealthy.detail, "local/llama-3-8b");
  EXPECT_EQ(unhealthy.cause, outcome_class::overloaded);
  EXPECT_EQ(unhealthy.value, 10U) << "failures in the window";
  EXPECT_EQ(unhealthy.request_id, 10U);
  EXPECT_EQ(rig.policy.health(0), target_health::unhealthy);

  EXPECT_EQ(rig.served(0), "openai/gpt-4o-mini");
  EXPECT_EQ(rig.last(policy_event_kind::routed)->detail, "openai/gpt-4o-mini");

  // (The request as rewritten while the inner call runs shows where a call went when it started.)
  rig.providers.fails.clear();
  rig.loop.run_until(unhealthy.at + from_ms(999));
  auto before = rig.begin(0, 11);
  EXPECT_EQ(before->ctx.req.model, "gpt-4o-mini") << "still skipped before recheck_ms";
  rig.loop.run_until(unhealthy.at + from_ms(1000));
  auto probe = rig.begin(0, 12);
  EXPECT_EQ(probe->ctx.req.model, "llama-3-8b") << "the probe, at recheck_ms";
  EXPECT_EQ(rig.finish(*before).model, "gpt-4o-mini");
  EXPECT_EQ(rig.finish(*probe).model, "llama-3-8b");
  ASSERT_EQ(rig.sink.count(policy_event_kind::endpoint_recovered), 1U);
  EXPECT_EQ(rig.last(policy_event_kind::endpoint_recovered)->detail, "local/llama-3-8b");
  EXPECT_EQ(rig.policy.health(0), target_health::healthy);
  EXPECT_EQ(rig.served(0), "local/llama-3-8b");
}

TEST(router, a_failed_probe_waits_another_recheck) {
  router_options o = cheap_first();
  o.health_answers_min = 1;
  o.health_window = 1;
  router_rig rig(o);
  rig.providers.fails["local/llama-3-8b"] = outcome_class::timeout;
  rig.call(0);
  ASSERT_EQ(rig.policy.health(0), target_health::unhealthy);
  rig.loop.run_until(rig.last(policy_event_kind::endpoint_cooldown)->at + from_ms(1000));
  EXPECT_EQ(rig.call(0).kind, outcome_class::timeout) << "the probe went to the failing target";
  ASSERT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 2U);
  const time_point again = rig.last(policy_event_kind::endpoint_cooldown)->at;
  rig.providers.fails.clear();
  rig.loop.run_until(again + from_ms(999));
  EXPECT_EQ(rig.served(0), "openai/gpt-4o-mini");
  rig.loop.run_until(again + from_ms(1000));
  EXPECT_EQ(rig.served(0), "local/llama-3-8b");
}

TEST(router, one_probe_at_a_time) {
  router_options o = cheap_first();
  o.health_answers_min = 1;
  router_rig rig(o);
  rig.providers.fails["local/llama-3-8b"] = outcome_class::server_error;
  rig.call(0);
  rig.providers.fails.clear();
  rig.loop.run_until(rig.loop.now() + from_ms(1000));
  auto a = rig.begin(0, 2);
  auto b = rig.begin(0, 3);
  EXPECT_EQ(rig.finish(*a).model, "llama-3-8b");
  EXPECT_EQ(rig.finish(*b).model, "gpt-4o-mini") << "the second call skips the target under probe";
}

TEST(router, unhealthy_means_strictly_above_the_failure_rate) {
  router_rig rig(cheap_first());
  for (int i = 0; i < 10; ++i) {
    if (i % 2 == 0) {
      rig.providers.fails["local/llama-3-8b"] = outcome_class::server_error;
    } else {
      rig.providers.fails.clear();
    }
    rig.call(0);
  }
  EXPECT_EQ(rig.policy.health(0), target_health::healthy) << "5 of 10 is not above 0.5";
  rig.providers.fails["local/llama-3-8b"] = outcome_class::server_error;
  rig.call(0);
  EXPECT_EQ(rig.policy.health(0), target_health::unhealthy) << "6 of 11";
}

TEST(router, the_window_forgets_old_answers) {
  router_options o = cheap_first();
  o.health_window = 10;
  router_rig rig(o);
  rig.providers.fails["local/llama-3-8b"] = outcome_class::server_error;
  for (int i = 0; i < 5; ++i) rig.call(0);
  rig.providers.fails.clear();
  for (int i = 0; i < 10; ++i) rig.call(0);  // the failures slide out
  rig.providers.fails["local/llama-3-8b"] = outcome_class::server_error;
  for (int i = 0; i < 5; ++i) rig.call(0);
  EXPECT_EQ(rig.policy.health(0), target_health::healthy) << "5 of the last 10";
  rig.call(0);
  EXPECT_EQ(rig.policy.health(0), target_health::unhealthy) << "6 of the last 10";
}

TEST(router, the_requests_own_mistakes_are_not_recorded) {
  router_rig rig(cheap_first());
  rig.providers.fails["local/llama-3-8b"] = outcome_class::invalid_request;
  for (int i = 0; i < 30; ++i) rig.call(0);
  EXPECT_EQ(rig.policy.health(0), target_health::healthy);
}

TEST(router, with_no_healthy_target_the_request_goes_where_it_asked) {
  router_options o;
  o.routes[0] = target("local", "llama-3-8b");
  o.health_answers_min = 1;
  router_rig rig(o);
  rig.providers.fails["local/llama-3-8b"] = outcome_class::overloaded;
  rig.call(0);
  ASSERT_EQ(rig.policy.health(0), target_health::unhealthy);
  rig.sink.events.clear();
  EXPECT_EQ(rig.served(0), "openai/gpt-4o");
  EXPECT_TRUE(rig.sink.events.empty());
}

TEST(router, cancel_puts_the_request_back_and_lets_the_next_call_probe) {
  router_options o = cheap_first();
  o.health_answers_min = 1;
  router_rig rig(o);
  rig.providers.fails["local/llama-3-8b"] = outcome_class::overloaded;
  rig.call(0);
  rig.providers.fails.clear();
  rig.loop.run_until(rig.loop.now() + from_ms(1000));
  auto p = rig.begin(0, 2);
  EXPECT_EQ(p->ctx.req.model, "llama-3-8b");
  EXPECT_EQ(p->ctx.req.provider, "local");
  p->op->cancel();
  EXPECT_EQ(p->ctx.req.model, "gpt-4o");
  EXPECT_EQ(p->ctx.req.provider, "openai");
  EXPECT_EQ(rig.providers.cancelled(), 1);
  EXPECT_EQ(rig.loop.pending(), 0U);
  EXPECT_EQ(p->receiver.calls, 0);
  EXPECT_EQ(rig.served(0), "local/llama-3-8b");
  EXPECT_EQ(rig.policy.health(0), target_health::healthy);
}

TEST(router, spec_builds_a_handler_named_after_the_policy) {
  router_options o;
  o.routes[0] = target("local", "llama-3-8b");
  router_spec spec(o);
  spec.name = "tiers";
  EXPECT_EQ(spec.type(), "router");
  EXPECT_EQ(router_registration().type, "router");
  sim::event_loop loop;
  recording_sink sink;
  routed_providers providers(loop, from_ms(1));
  auto h = spec.build(policy_environment{loop, sink, 1}, providers.transport);
  call_context ctx;
  ctx.req.model = "gpt-4o";
  recording_receiver r;
  h->start(call_scope{&ctx, time_never}, r);
  while (loop.step()) {
  }
  EXPECT_EQ(r.last.provider, "local");
  ASSERT_EQ(sink.events.size(), 1U);
  EXPECT_EQ(sink.events[0].policy, "tiers");
}

}  // namespace
}  // namespace squall
