// The batching policy under virtual time: batch sizes and windows, grouping, how tokens, cost and
// attempts are split back, failures, and every cancellation path.

#include "policies/batching/batching.hpp"

#include <array>
#include <functional>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_sink;

// One batch_caller: its context and what it received.
struct batch_caller final : outcome_receiver {
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

// Records what each inner call asked for, then hands it to the transport.
struct spy final : handler {
  explicit spy(handler& t) : next(t) {}
  operation& start(const call_scope& scope, outcome_receiver& receiver) override {
    seen.push_back(scope.call->req);
    deadlines.push_back(scope.deadline);
    return next.start(scope, receiver);
  }
  handler& next;
  std::vector<request> seen;
  std::vector<time_point> deadlines;
};

// Batching in front of a transport (100 ms per attempt, ttft 20 ms) that answers with the request's
// tokens at $1 per 1000 tokens and bills the call it served, as the simulated transport does.
struct batching_rig {
  explicit batching_rig(batching_options o = {}) : inner(transport_holder()) {
    policy = std::make_unique<batching_handler>(o, "batching", policy_environment{loop, sink, 3}, inner);
  }

  handler& transport_holder() {
    transport = std::make_unique<fake_transport>(loop, from_ms(100), [this](const call_context& c, std::uint32_t) {
      if (fail) return outcome::failure(outcome_class::server_error);
      outcome o;
      o.http_status = 200;
      o.input_tokens = c.req.input_tokens;
      o.output_tokens = c.req.output_tokens;
      o.cost_usd = static_cast<double>(c.req.input_tokens + c.req.output_tokens) / 1000.0;
      o.time_to_first_token = from_ms(20);
      o.model = "m";
      const_cast<call_context&>(c).cost_usd += o.cost_usd;
      return o;
    });
    return *transport;
  }

  operation& start(batch_caller& c, std::uint32_t in, std::uint32_t out, std::string model = "m",
                   time_point deadline = time_never) {
    c.ctx.req.id = ++ids;
    c.ctx.req.model = std::move(model);
    c.ctx.req.input_tokens = in;
    c.ctx.req.output_tokens = out;
    return policy->start(call_scope{&c.ctx, deadline}, c);
  }
  void advance_ms(double ms) { loop.run_until(loop.now() + from_ms(ms)); }
  void run() {
    while (loop.step()) {
    }
  }

  sim::event_loop loop;
  recording_sink sink;
  std::unique_ptr<fake_transport> transport;
  spy inner;
  std::unique_ptr<batching_handler> policy;
  bool fail = false;
  std::uint64_t ids = 0;
};

TEST(batching, a_batch_leaves_when_its_window_ends_as_one_call_with_summed_tokens) {
  batching_rig rig;
  std::array<batch_caller, 3> c;
  rig.start(c[0], 100, 10);
  rig.advance_ms(10);
  rig.start(c[1], 200, 20);
  rig.advance_ms(10);
  rig.start(c[2], 300, 30);
  EXPECT_EQ(rig.transport->started(), 0);
  rig.advance_ms(29);
  EXPECT_EQ(rig.transport->started(), 0) << "the window runs 50 ms from the first call";
  rig.advance_ms(1);
  ASSERT_EQ(rig.transport->started(), 1);
  ASSERT_EQ(rig.inner.seen.size(), 1U);
  const request& r = rig.inner.seen[0];
  EXPECT_EQ(r.input_tokens, 600U);
  EXPECT_EQ(r.output_tokens, 60U);
  EXPECT_EQ(r.batch_size, 3U);
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.id, 1U) << "a copy of the first member's request";
  ASSERT_EQ(rig.sink.count(policy_event_kind::batch_sent), 1U);
  const policy_event& e = rig.sink.events[0];
  EXPECT_EQ(e.value, 3U);
  EXPECT_EQ(e.delay, from_ms(50)) << "the longest wait in the batch";
  EXPECT_EQ(e.policy, "batching");
  rig.run();
  for (const batch_caller& x : c) EXPECT_EQ(x.calls, 1);
  EXPECT_EQ(rig.policy->open_batches(), 0U);
}

TEST(batching, a_full_batch_leaves_at_once) {
  batching_options o;
  o.batch_size_max = 2;
  batching_rig rig(o);
  std::array<batch_caller, 3> c;
  rig.start(c[0], 10, 1);
  rig.advance_ms(5);
  rig.start(c[1], 10, 1);
  EXPECT_EQ(rig.transport->started(), 1) << "full: sent without waiting for the window";
  EXPECT_EQ(rig.loop.pending(), 1U) << "only the inner call's timer: the window timer was cancelled";
  EXPECT_EQ(rig.sink.events.back().delay, from_ms(5));
  rig.start(c[2], 10, 1);  // opens the next batch
  EXPECT_EQ(rig.policy->open_batches(), 1U);
  rig.run();
  EXPECT_EQ(rig.transport->started(), 2);
  EXPECT_EQ(rig.inner.seen[0].batch_size, 2U);
  EXPECT_EQ(rig.inner.seen[1].batch_size, 1U);
}

TEST(batching, calls_are_grouped_by_model) {
  batching_rig rig;
  std::array<batch_caller, 4> c;
  rig.start(c[0], 10, 1, "m");
  rig.start(c[1], 10, 1, "n");
  rig.start(c[2], 10, 1, "m");
  rig.start(c[3], 10, 1, "n");
  EXPECT_EQ(rig.policy->open_batches(), 2U);
  rig.run();
  ASSERT_EQ(rig.inner.seen.size(), 2U);
  EXPECT_EQ(rig.inner.seen[0].model, "m");
  EXPECT_EQ(rig.inner.seen[0].batch_size, 2U);
  EXPECT_EQ(rig.inner.seen[1].model, "n");
  EXPECT_EQ(rig.inner.seen[1].batch_size, 2U);
}

TEST(batching, the_answer_is_split_back_by_tokens) {
  batching_rig rig;
  std::array<batch_caller, 3> c;
  rig.start(c[0], 100, 10);  // 110 tokens
  rig.advance_ms(10);
  rig.start(c[1], 200, 20);  // 220
  rig.advance_ms(10);
  rig.start(c[2], 300, 30);  // 330: the batch bills 660 tokens = $0.66
  rig.run();
  const std::array<double, 3> cost = {0.11, 0.22, 0.33};
  const std::array<std::uint32_t, 3> in = {100, 200, 300};
  const std::array<double, 3> latency_ms = {150, 140, 130};  // sent at 50 ms, answered at 150 ms
  for (std::size_t i = 0; i < 3; ++i) {
    const outcome& o = c[i].last;
    EXPECT_TRUE(o.ok()) << i;
    EXPECT_EQ(o.input_tokens, in[i]) << i;
    EXPECT_EQ(o.output_tokens, in[i] / 10) << i;
    EXPECT_DOUBLE_EQ(o.cost_usd, cost[i]) << i;
    EXPECT_DOUBLE_EQ(c[i].ctx.cost_usd, cost[i]) << "the member's call is billed its share";
    EXPECT_EQ(o.latency, from_ms(latency_ms[i])) << "latency from the member's own start";
    EXPECT_EQ(o.time_to_first_token, std::optional<duration>{from_ms(latency_ms[i] - 80)}) << i;
    EXPECT_EQ(o.model, "m");
  }
  EXPECT_EQ(c[0].ctx.attempts, 1U) << "the batch's one attempt is counted once, on its first member";
  EXPECT_EQ(c[1].ctx.attempts + c[2].ctx.attempts, 0U);
}

TEST(batching, a_failure_fails_every_member) {
  batching_rig rig;
  rig.fail = true;
  std::array<batch_caller, 3> c;
  for (batch_caller& x : c) rig.start(x, 10, 1);
  rig.run();
  EXPECT_EQ(rig.transport->started(), 1);
  for (const batch_caller& x : c) {
    EXPECT_EQ(x.calls, 1);
    EXPECT_EQ(x.last.kind, outcome_class::server_error);
    EXPECT_EQ(x.last.output_tokens, 0U);
  }
}

TEST(batching, a_new_model_beyond_groups_max_is_sent_alone) {
  batching_options o;
  o.groups_max = 1;
  batching_rig rig(o);
  batch_caller a, b, c;
  rig.start(a, 10, 1, "m");
  rig.start(b, 10, 1, "n");
  EXPECT_EQ(rig.transport->started(), 1) << "no room for a second open batch: n leaves at once";
  EXPECT_EQ(rig.inner.seen[0].batch_size, 1U);
  rig.start(c, 10, 1, "m");
  EXPECT_EQ(rig.policy->open_batches(), 1U);
  rig.run();
  EXPECT_EQ(rig.transport->started(), 2);
  EXPECT_EQ(rig.inner.seen[1].batch_size, 2U);
}

TEST(batching, the_batch_runs_to_its_latest_members_deadline) {
  batching_rig rig;
  batch_caller a, b;
  rig.start(a, 10, 1, "m", time_point{from_ms(500)});
  rig.start(b, 10, 1, "m", time_point{from_ms(900)});
  rig.run();
  ASSERT_EQ(rig.inner.deadlines.size(), 1U);
  EXPECT_EQ(rig.inner.deadlines[0], time_point{from_ms(900)});
  batch_caller c, d;
  rig.start(c, 10, 1, "m", time_point{from_ms(2000)});
  rig.start(d, 10, 1);
  rig.run();
  EXPECT_EQ(rig.inner.deadlines[1], time_never);
}

TEST(batching, a_member_cancelled_before_the_batch_leaves_is_removed_from_it) {
  batching_rig rig;
  batch_caller a, b, c;
  rig.start(a, 100, 10);
  operation& op = rig.start(b, 500, 50);
  rig.start(c, 100, 10);
  op.cancel();
  rig.run();
  ASSERT_EQ(rig.inner.seen.size(), 1U);
  EXPECT_EQ(rig.inner.seen[0].batch_size, 2U);
  EXPECT_EQ(rig.inner.seen[0].input_tokens, 200U);
  EXPECT_EQ(b.calls, 0);
  EXPECT_EQ(a.calls + c.calls, 2);
}

TEST(batching, cancelling_every_member_of_an_open_batch_discards_it_and_its_timer) {
  batching_rig rig;
  batch_caller a, b;
  operation& op_a = rig.start(a, 10, 1);
  operation& op_b = rig.start(b, 10, 1);
  op_a.cancel();
  op_b.cancel();
  EXPECT_EQ(rig.policy->open_batches(), 0U);
  EXPECT_EQ(rig.loop.pending(), 0U);
  rig.run();
  EXPECT_EQ(rig.transport->started(), 0);
}

TEST(batching, cancelling_every_member_of_a_sent_batch_cancels_the_inner_call) {
  batching_rig rig;
  batch_caller a, b;
  operation& op_a = rig.start(a, 10, 1);
  operation& op_b = rig.start(b, 10, 1);
  rig.advance_ms(60);
  ASSERT_EQ(rig.transport->started(), 1);
  op_a.cancel();
  EXPECT_EQ(rig.transport->cancelled(), 0) << "b still waits";
  op_b.cancel();
  EXPECT_EQ(rig.transport->cancelled(), 1);
  EXPECT_EQ(rig.loop.pending(), 0U);
  EXPECT_EQ(a.calls + b.calls, 0);
}

TEST(batching, members_still_waiting_share_the_whole_bill_when_one_left_after_sending) {
  batching_rig rig;
  batch_caller a, b, c;
  operation& op_a = rig.start(a, 100, 0);
  rig.start(b, 100, 0);
  rig.start(c, 200, 0);  // the batch bills 400 tokens = $0.40
  rig.advance_ms(60);
  op_a.cancel();
  rig.run();
  EXPECT_EQ(a.calls, 0);
  EXPECT_EQ(a.ctx.cost_usd, 0.0) << "a cancelled member's context is never touched again";
  EXPECT_DOUBLE_EQ(b.ctx.cost_usd, 0.4 / 3);
  EXPECT_DOUBLE_EQ(c.ctx.cost_usd, 0.8 / 3);
  EXPECT_EQ(b.ctx.attempts, 1U) << "the first member still waiting carries the attempt";
}

TEST(batching, a_receiver_may_cancel_another_member_while_the_answer_is_handed_out) {
  batching_rig rig;
  batch_caller a, b, c;
  rig.start(a, 10, 0);
  operation& op_b = rig.start(b, 10, 0);
  rig.start(c, 10, 0);
  a.then = [&] { op_b.cancel(); };
  rig.run();
  EXPECT_EQ(b.calls, 0);
  EXPECT_EQ(c.calls, 1);
  EXPECT_DOUBLE_EQ(b.ctx.cost_usd, 0.01) << "billed before any receiver ran";
  EXPECT_EQ(rig.loop.pending(), 0U);
}

TEST(batching, batch_size_max_one_sends_every_call_alone) {
  batching_options o;
  o.batch_size_max = 1;
  batching_rig rig(o);
  batch_caller a, b;
  rig.start(a, 10, 1);
  rig.start(b, 10, 1);
  EXPECT_EQ(rig.transport->started(), 2);
  rig.run();
  EXPECT_EQ(rig.inner.seen[0].batch_size, 1U);
  EXPECT_EQ(a.ctx.attempts + b.ctx.attempts, 2U);
}

}  // namespace
}  // namespace squall
