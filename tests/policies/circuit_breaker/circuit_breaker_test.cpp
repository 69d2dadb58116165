// The circuit breaker's state machine under virtual time.

#include "policies/circuit_breaker/circuit_breaker.hpp"

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
using testing::recording_receiver;
using testing::recording_sink;

using testing::at_ms;

circuit_breaker_options small_breaker() {
  circuit_breaker_options o;
  o.window_size = 10;
  o.calls_min = 5;
  o.failure_rate_threshold = 0.5;
  o.open_ms = 1000.0;
  o.half_open_calls = 3;
  return o;
}

// A breaker in front of a fake transport that answers with `next` after `latency`.
struct breaker_rig {
  explicit breaker_rig(const circuit_breaker_options& o, double latency_ms = 10.0)
      : transport(loop, from_ms(latency_ms), [this](const call_context&, std::uint32_t) {
          if (!script.empty()) {
            const outcome_class c = script.front();
            script.pop_front();
            return outcome::failure(c);
          }
          return outcome::failure(next);
        }),
        breaker(o, "breaker", policy_environment{loop, sink, 5}, transport) {}

  // Runs one call to completion (other timers due meanwhile fire too) and returns its outcome.
  outcome call() {
    call_context ctx;
    recording_receiver receiver;
    breaker.start(call_scope{&ctx, time_never}, receiver);
    EXPECT_EQ(receiver.calls, 0) << "never delivered from inside start()";
    while (receiver.calls == 0) {
      if (!loop.step()) ADD_FAILURE() << "the call never completed";
    }
    return receiver.last;
  }
  void calls(int n, outcome_class c) {
    next = c;
    for (int i = 0; i < n; ++i) call();
  }
  // Opens the breaker with failures and returns when it opened.
  time_point trip(const circuit_breaker_options& o) {
    next = outcome_class::server_error;
    for (std::uint32_t i = 0; i < o.calls_min && breaker.state() == breaker_state::closed; ++i) call();
    EXPECT_EQ(breaker.state(), breaker_state::open);
    return loop.now();
  }

  sim::event_loop loop;
  recording_sink sink;
  outcome_class next = outcome_class::ok;
  std::deque<outcome_class> script;
  fake_transport transport;
  circuit_breaker_handler breaker;
};

TEST(circuit_breaker, stays_closed_below_calls_min_even_when_every_call_fails) {
  breaker_rig rig(small_breaker());
  rig.calls(4, outcome_class::server_error);
  EXPECT_EQ(rig.breaker.state(), breaker_state::closed);
  rig.calls(1, outcome_class::server_error);
  EXPECT_EQ(rig.breaker.state(), breaker_state::open);
  ASSERT_EQ(rig.sink.count(policy_event_kind::breaker_opened), 1U);
  EXPECT_EQ(rig.sink.events.back().cause, outcome_class::server_error);
  EXPECT_EQ(rig.sink.events.back().request_id, 0U);
}

TEST(circuit_breaker, opens_exactly_when_the_failure_rate_reaches_the_threshold) {
  breaker_rig rig(small_breaker());
  rig.calls(5, outcome_class::ok);
  rig.calls(4, outcome_class::overloaded);
  EXPECT_EQ(rig.breaker.state(), breaker_state::closed) << "4 of 9 is below 0.5";
  rig.calls(1, outcome_class::timeout);
  EXPECT_EQ(rig.breaker.state(), breaker_state::open) << "5 of 10 reaches 0.5";
  EXPECT_EQ(rig.sink.events.back().cause, outcome_class::timeout);
}

TEST(circuit_breaker, count_window_forgets_calls_that_slid_out) {
  circuit_breaker_options o = small_breaker();
  o.window_size = 4;
  o.calls_min = 4;
  breaker_rig rig(o);
  rig.calls(1, outcome_class::server_error);
  rig.calls(5, outcome_class::ok);  // the failure slides out
  rig.calls(1, outcome_class::server_error);
  EXPECT_EQ(rig.breaker.state(), breaker_state::closed) << "1 of the last 4";
  rig.calls(1, outcome_class::server_error);
  EXPECT_EQ(rig.breaker.state(), breaker_state::open) << "2 of the last 4";
}

TEST(circuit_breaker, calls_min_above_a_count_window_is_judged_when_the_window_is_full) {
  circuit_breaker_options o = small_breaker();
  o.window_size = 4;
  o.calls_min = 100;
  breaker_rig rig(o);
  rig.calls(4, outcome_class::server_error);
  EXPECT_EQ(rig.breaker.state(), breaker_state::open);
}

TEST(circuit_breaker, rejects_while_open_without_calling_the_transport) {
  breaker_rig rig(small_breaker());
  rig.trip(small_breaker());
  const int started = rig.transport.started();
  rig.next = outcome_class::ok;
  for (int i = 0; i < 3; ++i) {
    const outcome o = rig.call();
    EXPECT_EQ(o.kind, outcome_class::circuit_open);
    EXPECT_EQ(o.decided_by, "breaker");
  }
  EXPECT_EQ(rig.transport.started(), started);
  EXPECT_EQ(rig.sink.count(policy_event_kind::breaker_rejected), 3U);
}

TEST(circuit_breaker, a_cancelled_rejection_is_never_delivered) {
  breaker_rig rig(small_breaker());
  rig.trip(small_breaker());
  call_context ctx;
  recording_receiver receiver;
  operation& op = rig.breaker.start(call_scope{&ctx, time_never}, receiver);
  op.cancel();
  rig.loop.run_until(rig.loop.now() + from_ms(1));
  EXPECT_EQ(receiver.calls, 0);
}

TEST(circuit_breaker, half_opens_after_exactly_open_ms) {
  breaker_rig rig(small_breaker());
  const time_point opened = rig.trip(small_breaker());
  rig.loop.run_until(opened + from_ms(1000) - duration{1});
  EXPECT_EQ(rig.breaker.state(), breaker_state::open);
  rig.loop.run_until(opened + from_ms(1000));
  EXPECT_EQ(rig.breaker.state(), breaker_state::half_open);
  ASSERT_EQ(rig.sink.count(policy_event_kind::breaker_half_opened), 1U);
  EXPECT_EQ(rig.sink.events.back().at, opened + from_ms(1000));
}

// Starts `n` concurrent calls; the caller runs the loop.
struct concurrent_calls {
  explicit concurrent_calls(int n) : contexts(static_cast<std::size_t>(n)), receivers(static_cast<std::size_t>(n)) {}
  void start(handler& h) {
    for (std::size_t i = 0; i < contexts.size(); ++i) ops.push_back(&h.start(call_scope{&contexts[i], time_never}, receivers[i]));
  }
  int count(outcome_class c) const {
    int n = 0;
    for (const auto& r : receivers) n += r.calls == 1 && r.last.kind == c ? 1 : 0;
    return n;
  }
  std::vector<call_context> contexts;
  std::vector<recording_receiver> receivers;
  std::vector<operation*> ops;
};

TEST(circuit_breaker, half_open_lets_only_half_open_calls_probes_through) {
  breaker_rig rig(small_breaker());
  const time_point opened = rig.trip(small_breaker());
  rig.loop.run_until(opened + from_ms(1000));
  const int started = rig.transport.started();
  rig.next = outcome_class::ok;
  concurrent_calls calls(5);
  calls.start(rig.breaker);
  while (rig.loop.step()) {
  }
  EXPECT_EQ(rig.transport.started() - started, 3);
  EXPECT_EQ(calls.count(outcome_class::ok), 3);
  EXPECT_EQ(calls.count(outcome_class::circuit_open), 2);
}

TEST(circuit_breaker, closes_when_the_probes_succeed_with_an_empty_window) {
  breaker_rig rig(small_breaker());
  const time_point opened = rig.trip(small_breaker());
  rig.loop.run_until(opened + from_ms(1000));
  rig.calls(2, outcome_class::ok);
  EXPECT_EQ(rig.breaker.state(), breaker_state::half_open) << "decides only when every probe completed";
  rig.calls(1, outcome_class::server_error);  // 1 of 3 failed: below 0.5
  EXPECT_EQ(rig.breaker.state(), breaker_state::closed);
  EXPECT_EQ(rig.sink.count(policy_event_kind::breaker_closed), 1U);
  // The window starts empty: calls_min failures are needed again.
  rig.calls(4, outcome_class::server_error);
  EXPECT_EQ(rig.breaker.state(), breaker_state::closed);
  rig.calls(1, outcome_class::server_error);
  EXPECT_EQ(rig.breaker.state(), breaker_state::open);
}

TEST(circuit_breaker, reopens_when_the_probes_fail) {
  breaker_rig rig(small_breaker());
  const time_point opened = rig.trip(small_breaker());
  rig.loop.run_until(opened + from_ms(1000));
  rig.calls(1, outcome_class::ok);
  rig.calls(2, outcome_class::connection_error);  // 2 of 3 failed
  EXPECT_EQ(rig.breaker.state(), breaker_state::open);
  EXPECT_EQ(rig.sink.count(policy_event_kind::breaker_opened), 2U);
  // And it half-opens again open_ms later.
  const time_point reopened = rig.loop.now();
  rig.loop.run_until(reopened + from_ms(1000));
  EXPECT_EQ(rig.breaker.state(), breaker_state::half_open);
}

TEST(circuit_breaker, a_cancelled_probe_is_not_recorded_and_frees_its_permit) {
  breaker_rig rig(small_breaker());
  const time_point opened = rig.trip(small_breaker());
  rig.loop.run_until(opened + from_ms(1000));
  concurrent_calls probes(3);
  probes.start(rig.breaker);
  const int cancelled_before = rig.transport.cancelled();
  const int completed_before = rig.transport.completed();
  probes.ops[0]->cancel();
  EXPECT_EQ(rig.transport.cancelled(), cancelled_before + 1);
  // The freed permit lets one more probe through; the other extra call is rejected.
  concurrent_calls more(2);
  more.start(rig.breaker);
  rig.script = {outcome_class::ok, outcome_class::ok, outcome_class::server_error};
  while (rig.breaker.state() == breaker_state::half_open && rig.loop.step()) {
  }
  EXPECT_EQ(probes.receivers[0].calls, 0);
  EXPECT_EQ(more.count(outcome_class::circuit_open), 1);
  EXPECT_EQ(rig.transport.completed() - completed_before, 3)
      << "decided once the 3 running probes completed; the cancelled one was not counted";
  EXPECT_EQ(rig.breaker.state(), breaker_state::closed) << "1 failure of 3 probes";
}

TEST(circuit_breaker, opens_on_the_slow_call_rate) {
  circuit_breaker_options o = small_breaker();
  o.slow_call_ms = 100.0;
  o.slow_call_rate_threshold = 0.6;
  breaker_rig rig(o, 100.0);  // taking exactly slow_call_ms is slow
  rig.calls(2, outcome_class::ok);
  rig.transport.set_latency(from_ms(99));
  rig.calls(3, outcome_class::ok);
  EXPECT_EQ(rig.breaker.state(), breaker_state::closed) << "2 slow of 5";
  rig.transport.set_latency(from_ms(150));
  rig.calls(2, outcome_class::ok);
  EXPECT_EQ(rig.breaker.state(), breaker_state::closed) << "4 slow of 7 is below 0.6";
  rig.calls(1, outcome_class::ok);
  EXPECT_EQ(rig.breaker.state(), breaker_state::open) << "5 slow of 8 reaches 0.6";
  EXPECT_EQ(rig.sink.count(policy_event_kind::breaker_opened), 1U);
}

TEST(circuit_breaker, slow_probes_reopen_it) {
  circuit_breaker_options o = small_breaker();
  o.slow_call_ms = 100.0;
  o.slow_call_rate_threshold = 0.5;
  breaker_rig rig(o);
  const time_point opened = rig.trip(o);
  rig.loop.run_until(opened + from_ms(1000));
  rig.transport.set_latency(from_ms(200));
  rig.calls(3, outcome_class::ok);
  EXPECT_EQ(rig.breaker.state(), breaker_state::open);
}

TEST(circuit_breaker, rate_limited_does_not_count_as_a_failure_by_default) {
  breaker_rig rig(small_breaker());
  rig.calls(20, outcome_class::rate_limited);
  EXPECT_EQ(rig.breaker.state(), breaker_state::closed);
  circuit_breaker_options o = small_breaker();
  o.failure_on.insert(outcome_class::rate_limited);
  breaker_rig counting(o);
  counting.calls(5, outcome_class::rate_limited);
  EXPECT_EQ(counting.breaker.state(), breaker_state::open);
}

TEST(circuit_breaker, time_window_forgets_old_failures) {
  circuit_breaker_options o = small_breaker();
  o.window = breaker_window_kind::time;
  o.window_size = 10;  // seconds
  o.calls_min = 4;
  {
    breaker_rig rig(o);
    rig.calls(3, outcome_class::server_error);
    rig.loop.run_until(at_ms(11000));  // the failures slide out of the 10 s window
    rig.calls(3, outcome_class::ok);
    rig.calls(1, outcome_class::server_error);
    EXPECT_EQ(rig.breaker.state(), breaker_state::closed) << "1 of 4 in the window";
  }
  {
    breaker_rig rig(o);
    rig.calls(3, outcome_class::server_error);
    rig.loop.run_until(at_ms(5000));  // still inside the window
    rig.calls(3, outcome_class::ok);
    rig.calls(1, outcome_class::server_error);
    EXPECT_EQ(rig.breaker.state(), breaker_state::open) << "4 of 7 in the window";
  }
}

TEST(circuit_breaker, a_call_admitted_before_opening_is_not_recorded_after_the_breaker_moved_on) {
  circuit_breaker_options o = small_breaker();
  o.calls_min = 1;
  o.window_size = 1;
  breaker_rig rig(o, 10.0);
  // A slow call (5 s) admitted while closed, then a fast failure opens the breaker.
  call_context slow_ctx;
  recording_receiver slow_receiver;
  rig.transport.set_latency(from_ms(5000));
  rig.breaker.start(call_scope{&slow_ctx, time_never}, slow_receiver);
  rig.transport.set_latency(from_ms(10));
  rig.calls(1, outcome_class::server_error);
  ASSERT_EQ(rig.breaker.state(), breaker_state::open);
  rig.loop.run_until(at_ms(1010));
  ASSERT_EQ(rig.breaker.state(), breaker_state::half_open);
  rig.calls(3, outcome_class::ok);
  ASSERT_EQ(rig.breaker.state(), breaker_state::closed);
  // The old call now fails. It belongs to the window before the breaker opened, which is gone; were
  // it recorded, this single failure would reopen the breaker (calls_min 1).
  rig.script = {outcome_class::server_error};
  rig.loop.run_until(at_ms(5000));
  EXPECT_EQ(slow_receiver.calls, 1);
  EXPECT_EQ(slow_receiver.last.kind, outcome_class::server_error);
  EXPECT_EQ(rig.breaker.state(), breaker_state::closed);
}

TEST(circuit_breaker, cancelling_an_admitted_call_cancels_the_inner_call) {
  breaker_rig rig(small_breaker());
  call_context ctx;
  recording_receiver receiver;
  operation& op = rig.breaker.start(call_scope{&ctx, time_never}, receiver);
  op.cancel();
  EXPECT_EQ(rig.transport.cancelled(), 1);
  EXPECT_EQ(rig.loop.pending(), 0U);
  EXPECT_EQ(receiver.calls, 0);
}

}  // namespace
}  // namespace squall
