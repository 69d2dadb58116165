// The coalesce policy under virtual time: identical calls in flight share one inner call, the bill is
// counted once, and every cancellation path leaves nothing running.

#include "policies/coalesce/coalesce.hpp"

#include <array>
#include <functional>
#include <memory>

#include <gtest/gtest.h>

#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_receiver;
using testing::recording_sink;

outcome answer() {
  outcome o;
  o.http_status = 200;
  o.input_tokens = 100;
  o.output_tokens = 25;
  o.cost_usd = 0.01;
  o.provider = "prov";
  o.model = "m";
  return o;
}

// One caller: its context and what it received.
struct caller final : outcome_receiver {
  void on_outcome(outcome&& o) override {
    ++calls;
    last = std::move(o);
    if (then) then();
  }
  call_context ctx;
  int calls = 0;
  outcome last;
  std::function<void()> then;  // runs inside on_outcome, to test re-entrant callers
};

// The coalesce policy in front of a transport (100 ms per attempt) that bills each answer into the
// call it served, as the simulated transport does.
struct coalesce_rig {
  explicit coalesce_rig(coalesce_options o = {}) {
    transport = std::make_unique<fake_transport>(loop, from_ms(100), [this](const call_context& c, std::uint32_t) {
      const_cast<call_context&>(c).cost_usd += result.cost_usd;
      return result;
    });
    policy = std::make_unique<coalesce_handler>(o, "coalesce", policy_environment{loop, sink, 3}, *transport);
  }

  operation& start(caller& c, std::uint64_t key, std::string model = "m") {
    c.ctx.req.id = ++ids;
    c.ctx.req.cache_key = key;
    c.ctx.req.model = std::move(model);
    return policy->start(call_scope{&c.ctx, time_never}, c);
  }
  void advance_ms(double ms) { loop.run_until(loop.now() + from_ms(ms)); }
  void run() {
    while (loop.step()) {
    }
  }

  sim::event_loop loop;
  recording_sink sink;
  std::unique_ptr<fake_transport> transport;
  std::unique_ptr<coalesce_handler> policy;
  outcome result = answer();
  std::uint64_t ids = 0;
};

TEST(coalesce, identical_calls_in_flight_share_one_inner_call_and_pay_once) {
  coalesce_rig rig;
  std::array<caller, 3> c;
  rig.start(c[0], 5);
  rig.advance_ms(30);
  rig.start(c[1], 5);
  rig.advance_ms(30);
  rig.start(c[2], 5);
  EXPECT_EQ(rig.policy->in_flight(), 1U);
  rig.run();
  EXPECT_EQ(rig.transport->started(), 1);
  for (const caller& x : c) {
    EXPECT_EQ(x.calls, 1);
    EXPECT_TRUE(x.last.ok());
    EXPECT_EQ(x.last.output_tokens, 25U);
    EXPECT_EQ(x.last.model, "m");
  }
  EXPECT_EQ(c[0].last.cost_usd, 0.01) << "the leader's outcome carries the bill";
  EXPECT_EQ(c[1].last.cost_usd, 0.0);
  EXPECT_EQ(c[2].last.cost_usd, 0.0);
  EXPECT_EQ(c[0].ctx.cost_usd, 0.01);
  EXPECT_EQ(c[0].ctx.attempts, 1U);
  EXPECT_EQ(c[1].ctx.cost_usd + c[2].ctx.cost_usd, 0.0);
  EXPECT_EQ(c[1].ctx.attempts + c[2].ctx.attempts, 0U) << "attempts are counted once";
  EXPECT_EQ(c[0].last.latency, from_ms(100));
  EXPECT_EQ(c[1].last.latency, from_ms(70)) << "a waiter's latency runs from when it attached";
  EXPECT_EQ(c[2].last.latency, from_ms(40));
  ASSERT_EQ(rig.sink.count(policy_event_kind::coalesced), 2U);
  EXPECT_EQ(rig.sink.events[0].request_id, 2U);
  EXPECT_EQ(rig.sink.events[0].value, 1U);
  EXPECT_EQ(rig.sink.events[1].request_id, 3U);
  EXPECT_EQ(rig.sink.events[1].value, 2U);
  EXPECT_EQ(rig.policy->in_flight(), 0U);
  EXPECT_EQ(rig.loop.pending(), 0U);
}

TEST(coalesce, different_keys_models_and_uncacheable_calls_are_not_shared) {
  coalesce_rig rig;
  std::array<caller, 5> c;
  rig.start(c[0], 5);
  rig.start(c[1], 6);
  rig.start(c[2], 5, "other-model");
  rig.start(c[3], 0);
  rig.start(c[4], 0);
  rig.run();
  EXPECT_EQ(rig.transport->started(), 5);
  EXPECT_EQ(rig.sink.count(policy_event_kind::coalesced), 0U);
}

TEST(coalesce, a_call_after_the_first_answered_starts_afresh) {
  coalesce_rig rig;
  caller a, b;
  rig.start(a, 5);
  rig.run();
  rig.start(b, 5);
  rig.run();
  EXPECT_EQ(rig.transport->started(), 2);
  EXPECT_EQ(b.last.cost_usd, 0.01);
}

TEST(coalesce, failures_are_shared_too) {
  coalesce_rig rig;
  rig.result = outcome::failure(outcome_class::overloaded);
  rig.result.http_status = 529;
  caller a, b;
  rig.start(a, 5);
  rig.start(b, 5);
  rig.run();
  EXPECT_EQ(rig.transport->started(), 1);
  EXPECT_EQ(a.last.kind, outcome_class::overloaded);
  EXPECT_EQ(b.last.kind, outcome_class::overloaded);
  EXPECT_EQ(b.last.http_status, 529);
}

TEST(coalesce, waiters_beyond_waiters_max_start_their_own_call) {
  coalesce_options o;
  o.waiters_max = 2;
  coalesce_rig rig(o);
  std::array<caller, 4> c;
  for (caller& x : c) rig.start(x, 5);
  rig.run();
  EXPECT_EQ(rig.transport->started(), 2);
  EXPECT_EQ(rig.sink.count(policy_event_kind::coalesced), 2U);
  EXPECT_EQ(c[3].last.cost_usd, 0.01) << "the fourth paid for its own call";
  EXPECT_EQ(c[3].ctx.cost_usd, 0.01);
}

TEST(coalesce, keys_beyond_in_flight_max_pass_through) {
  coalesce_options o;
  o.in_flight_max = 1;
  coalesce_rig rig(o);
  std::array<caller, 4> c;
  rig.start(c[0], 5);
  rig.start(c[1], 6);
  rig.start(c[2], 6);
  rig.start(c[3], 5);
  EXPECT_EQ(rig.policy->in_flight(), 1U);
  rig.run();
  EXPECT_EQ(rig.transport->started(), 3) << "key 5 shared; the two key-6 calls each went alone";
}

TEST(coalesce, a_cancelled_waiter_detaches_and_the_others_still_get_the_answer) {
  coalesce_rig rig;
  caller a, b, c;
  rig.start(a, 5);
  operation& op = rig.start(b, 5);
  rig.start(c, 5);
  op.cancel();
  rig.run();
  EXPECT_EQ(rig.transport->cancelled(), 0);
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(b.calls, 0);
  EXPECT_EQ(c.calls, 1);
}

TEST(coalesce, a_cancelled_leader_leaves_the_call_running_for_its_waiters_who_pay) {
  coalesce_rig rig;
  caller a, b, c;
  operation& leader = rig.start(a, 5);
  rig.advance_ms(10);
  rig.start(b, 5);
  rig.start(c, 5);
  leader.cancel();
  rig.run();
  EXPECT_EQ(rig.transport->cancelled(), 0);
  EXPECT_EQ(rig.transport->started(), 1);
  EXPECT_EQ(a.calls, 0);
  EXPECT_EQ(a.ctx.cost_usd, 0.0) << "a cancelled caller's context is never touched again";
  ASSERT_EQ(b.calls, 1);
  EXPECT_EQ(b.last.cost_usd, 0.01) << "the earliest remaining waiter pays";
  EXPECT_EQ(b.ctx.cost_usd, 0.01);
  EXPECT_EQ(b.ctx.attempts, 1U);
  EXPECT_EQ(b.last.latency, from_ms(90));
  EXPECT_EQ(c.last.cost_usd, 0.0);
  EXPECT_EQ(c.ctx.attempts, 0U);
  EXPECT_EQ(rig.policy->in_flight(), 0U);
}

TEST(coalesce, when_every_caller_cancels_the_inner_call_is_cancelled) {
  coalesce_rig rig;
  caller a, b, c;
  operation& op_a = rig.start(a, 5);
  operation& op_b = rig.start(b, 5);
  operation& op_c = rig.start(c, 5);
  op_b.cancel();
  op_a.cancel();
  EXPECT_EQ(rig.transport->cancelled(), 0);
  op_c.cancel();
  EXPECT_EQ(rig.transport->cancelled(), 1);
  EXPECT_EQ(rig.policy->in_flight(), 0U);
  EXPECT_EQ(rig.loop.pending(), 0U);
  rig.run();
  EXPECT_EQ(a.calls + b.calls + c.calls, 0);
}

TEST(coalesce, a_lone_leader_cancelling_cancels_the_inner_call) {
  coalesce_rig rig;
  caller a;
  rig.start(a, 5).cancel();
  EXPECT_EQ(rig.transport->cancelled(), 1);
  EXPECT_EQ(rig.policy->in_flight(), 0U);
  EXPECT_EQ(rig.loop.pending(), 0U);
}

TEST(coalesce, a_receiver_may_cancel_another_waiter_while_the_answer_is_handed_out) {
  // A hedging layer above does this: the first copy to arrive wins and the loser is cancelled.
  coalesce_rig rig;
  caller a, b, c;
  rig.start(a, 5);
  operation& op_b = rig.start(b, 5);
  rig.start(c, 5);
  a.then = [&] { op_b.cancel(); };
  rig.run();
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(b.calls, 0);
  EXPECT_EQ(c.calls, 1);
  EXPECT_EQ(rig.loop.pending(), 0U);
}

TEST(coalesce, a_receiver_starting_the_same_call_again_gets_a_fresh_one) {
  coalesce_rig rig;
  caller a, b, again;
  rig.start(a, 5);
  rig.start(b, 5);
  a.then = [&] { rig.start(again, 5); };
  rig.run();
  EXPECT_EQ(b.calls, 1);
  EXPECT_EQ(again.calls, 1);
  EXPECT_EQ(rig.transport->started(), 2);
  EXPECT_EQ(again.last.cost_usd, 0.01);
}

}  // namespace
}  // namespace squall
