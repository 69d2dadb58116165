// The bulkhead under virtual time: the concurrency cap is never exceeded, the queue is first in first
// out and bounded in length and in wait, and cancellation frees what it held.

#include "policies/bulkhead/bulkhead.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"
#include "tests/support/time_points.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_sink;

using testing::at_ms;

using one_call = testing::timed_call;

struct bulkhead_rig {
  explicit bulkhead_rig(bulkhead_options o, duration latency = from_ms(100)) {
    transport = std::make_unique<fake_transport>(loop, latency, [this](const call_context& c, std::uint32_t) {
      starts.push_back(loop.now() - transport->latency());
      started_ids.push_back(c.req.id);
      return outcome{};
    });
    policy = std::make_unique<bulkhead_handler>(o, "bulkhead", policy_environment{loop, sink, 1}, *transport);
  }
  one_call& start() {
    calls.emplace_back(loop);
    one_call& c = calls.back();
    c.ctx.req.id = calls.size();
    ops.push_back(&policy->start(call_scope{&c.ctx, time_never}, c.receiver));
    return c;
  }
  int in_flight() const { return transport->started() - transport->completed() - transport->cancelled(); }
  void run() {
    while (loop.step()) {
    }
  }

  sim::event_loop loop;
  recording_sink sink;
  std::unique_ptr<fake_transport> transport;
  std::unique_ptr<bulkhead_handler> policy;
  std::deque<one_call> calls;
  std::vector<operation*> ops;
  std::vector<time_point> starts;
  std::vector<std::uint64_t> started_ids;
};

bulkhead_options with(std::uint32_t concurrency, std::uint32_t queue, double wait_ms) {
  bulkhead_options o;
  o.concurrency_max = concurrency;
  o.queue_max = queue;
  o.queue_wait_ms_max = wait_ms;
  return o;
}

TEST(bulkhead, concurrency_is_never_exceeded_and_the_queue_is_fifo) {
  bulkhead_rig rig(with(4, 100, 1e6));
  // 40 calls arriving 10 ms apart against 100 ms of work: at most 4 run, the rest queue.
  struct load final : timer_target {
    explicit load(bulkhead_rig& r) : rig(r) { rig.loop.start_timer({}, *this, 0); }
    void on_timer(std::uint32_t) override {
      rig.start();
      if (++n < 40) rig.loop.start_timer(from_ms(10), *this, 0);
    }
    bulkhead_rig& rig;
    int n = 0;
  } generator(rig);
  int most = 0;
  while (rig.loop.step()) {
    ASSERT_LE(rig.in_flight(), 4);
    ASSERT_LE(rig.policy->running(), 4U);
    most = std::max(most, rig.in_flight());
  }
  EXPECT_EQ(most, 4);
  ASSERT_EQ(rig.started_ids.size(), 40U);
  for (std::size_t i = 0; i < 40; ++i) EXPECT_EQ(rig.started_ids[i], i + 1) << "first in, first out";
  // Each slot serves every fourth call back to back: call n (from 0) starts at 100 * (n / 4) + 10 * (n % 4) ms.
  for (std::size_t n = 0; n < 40; ++n) {
    EXPECT_EQ(rig.starts[n], at_ms(100.0 * static_cast<double>(n / 4) + 10.0 * static_cast<double>(n % 4))) << n;
  }
  for (const auto& c : rig.calls) EXPECT_TRUE(c.receiver.last.ok());
  EXPECT_EQ(rig.sink.count(policy_event_kind::bulkhead_queued), 36U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::bulkhead_rejected), 0U);
  EXPECT_EQ(rig.policy->running(), 0U);
  EXPECT_EQ(rig.policy->queued(), 0U);
}

TEST(bulkhead, without_a_queue_a_call_beyond_the_limit_is_rejected_at_once) {
  bulkhead_rig rig(bulkhead_options{});  // 10 slots, no queue
  for (int i = 0; i < 12; ++i) rig.start();
  EXPECT_EQ(rig.calls[10].receiver.calls, 0) << "never delivered from inside start()";
  rig.run();
  EXPECT_EQ(rig.transport->started(), 10);
  EXPECT_EQ(rig.calls[10].receiver.last.kind, outcome_class::rejected);
  EXPECT_EQ(rig.calls[10].receiver.last.decided_by, "bulkhead");
  EXPECT_EQ(rig.calls[10].receiver.at, at_ms(0));
  EXPECT_EQ(rig.sink.count(policy_event_kind::bulkhead_rejected), 2U);
  EXPECT_EQ(rig.sink.events[0].request_id, 11U);
}

TEST(bulkhead, a_full_queue_rejects) {
  bulkhead_rig rig(with(1, 2, 1e6));
  for (int i = 0; i < 5; ++i) rig.start();
  EXPECT_EQ(rig.policy->queued(), 2U);
  rig.run();
  EXPECT_EQ(rig.started_ids, (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(rig.calls[3].receiver.last.kind, outcome_class::rejected);
  EXPECT_EQ(rig.calls[4].receiver.last.kind, outcome_class::rejected);
  EXPECT_EQ(rig.sink.count(policy_event_kind::bulkhead_queued), 2U);
}

TEST(bulkhead, a_queued_call_that_waits_too_long_is_rejected_at_its_deadline) {
  bulkhead_rig rig(with(1, 5, 150), from_ms(100));
  rig.start();  // runs 0..100
  rig.start();  // queued, runs 100..200
  rig.loop.run_until(at_ms(20));
  rig.start();  // queued at 20: its slot would free at 200, past 20 + 150
  rig.run();
  EXPECT_EQ(rig.started_ids, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(rig.calls[2].receiver.last.kind, outcome_class::rejected);
  EXPECT_EQ(rig.calls[2].receiver.at, at_ms(170));
  EXPECT_EQ(rig.calls[2].receiver.last.latency, from_ms(150));
  ASSERT_EQ(rig.sink.count(policy_event_kind::bulkhead_rejected), 1U);
  EXPECT_EQ(rig.sink.events.back().delay, from_ms(150));
}

TEST(bulkhead, cancelling_a_queued_call_takes_it_out_of_the_queue) {
  bulkhead_rig rig(with(1, 5, 1e6));
  rig.start();
  rig.start();
  rig.start();
  rig.ops[1]->cancel();
  EXPECT_EQ(rig.policy->queued(), 1U);
  rig.run();
  EXPECT_EQ(rig.started_ids, (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(rig.starts[1], at_ms(100));
  EXPECT_EQ(rig.calls[1].receiver.calls, 0);
}

TEST(bulkhead, cancelling_a_running_call_frees_its_slot_for_the_queue) {
  bulkhead_rig rig(with(1, 5, 1e6));
  rig.start();
  rig.start();
  rig.loop.run_until(at_ms(30));
  rig.ops[0]->cancel();
  EXPECT_EQ(rig.transport->cancelled(), 1);
  EXPECT_EQ(rig.policy->running(), 1U);
  EXPECT_EQ(rig.policy->queued(), 0U);
  rig.run();
  // Only answered attempts are recorded: the second started when the first was cancelled.
  EXPECT_EQ(rig.starts, (std::vector<time_point>{at_ms(30)}));
  EXPECT_EQ(rig.calls[0].receiver.calls, 0);
  EXPECT_TRUE(rig.calls[1].receiver.last.ok());
  EXPECT_EQ(rig.loop.pending(), 0U);
}

TEST(bulkhead, cancelling_an_immediate_rejection_delivers_nothing) {
  bulkhead_rig rig(with(1, 0, 0));
  rig.start();
  rig.start();
  rig.ops[1]->cancel();
  rig.run();
  EXPECT_EQ(rig.calls[1].receiver.calls, 0);
}

}  // namespace
}  // namespace squall
