// The rate limiter under virtual time: rates held over long runs, waits measured on the virtual clock,
// settlement of token reservations with reported usage, and AIMD decrease on 429s and recovery.

#include "policies/rate_limiter/rate_limiter.hpp"

#include <cmath>
#include <deque>
#include <functional>
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

// A rate limiter in front of a fake transport answering after `latency`; records when each request
// reached the transport.
struct limiter_rig {
  explicit limiter_rig(rate_limiter_options o, duration latency = from_ms(10)) : options(o) {
    transport = std::make_unique<fake_transport>(loop, latency, [this](const call_context& c, std::uint32_t) {
      starts.push_back(loop.now() - transport->latency());
      started_ids.push_back(c.req.id);
      return answer ? answer(c) : outcome{};
    });
    policy = std::make_unique<rate_limiter_handler>(options, "limiter", policy_environment{loop, sink, 5}, *transport);
  }

  one_call& start(std::uint32_t input_tokens = 0, std::uint32_t output_tokens = 0) {
    calls.emplace_back(loop);
    one_call& c = calls.back();
    c.ctx.req.id = calls.size();
    c.ctx.req.input_tokens = input_tokens;
    c.ctx.req.output_tokens = output_tokens;
    ops.push_back(&policy->start(call_scope{&c.ctx, time_never}, c.receiver));
    return c;
  }
  void run() {
    while (loop.step()) {
    }
  }
  std::size_t rejected() const {
    std::size_t n = 0;
    for (const auto& c : calls) n += c.receiver.calls == 1 && c.receiver.last.kind == outcome_class::rejected ? 1 : 0;
    return n;
  }

  rate_limiter_options options;
  sim::event_loop loop;
  recording_sink sink;
  std::unique_ptr<fake_transport> transport;
  std::unique_ptr<rate_limiter_handler> policy;
  std::function<outcome(const call_context&)> answer;
  std::deque<one_call> calls;
  std::vector<operation*> ops;
  std::vector<time_point> starts;
  std::vector<std::uint64_t> started_ids;
};

rate_limiter_options rpm_only(double rpm) {
  rate_limiter_options o;
  o.rpm = rpm;
  return o;
}

// Starts a call every `gap` until `until`, open loop.
struct arrivals final : timer_target {
  arrivals(limiter_rig& r, duration g, time_point u) : rig(r), gap(g), until(u) { rig.loop.start_timer({}, *this, 0); }
  void on_timer(std::uint32_t) override {
    rig.start();
    if (rig.loop.now() + gap < until) rig.loop.start_timer(gap, *this, 0);
  }
  limiter_rig& rig;
  duration gap;
  time_point until;
};

std::vector<int> per_minute(const std::vector<time_point>& starts, int minutes) {
  std::vector<int> counts(static_cast<std::size_t>(minutes), 0);
  for (auto t : starts) {
    const auto m = static_cast<std::size_t>(t.time_since_epoch() / from_s(60));
    if (m < counts.size()) ++counts[m];
  }
  return counts;
}

TEST(rate_limiter, holds_rpm_over_a_long_overloaded_run) {
  rate_limiter_options o = rpm_only(600);  // 10 per second, bucket of 10
  o.wait_ms_max = 2000;
  limiter_rig rig(o);
  arrivals load(rig, from_ms(50), at_ms(10 * 60 * 1000));  // 20 per second: twice the limit
  rig.run();
  const std::vector<int> counts = per_minute(rig.starts, 10);
  EXPECT_NEAR(counts[0], 610, 1) << "one minute of rate plus the initial full bucket";
  for (std::size_t m = 1; m < counts.size(); ++m) EXPECT_NEAR(counts[m], 600, 1) << "minute " << m;
  // The excess was refused, never let through: everything was either started or rejected.
  EXPECT_EQ(rig.starts.size() + rig.rejected(), rig.calls.size());
  EXPECT_NEAR(static_cast<double>(rig.rejected()), 12000.0 - 6010.0, 30.0);
  EXPECT_EQ(rig.sink.count(policy_event_kind::limiter_rejected), rig.rejected());
  EXPECT_LE(rig.policy->queued(), 0U);
}

TEST(rate_limiter, holds_tpm_over_a_long_run) {
  rate_limiter_options o;
  o.tpm = 60000;  // 1000 tokens per second, bucket of 1000
  o.wait_ms_max = 3000;
  limiter_rig rig(o);
  struct load final : timer_target {
    explicit load(limiter_rig& r) : rig(r) { rig.loop.start_timer({}, *this, 0); }
    void on_timer(std::uint32_t) override {
      rig.start(150, 50);  // 200 tokens, 10 per second: twice the limit
      if (rig.loop.now() < at_ms(5 * 60 * 1000 - 100)) rig.loop.start_timer(from_ms(100), *this, 0);
    }
    limiter_rig& rig;
  } generator(rig);
  rig.run();
  const std::vector<int> counts = per_minute(rig.starts, 5);
  for (std::size_t m = 1; m < counts.size(); ++m) EXPECT_NEAR(counts[m], 300, 1) << "minute " << m;
}

TEST(rate_limiter, waits_in_virtual_time_first_in_first_out) {
  limiter_rig rig(rpm_only(60));  // one per second, bucket of one
  for (int i = 0; i < 4; ++i) rig.start();
  EXPECT_EQ(rig.transport->started(), 1) << "the full bucket lets one through at once";
  EXPECT_EQ(rig.policy->queued(), 3U);
  rig.run();
  EXPECT_EQ(rig.starts, (std::vector<time_point>{at_ms(0), at_ms(1000), at_ms(2000), at_ms(3000)}));
  EXPECT_EQ(rig.started_ids, (std::vector<std::uint64_t>{1, 2, 3, 4}));
  std::vector<duration> waits;
  for (const auto& e : rig.sink.events) {
    EXPECT_EQ(e.kind, policy_event_kind::limiter_waited);
    waits.push_back(e.delay);
  }
  EXPECT_EQ(waits, (std::vector<duration>{from_s(1), from_s(2), from_s(3)}));
  for (const auto& c : rig.calls) EXPECT_TRUE(c.receiver.last.ok());
}

TEST(rate_limiter, a_newcomer_never_overtakes_a_waiting_call) {
  rate_limiter_options o;
  o.tpm = 6000;  // 100 tokens per second, bucket of 100
  limiter_rig rig(o);
  rig.start(100);                      // empties the bucket
  rig.start(80);                       // waits 0.8 s
  rig.loop.run_until(at_ms(500));
  rig.start(10);                       // would fit at 0.5 s (50 tokens back) but must queue behind
  rig.run();
  EXPECT_EQ(rig.started_ids, (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(rig.starts[1], at_ms(800));
  EXPECT_EQ(rig.starts[2], at_ms(900));
}

TEST(rate_limiter, reject_mode_refuses_at_once_and_never_inside_start) {
  rate_limiter_options o = rpm_only(60);
  o.mode = limiter_mode::reject;
  limiter_rig rig(o);
  rig.start();
  one_call& second = rig.start();
  EXPECT_EQ(second.receiver.calls, 0) << "never delivered from inside start()";
  rig.run();
  EXPECT_EQ(rig.transport->started(), 1);
  EXPECT_EQ(second.receiver.last.kind, outcome_class::rejected);
  EXPECT_EQ(second.receiver.last.decided_by, "limiter");
  EXPECT_EQ(second.receiver.at, at_ms(0));
  ASSERT_EQ(rig.sink.count(policy_event_kind::limiter_rejected), 1U);
  EXPECT_EQ(rig.sink.events[0].request_id, 2U);
}

TEST(rate_limiter, refuses_at_once_a_call_whose_predicted_wait_is_too_long) {
  rate_limiter_options o = rpm_only(60);
  o.wait_ms_max = 1500;
  limiter_rig rig(o);
  rig.start();                    // at once
  rig.start();                    // waits 1 s
  one_call& third = rig.start();  // would wait 2 s
  rig.run();
  EXPECT_EQ(third.receiver.last.kind, outcome_class::rejected);
  EXPECT_EQ(third.receiver.at, at_ms(0));
  EXPECT_EQ(rig.starts, (std::vector<time_point>{at_ms(0), at_ms(1000)}));
}

TEST(rate_limiter, queue_max_bounds_the_waiting_calls) {
  rate_limiter_options o = rpm_only(60);
  o.queue_max = 2;
  limiter_rig rig(o);
  for (int i = 0; i < 5; ++i) rig.start();
  rig.run();
  EXPECT_EQ(rig.transport->started(), 3);
  EXPECT_EQ(rig.rejected(), 2U);
}

TEST(rate_limiter, ok_usage_settles_the_reservation_with_a_refund) {
  rate_limiter_options o;
  o.tpm = 6000;  // 100 tokens per second, bucket of 100
  limiter_rig rig(o);
  rig.answer = [](const call_context&) {
    outcome ok;
    ok.input_tokens = 15;
    ok.output_tokens = 5;  // 20 used of the 100 reserved
    return ok;
  };
  rig.start(60, 40);
  rig.start(60, 40);  // would wait until 1 s without the refund
  rig.run();
  // At 10 ms the first answer refunds 80: the bucket holds 1 + 80, and the 19 missing take 190 ms.
  ASSERT_EQ(rig.starts.size(), 2U);
  EXPECT_EQ(rig.starts[1], at_ms(200));
}

TEST(rate_limiter, usage_above_the_estimate_is_charged_and_a_waiting_call_runs_out_of_time) {
  rate_limiter_options o;
  o.tpm = 6000;
  o.wait_ms_max = 1000;
  limiter_rig rig(o);
  rig.answer = [](const call_context&) {
    outcome ok;
    ok.input_tokens = 900;
    ok.output_tokens = 100;  // 1000 used, 100 reserved: 900 charged
    return ok;
  };
  rig.start(100);
  one_call& second = rig.start(50);  // predicted 0.5 s, but the charge makes it 9.5 s
  rig.run();
  EXPECT_EQ(rig.transport->started(), 1);
  EXPECT_EQ(second.receiver.last.kind, outcome_class::rejected);
  EXPECT_EQ(second.receiver.at, at_ms(1000));
  EXPECT_EQ(second.receiver.last.latency, from_ms(1000));
  ASSERT_EQ(rig.sink.count(policy_event_kind::limiter_rejected), 1U);
  EXPECT_EQ(rig.sink.events.back().delay, from_ms(1000));
}

TEST(rate_limiter, failures_keep_their_reservation) {
  rate_limiter_options o;
  o.tpm = 6000;
  limiter_rig rig(o);
  rig.answer = [](const call_context&) {
    outcome failed = outcome::failure(outcome_class::server_error);
    failed.input_tokens = 1;
    return failed;
  };
  rig.start(100);
  rig.start(100);
  rig.run();
  EXPECT_EQ(rig.starts[1], at_ms(1000));
}

TEST(rate_limiter, a_request_larger_than_the_bucket_waits_for_a_full_bucket_then_leaves_a_debt) {
  rate_limiter_options o;
  o.tpm = 6000;  // bucket of 100
  limiter_rig rig(o);
  rig.start(50);
  rig.start(300);  // needs the full bucket: 0.5 s, then leaves -200
  rig.start(10);   // 2.1 s of refill later
  rig.run();
  EXPECT_EQ(rig.starts, (std::vector<time_point>{at_ms(0), at_ms(500), at_ms(2600)}));
}

TEST(rate_limiter, cancelling_a_waiting_call_removes_it_from_the_queue) {
  limiter_rig rig(rpm_only(60));
  rig.start();
  rig.start();
  rig.start();
  rig.ops[1]->cancel();
  EXPECT_EQ(rig.policy->queued(), 1U);
  rig.run();
  EXPECT_EQ(rig.started_ids, (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(rig.starts[1], at_ms(1000)) << "the cancelled call's turn goes to the next";
  EXPECT_EQ(rig.calls[1].receiver.calls, 0);
  // A running call cancelled: its inner attempt is cancelled.
  limiter_rig other(rpm_only(60));
  other.start();
  other.ops[0]->cancel();
  EXPECT_EQ(other.transport->cancelled(), 1);
  EXPECT_EQ(other.loop.pending(), 0U);
}

rate_limiter_options aimd(double rpm) {
  rate_limiter_options o = rpm_only(rpm);
  limiter_aimd_options a;
  a.decrease_factor = 0.5;
  a.increase_per_s = 60;
  a.rpm_min = 50;
  a.cooldown_ms = 1000;
  o.adaptive = a;
  return o;
}

std::vector<std::uint64_t> rate_changes(const recording_sink& sink) {
  std::vector<std::uint64_t> values;
  for (const auto& e : sink.events) {
    if (e.kind == policy_event_kind::limiter_rate_changed) values.push_back(e.value);
  }
  return values;
}

TEST(rate_limiter, aimd_halves_on_a_429_once_per_cooldown_and_recovers_additively) {
  limiter_rig rig(aimd(600));
  bool limited = true;
  rig.answer = [&limited](const call_context&) {
    return limited ? outcome::failure(outcome_class::rate_limited) : outcome{};
  };
  // Three 429s within the cooldown: one decrease.
  rig.start();
  rig.start();
  rig.start();
  rig.run();
  EXPECT_DOUBLE_EQ(rig.policy->rpm(), 300.0);
  EXPECT_EQ(rate_changes(rig.sink), (std::vector<std::uint64_t>{300}));
  // After the cooldown, the next 429 halves again; rpm_min bounds the fall.
  rig.loop.run_until(at_ms(1010));
  rig.start();
  rig.run();
  EXPECT_DOUBLE_EQ(rig.policy->rpm(), 150.0);
  rig.loop.run_until(at_ms(2100));
  rig.start();
  rig.run();
  rig.loop.run_until(at_ms(3200));
  rig.start();
  rig.run();
  EXPECT_DOUBLE_EQ(rig.policy->rpm(), 50.0) << "75, then floored at rpm_min";
  EXPECT_EQ(rate_changes(rig.sink), (std::vector<std::uint64_t>{300, 150, 75, 50}));

  // Recovery: successes every 500 ms add 60 rpm per second, up to the configured 600.
  limited = false;
  const time_point t0 = rig.loop.now();
  struct load final : timer_target {
    explicit load(limiter_rig& r) : rig(r) { rig.loop.start_timer(from_ms(500), *this, 0); }
    void on_timer(std::uint32_t) override {
      rig.start();
      if (++n < 40) rig.loop.start_timer(from_ms(500), *this, 0);
    }
    limiter_rig& rig;
    int n = 0;
  } generator(rig);
  rig.loop.run_until(t0 + from_ms(5000 + 20));
  // Ten answers since t0, at 510 ms and every 500 ms after: each adds 60 rpm per second since the last.
  EXPECT_NEAR(rig.policy->rpm(), 50.0 + 60.0 * (0.51 + 9 * 0.5), 1e-6);
  rig.run();
  EXPECT_DOUBLE_EQ(rig.policy->rpm(), 600.0) << "capped at rpm_max, which defaults to rpm";
  const std::vector<std::uint64_t> changes = rate_changes(rig.sink);
  ASSERT_GT(changes.size(), 4U);
  for (std::size_t i = 5; i < changes.size(); ++i) EXPECT_GT(changes[i], changes[i - 1]);
  EXPECT_EQ(changes.back(), 600U);
}

TEST(rate_limiter, aimd_decrease_slows_the_admitted_rate) {
  limiter_rig rig(aimd(600));
  bool limited = false;
  rig.answer = [&limited](const call_context&) {
    return limited ? outcome::failure(outcome_class::rate_limited) : outcome{};
  };
  arrivals load(rig, from_ms(20), at_ms(180 * 1000));  // 50 per second, far above the limit
  rig.loop.run_until(at_ms(60 * 1000));
  limited = true;  // the provider starts refusing: the limiter falls to rpm_min and stays there
  rig.run();
  const std::vector<int> counts = per_minute(rig.starts, 3);
  EXPECT_GT(counts[0], 550);
  EXPECT_NEAR(counts[2], 50, 2);
  EXPECT_DOUBLE_EQ(rig.policy->rpm(), 50.0);
}

}  // namespace
}  // namespace squall
