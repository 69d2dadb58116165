// The timeout policy under virtual time, alone and nested around and inside a retry.

#include "policies/timeout/timeout.hpp"

#include <memory>

#include <gtest/gtest.h>

#include "policies/retry/retry.hpp"
#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"
#include "tests/support/time_points.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_sink;
using testing::timed_receiver;

using testing::at_ms;

// Passes calls through, remembering the deadline of the last scope it was given.
struct scope_probe final : handler {
  explicit scope_probe(handler& n) : next(n) {}
  operation& start(const call_scope& scope, outcome_receiver& receiver) override {
    deadline = scope.deadline;
    return next.start(scope, receiver);
  }
  handler& next;
  time_point deadline{};
};

timeout_options timeout_of(double ms) {
  timeout_options o;
  o.timeout_ms = ms;
  return o;
}

struct timeout_rig {
  timeout_rig(double timeout_ms, double latency_ms)
      : transport(loop, from_ms(latency_ms), [](const call_context&, std::uint32_t) { return outcome{}; }),
        probe(transport),
        policy(timeout_of(timeout_ms), "timeout", policy_environment{loop, sink, 1}, probe),
        receiver(loop) {}

  operation& start(time_point deadline = time_never) {
    ctx.req.id = 3;
    return policy.start(call_scope{&ctx, deadline}, receiver);
  }
  void run() {
    while (loop.step()) {
    }
  }

  sim::event_loop loop;
  recording_sink sink;
  fake_transport transport;
  scope_probe probe;
  timeout_handler policy;
  call_context ctx;
  timed_receiver receiver;
};

TEST(timeout, fires_at_exactly_timeout_ms_and_cancels_the_inner_call) {
  timeout_rig rig(200.0, 500.0);
  rig.start();
  EXPECT_EQ(rig.receiver.calls, 0);
  rig.run();
  ASSERT_EQ(rig.receiver.calls, 1);
  EXPECT_EQ(rig.receiver.at, at_ms(200));
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::timeout);
  EXPECT_EQ(rig.receiver.last.decided_by, "timeout");
  EXPECT_EQ(rig.receiver.last.latency, from_ms(200));
  EXPECT_EQ(rig.transport.cancelled(), 1);
  EXPECT_EQ(rig.transport.completed(), 0);
  EXPECT_EQ(rig.loop.pending(), 0U);
  ASSERT_EQ(rig.sink.events.size(), 1U);
  EXPECT_EQ(rig.sink.events[0].kind, policy_event_kind::timeout_fired);
  EXPECT_EQ(rig.sink.events[0].at, at_ms(200));
  EXPECT_EQ(rig.sink.events[0].request_id, 3U);
}

TEST(timeout, a_faster_inner_call_wins_and_the_timer_is_cancelled) {
  timeout_rig rig(200.0, 150.0);
  rig.start();
  EXPECT_EQ(rig.loop.pending(), 2U);
  rig.loop.step();
  ASSERT_EQ(rig.receiver.calls, 1);
  EXPECT_EQ(rig.receiver.at, at_ms(150));
  EXPECT_TRUE(rig.receiver.last.ok());
  EXPECT_EQ(rig.loop.pending(), 0U) << "the timeout's timer was cancelled";
  EXPECT_TRUE(rig.sink.events.empty());
  EXPECT_EQ(rig.transport.cancelled(), 0);
}

TEST(timeout, inner_work_taking_exactly_the_timeout_has_timed_out) {
  timeout_rig rig(200.0, 200.0);
  rig.start();
  rig.run();
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::timeout);
  EXPECT_EQ(rig.transport.cancelled(), 1);
}

TEST(timeout, tightens_the_deadline_the_inner_layers_see) {
  timeout_rig rig(200.0, 10.0);
  rig.loop.run_until(at_ms(1000));
  rig.start();
  EXPECT_EQ(rig.probe.deadline, at_ms(1200));
  rig.run();
  timeout_rig outer_first(200.0, 10.0);
  outer_first.start(at_ms(50));
  EXPECT_EQ(outer_first.probe.deadline, at_ms(50)) << "an earlier outer deadline is kept";
  outer_first.run();
}

TEST(timeout, cancel_propagates_to_the_inner_call_and_the_timer) {
  timeout_rig rig(200.0, 500.0);
  operation& op = rig.start();
  rig.loop.run_until(at_ms(100));
  op.cancel();
  EXPECT_EQ(rig.transport.cancelled(), 1);
  EXPECT_EQ(rig.loop.pending(), 0U);
  rig.run();
  EXPECT_EQ(rig.receiver.calls, 0);
  EXPECT_TRUE(rig.sink.events.empty());
}

// overall timeout -> retry -> per-attempt timeout -> transport that never answers in time.
struct nested_rig {
  nested_rig(double overall_ms, double attempt_ms, double backoff_ms)
      : transport(loop, from_s(10), [](const call_context&, std::uint32_t) { return outcome{}; }),
        attempt_timeout(timeout_of(attempt_ms), "attempt", policy_environment{loop, sink, 1}, transport),
        retry(retry_options_for(backoff_ms), "retry", policy_environment{loop, sink, 2}, attempt_timeout),
        overall(timeout_of(overall_ms), "overall", policy_environment{loop, sink, 3}, retry),
        receiver(loop) {}

  static retry_options retry_options_for(double backoff_ms) {
    retry_options o;
    o.attempts_max = 10;
    o.backoff = backoff_kind::constant;
    o.delay_ms_base = backoff_ms;
    o.jitter = jitter_kind::none;
    return o;
  }

  sim::event_loop loop;
  recording_sink sink;
  fake_transport transport;
  timeout_handler attempt_timeout;
  retry_handler retry;
  timeout_handler overall;
  call_context ctx;
  timed_receiver receiver;
};

TEST(timeout_nested, the_overall_timeout_cuts_an_attempt_in_flight) {
  nested_rig rig(1000.0, 300.0, 100.0);
  rig.overall.start(call_scope{&rig.ctx, time_never}, rig.receiver);
  while (rig.loop.step()) {
  }
  // Attempts at 0, 400 and 800 (each timed out after 300 ms, then 100 ms of backoff); the third is
  // cut by the overall deadline at 1000.
  ASSERT_EQ(rig.receiver.calls, 1);
  EXPECT_EQ(rig.receiver.at, at_ms(1000));
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::timeout);
  EXPECT_EQ(rig.receiver.last.decided_by, "overall");
  EXPECT_EQ(rig.transport.started(), 3);
  EXPECT_EQ(rig.transport.cancelled(), 3);
  EXPECT_EQ(rig.loop.pending(), 0U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::timeout_fired), 3U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_scheduled), 2U);
}

TEST(timeout_nested, the_overall_deadline_stops_retries_that_could_not_finish) {
  nested_rig rig(1000.0, 300.0, 250.0);
  rig.overall.start(call_scope{&rig.ctx, time_never}, rig.receiver);
  while (rig.loop.step()) {
  }
  // Attempt 1 times out at 300, attempt 2 starts at 550 and times out at 850; a third would start at
  // 1100, past the overall deadline, so the retry gives up at 850 with the per-attempt timeout.
  ASSERT_EQ(rig.receiver.calls, 1);
  EXPECT_EQ(rig.receiver.at, at_ms(850));
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::timeout);
  EXPECT_EQ(rig.receiver.last.decided_by, "attempt");
  EXPECT_EQ(rig.transport.started(), 2);
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_exhausted), 1U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::timeout_fired), 2U) << "the overall timer never fired";
  EXPECT_EQ(rig.loop.pending(), 0U) << "the overall timer was cancelled";
}

TEST(timeout_options, reads_and_checks_timeout_ms) {
  {
    const json j = json::parse(R"({"timeout_ms": 2500})");
    json_reader reader(j, "$.policies[1]");
    timeout_options o;
    read_timeout_options(reader, o);
    EXPECT_FALSE(reader.finish());
    EXPECT_EQ(o.timeout_ms, 2500.0);
  }
  {
    const json j = json::parse(R"({})");
    json_reader reader(j, "$");
    timeout_options o;
    read_timeout_options(reader, o);
    EXPECT_FALSE(reader.finish());
    EXPECT_EQ(o.timeout_ms, 30000.0);
  }
  for (const char* bad : {R"({"timeout_ms": 0})", R"({"timeout_ms": 86400001})", R"({"timeout_ms": "5s"})"}) {
    const json j = json::parse(bad);
    json_reader reader(j, "$.policies[1]");
    timeout_options o;
    read_timeout_options(reader, o);
    auto e = reader.finish();
    ASSERT_TRUE(e) << bad;
    EXPECT_EQ(e->path, "$.policies[1].timeout_ms");
  }
}

}  // namespace
}  // namespace squall
