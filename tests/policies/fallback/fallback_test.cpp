// The fallback chain under virtual time: order, who served, cooldowns and recovery probes, and the
// request put back as the caller made it.

#include "policies/fallback/fallback.hpp"

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

fallback_endpoint endpoint(std::string provider, std::string model) {
  fallback_endpoint e{std::move(provider), std::move(model), {}};
  e.name = (e.provider.empty() ? std::string("*") : e.provider) + "/" + (e.model.empty() ? "*" : e.model);
  return e;
}

// gpt-4o, then gpt-4o-mini on the same provider, then a local model; cooldowns of one second.
fallback_options three_endpoints() {
  fallback_options o;
  o.endpoints = {endpoint("openai", "gpt-4o"), endpoint("openai", "gpt-4o-mini"), endpoint("local", "llama-3-8b")};
  o.cooldown_ms = 1000.0;
  return o;
}

// A fallback in front of the routing transport. Requests ask for openai/gpt-4o.
struct fallback_rig : routed_rig<fallback_handler> {
  explicit fallback_rig(const fallback_options& o) : routed_rig(o, "fb") {}

  std::unique_ptr<pending> begin(std::uint64_t id = 1, time_point deadline = time_never) {
    return routed_rig::begin(id, deadline, 0);
  }

  outcome call(std::uint64_t id = 1, time_point deadline = time_never) {
    auto p = begin(id, deadline);
    return finish(*p);
  }

  std::size_t served_by(const std::string& endpoint_name) const {
    std::size_t n = 0;
    for (const auto& s : providers.served) n += s == endpoint_name ? 1U : 0U;
    return n;
  }

};

TEST(fallback, the_primary_serves_when_it_answers) {
  fallback_rig rig(three_endpoints());
  const outcome o = rig.call();
  EXPECT_TRUE(o.ok());
  EXPECT_EQ(o.provider, "openai");
  EXPECT_EQ(o.model, "gpt-4o");
  EXPECT_EQ(rig.providers.served, (std::vector<std::string>{"openai/gpt-4o"}));
  EXPECT_TRUE(rig.sink.events.empty());
}

TEST(fallback, tries_endpoints_in_order_and_reports_who_served) {
  fallback_rig rig(three_endpoints());
  rig.providers.fails["openai/gpt-4o"] = outcome_class::overloaded;
  outcome o = rig.call(7);
  EXPECT_TRUE(o.ok());
  EXPECT_EQ(o.provider, "openai");
  EXPECT_EQ(o.model, "gpt-4o-mini");
  EXPECT_EQ(rig.providers.served, (std::vector<std::string>{"openai/gpt-4o", "openai/gpt-4o-mini"}));
  ASSERT_EQ(rig.sink.count(policy_event_kind::fallback_used), 1U);
  const policy_event& e = rig.sink.events.back();
  EXPECT_EQ(e.detail, "openai/gpt-4o-mini");
  EXPECT_EQ(e.cause, outcome_class::overloaded);
  EXPECT_EQ(e.request_id, 7U);
  EXPECT_EQ(e.value, 1U);
  EXPECT_EQ(e.policy, "fb");

  rig.providers.fails["openai/gpt-4o-mini"] = outcome_class::server_error;
  o = rig.call(8);
  EXPECT_TRUE(o.ok());
  EXPECT_EQ(o.provider, "local");
  EXPECT_EQ(o.model, "llama-3-8b");
  EXPECT_EQ(rig.providers.started("local"), 1);
  EXPECT_EQ(rig.sink.events.back().detail, "local/llama-3-8b");
  EXPECT_EQ(rig.sink.events.back().cause, outcome_class::server_error);
}

TEST(fallback, an_exhausted_chain_delivers_the_last_failure) {
  fallback_options opts = three_endpoints();
  opts.failures_to_cooldown = 100;
  fallback_rig rig(opts);
  rig.providers.fails["openai/gpt-4o"] = outcome_class::overloaded;
  rig.providers.fails["openai/gpt-4o-mini"] = outcome_class::rate_limited;
  rig.providers.fails["local/llama-3-8b"] = outcome_class::connection_error;
  const outcome o = rig.call();
  EXPECT_EQ(o.kind, outcome_class::connection_error);
  EXPECT_EQ(o.provider, "local");
  EXPECT_EQ(rig.providers.served.size(), 3U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::fallback_used), 2U);
}

TEST(fallback, classes_not_in_fallback_on_are_delivered_at_once) {
  fallback_rig rig(three_endpoints());
  rig.providers.fails["openai/gpt-4o"] = outcome_class::invalid_request;
  const outcome o = rig.call();
  EXPECT_EQ(o.kind, outcome_class::invalid_request);
  EXPECT_EQ(rig.providers.served.size(), 1U);
  EXPECT_TRUE(rig.sink.events.empty());
}

TEST(fallback, an_omitted_provider_or_model_keeps_the_requests_own) {
  fallback_options o;
  o.endpoints = {endpoint("", "gpt-4o-mini"), endpoint("anthropic", ""), endpoint("", "")};
  fallback_rig rig(o);
  rig.providers.fails["openai/gpt-4o-mini"] = outcome_class::overloaded;
  rig.providers.fails["anthropic/gpt-4o"] = outcome_class::overloaded;
  const outcome result = rig.call();
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(rig.providers.served,
            (std::vector<std::string>{"openai/gpt-4o-mini", "anthropic/gpt-4o", "openai/gpt-4o"}));
  EXPECT_EQ(result.provider, "openai");
  EXPECT_EQ(result.model, "gpt-4o");
}

TEST(fallback, does_not_move_on_past_the_deadline) {
  fallback_rig rig(three_endpoints());
  rig.providers.fails["openai/gpt-4o"] = outcome_class::timeout;
  const outcome o = rig.call(1, rig.loop.now() + from_ms(5));
  EXPECT_EQ(o.kind, outcome_class::timeout);
  EXPECT_EQ(rig.providers.served.size(), 1U);
}

TEST(fallback, consecutive_failures_put_an_endpoint_in_cooldown_for_cooldown_ms) {
  fallback_rig rig(three_endpoints());
  rig.providers.fails["openai/gpt-4o"] = outcome_class::server_error;
  rig.call(1);
  rig.call(2);
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U);
  rig.call(3);
  ASSERT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);
  policy_event cooled{};
  for (const auto& e : rig.sink.events) {
    if (e.kind == policy_event_kind::endpoint_cooldown) cooled = e;
  }
  EXPECT_EQ(cooled.detail, "openai/gpt-4o");
  EXPECT_EQ(cooled.cause, outcome_class::server_error);
  EXPECT_EQ(cooled.request_id, 3U);
  EXPECT_EQ(rig.policy.state(0), endpoint_state::cooling);
  EXPECT_EQ(rig.served_by("openai/gpt-4o"), 3U);

  // Skipped while cooling: the call goes straight to the second endpoint, counted as a fallback.
  rig.sink.events.clear();
  outcome o = rig.call(4);
  EXPECT_EQ(o.model, "gpt-4o-mini");
  EXPECT_EQ(rig.served_by("openai/gpt-4o"), 3U);
  ASSERT_EQ(rig.sink.count(policy_event_kind::fallback_used), 1U);
  EXPECT_EQ(rig.sink.events[0].cause, outcome_class::circuit_open);

  // One millisecond before the cooldown ends it is still skipped, even though the provider is fine now.
  // (The request as rewritten while the inner call runs shows where a call went when it started.)
  rig.providers.fails.clear();
  rig.loop.run_until(cooled.at + from_ms(999));
  auto before_end = rig.begin(5);
  EXPECT_EQ(before_end->ctx.req.model, "gpt-4o-mini");

  // At cooldown_ms the next call probes it; the probe succeeds and the endpoint is healthy again.
  rig.loop.run_until(cooled.at + from_ms(1000));
  auto at_end = rig.begin(6);
  EXPECT_EQ(at_end->ctx.req.model, "gpt-4o");
  rig.sink.events.clear();
  EXPECT_EQ(rig.finish(*before_end).model, "gpt-4o-mini");
  o = rig.finish(*at_end);
  EXPECT_EQ(o.model, "gpt-4o");
  ASSERT_EQ(rig.sink.count(policy_event_kind::endpoint_recovered), 1U);
  EXPECT_EQ(rig.sink.events.back().detail, "openai/gpt-4o");
  EXPECT_EQ(rig.sink.events.back().request_id, 6U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::fallback_used), 0U);
  EXPECT_EQ(rig.policy.state(0), endpoint_state::healthy);
  EXPECT_EQ(rig.served_by("openai/gpt-4o"), 4U);
}

TEST(fallback, a_success_resets_the_consecutive_failures) {
  fallback_rig rig(three_endpoints());
  for (int round = 0; round < 3; ++round) {
    rig.providers.fails["openai/gpt-4o"] = outcome_class::overloaded;
    rig.call();
    rig.call();
    rig.providers.fails.clear();
    rig.call();
  }
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 0U);
  EXPECT_EQ(rig.policy.state(0), endpoint_state::healthy);
}

TEST(fallback, a_failed_probe_starts_another_cooldown) {
  fallback_options opts = three_endpoints();
  opts.failures_to_cooldown = 1;
  fallback_rig rig(opts);
  rig.providers.fails["openai/gpt-4o"] = outcome_class::overloaded;
  rig.call(1);
  ASSERT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);
  const time_point first = rig.sink.events.front().at;
  rig.loop.run_until(first + from_ms(1000));
  rig.sink.events.clear();
  const outcome o = rig.call(2);  // the probe fails, the call moves on
  EXPECT_EQ(o.model, "gpt-4o-mini");
  EXPECT_EQ(rig.served_by("openai/gpt-4o"), 2U);
  ASSERT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);
  const time_point second = rig.sink.events.front().at;
  EXPECT_EQ(second, first + from_ms(1000) + from_ms(10)) << "cooled again when the probe's answer came";
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_recovered), 0U);

  rig.providers.fails.clear();
  rig.loop.run_until(second + from_ms(999));
  rig.call(3);
  EXPECT_EQ(rig.served_by("openai/gpt-4o"), 2U) << "the new cooldown counts from the failed probe";
  rig.loop.run_until(second + from_ms(1000));
  EXPECT_EQ(rig.call(4).model, "gpt-4o");
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_recovered), 1U);
}

TEST(fallback, probe_calls_are_the_only_calls_let_through_and_must_all_succeed) {
  fallback_options opts = three_endpoints();
  opts.failures_to_cooldown = 1;
  opts.probe_calls = 2;
  fallback_rig rig(opts);
  rig.providers.fails["openai/gpt-4o"] = outcome_class::overloaded;
  rig.call(1);
  rig.providers.fails.clear();
  rig.loop.run_until(rig.loop.now() + from_ms(1000));
  rig.sink.events.clear();
  auto a = rig.begin(2);
  auto b = rig.begin(3);
  auto c = rig.begin(4);  // both probe permits are taken: skips to the next endpoint
  EXPECT_EQ(rig.finish(*a).model, "gpt-4o");
  EXPECT_EQ(rig.finish(*b).model, "gpt-4o");
  EXPECT_EQ(rig.finish(*c).model, "gpt-4o-mini");
  ASSERT_EQ(rig.sink.count(policy_event_kind::endpoint_recovered), 1U);
  for (const auto& e : rig.sink.events) {
    if (e.kind == policy_event_kind::endpoint_recovered) {
      EXPECT_EQ(e.request_id, 3U) << "after both probes";
    }
  }
  EXPECT_EQ(rig.call(5).model, "gpt-4o");
}

TEST(fallback, when_every_endpoint_cools_the_first_is_tried_without_counting) {
  fallback_options opts;
  opts.endpoints = {endpoint("openai", "gpt-4o"), endpoint("openai", "gpt-4o-mini")};
  opts.failures_to_cooldown = 1;
  fallback_rig rig(opts);
  rig.providers.fails["openai/gpt-4o"] = outcome_class::overloaded;
  rig.providers.fails["openai/gpt-4o-mini"] = outcome_class::server_error;
  EXPECT_EQ(rig.call(1).kind, outcome_class::server_error);
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 2U);
  rig.providers.fails.clear();
  rig.sink.events.clear();
  const outcome o = rig.call(2);
  EXPECT_TRUE(o.ok());
  EXPECT_EQ(o.model, "gpt-4o");
  EXPECT_TRUE(rig.sink.events.empty()) << "a forced call neither recovers the endpoint nor is a fallback";
  EXPECT_EQ(rig.policy.state(0), endpoint_state::cooling);
}

TEST(fallback, when_every_endpoint_cools_fail_answers_with_the_last_cooldown_class) {
  fallback_options opts;
  opts.endpoints = {endpoint("openai", "gpt-4o"), endpoint("openai", "gpt-4o-mini")};
  opts.failures_to_cooldown = 1;
  opts.when_all_cooling = all_cooling_mode::fail;
  fallback_rig rig(opts);
  rig.providers.fails["openai/gpt-4o"] = outcome_class::overloaded;
  rig.providers.fails["openai/gpt-4o-mini"] = outcome_class::rate_limited;
  rig.call(1);
  const std::size_t attempts = rig.providers.served.size();
  const time_point before = rig.loop.now();
  const outcome o = rig.call(2);  // also checks it is not delivered from inside start()
  EXPECT_EQ(o.kind, outcome_class::rate_limited);
  EXPECT_EQ(o.decided_by, "fb");
  EXPECT_EQ(rig.providers.served.size(), attempts) << "no endpoint is called";
  EXPECT_EQ(rig.loop.now(), before) << "answered from a zero-delay timer";
}

TEST(fallback, cancel_puts_the_request_back_and_returns_the_probe_permit) {
  fallback_options opts = three_endpoints();
  opts.failures_to_cooldown = 1;
  fallback_rig rig(opts);
  rig.providers.fails["openai/gpt-4o"] = outcome_class::overloaded;
  rig.call(1);
  rig.providers.fails.clear();
  rig.loop.run_until(rig.loop.now() + from_ms(1000));
  auto p = rig.begin(2);  // the probe
  EXPECT_EQ(p->ctx.req.model, "gpt-4o");
  rig.loop.run_until(rig.loop.now() + from_ms(5));
  p->op->cancel();
  EXPECT_EQ(p->receiver.calls, 0);
  EXPECT_EQ(rig.providers.cancelled(), 1);
  EXPECT_EQ(p->ctx.req.provider, "openai");
  EXPECT_EQ(p->ctx.req.model, "gpt-4o");
  EXPECT_EQ(rig.loop.pending(), 0U) << "nothing left behind";
  EXPECT_EQ(rig.call(3).model, "gpt-4o") << "the permit went to the next call";
  EXPECT_EQ(rig.policy.state(0), endpoint_state::healthy);
}

TEST(fallback, cancel_restores_a_rewritten_request) {
  fallback_rig rig(three_endpoints());
  rig.providers.fails["openai/gpt-4o"] = outcome_class::overloaded;
  auto p = rig.begin(1);
  rig.loop.run_until(rig.loop.now() + from_ms(15));  // now on gpt-4o-mini
  EXPECT_EQ(p->ctx.req.model, "gpt-4o-mini");
  p->op->cancel();
  EXPECT_EQ(p->ctx.req.model, "gpt-4o");
  EXPECT_EQ(rig.loop.pending(), 0U);
}

TEST(fallback, spec_builds_a_handler_named_after_the_policy) {
  fallback_spec spec(three_endpoints());
  spec.name = "chain";
  sim::event_loop loop;
  recording_sink sink;
  routed_providers providers(loop, from_ms(1));
  providers.fails["openai/gpt-4o"] = outcome_class::overloaded;
  auto h = spec.build(policy_environment{loop, sink, 3}, providers.transport);
  call_context ctx;
  ctx.req.model = "gpt-4o";
  recording_receiver r;
  h->start(call_scope{&ctx, time_never}, r);
  while (loop.step()) {
  }
  EXPECT_EQ(r.last.model, "gpt-4o-mini");
  ASSERT_FALSE(sink.events.empty());
  EXPECT_EQ(sink.events[0].policy, "chain");
  EXPECT_EQ(fallback_registration().type, "fallback");
}

}  // namespace
}  // namespace squall
