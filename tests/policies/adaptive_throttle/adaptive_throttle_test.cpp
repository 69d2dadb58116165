// Client-side adaptive throttling under virtual time: the rejection probability follows the SRE book's
// formula exactly for known counts and statistically in a stationary overload, the window slides, and
// local rejections are counted as requests.

#include "policies/adaptive_throttle/adaptive_throttle.hpp"

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

struct throttle_rig {
  explicit throttle_rig(adaptive_throttle_options o, std::uint64_t seed = 11) {
    transport = std::make_unique<fake_transport>(loop, from_ms(10), [this](const call_context&, std::uint32_t) {
      return refuse ? outcome::failure(outcome_class::rate_limited) : outcome{};
    });
    policy = std::make_unique<adaptive_throttle_handler>(o, "throttle", policy_environment{loop, sink, seed},
                                                         *transport);
  }
  struct one_call {
    call_context ctx;
    recording_receiver receiver;
  };
  one_call& start() {
    calls.emplace_back();
    one_call& c = calls.back();
    c.ctx.req.id = calls.size();
    ops.push_back(&policy->start(call_scope{&c.ctx, time_never}, c.receiver));
    return c;
  }
  // Runs `n` calls one after the other to completion.
  void sequential(int n) {
    for (int i = 0; i < n; ++i) {
      start();
      run();
    }
  }
  void run() {
    while (loop.step()) {
    }
  }

  sim::event_loop loop;
  recording_sink sink;
  std::unique_ptr<fake_transport> transport;
  std::unique_ptr<adaptive_throttle_handler> policy;
  bool refuse = false;
  std::deque<one_call> calls;
  std::vector<operation*> ops;
};

adaptive_throttle_options with_k(double k) {
  adaptive_throttle_options o;
  o.k = k;
  return o;
}

TEST(adaptive_throttle, probability_follows_the_formula_for_known_counts) {
  throttle_rig rig(with_k(10));
  rig.sequential(10);  // 10 requests, 10 accepts
  EXPECT_EQ(rig.policy->requests(), 10U);
  EXPECT_EQ(rig.policy->accepts(), 10U);
  EXPECT_EQ(rig.policy->rejection_probability(), 0.0);
  rig.refuse = true;
  rig.sequential(90);  // up to 100 requests, K * accepts = 100: never throttled
  EXPECT_EQ(rig.sink.count(policy_event_kind::throttled), 0U);
  EXPECT_EQ(rig.transport->started(), 100);
  EXPECT_EQ(rig.policy->rejection_probability(), 0.0);
  rig.sequential(1);
  EXPECT_EQ(rig.policy->requests(), 101U);
  EXPECT_EQ(rig.policy->accepts(), 10U);
  EXPECT_DOUBLE_EQ(rig.policy->rejection_probability(), 1.0 / 102.0);
  rig.sequential(99);
  EXPECT_EQ(rig.policy->requests(), 200U);
  EXPECT_DOUBLE_EQ(rig.policy->rejection_probability(), 100.0 / 201.0);
  EXPECT_GT(rig.sink.count(policy_event_kind::throttled), 0U);
}

TEST(adaptive_throttle, local_rejections_are_rejected_outcomes_that_count_as_requests) {
  adaptive_throttle_options o = with_k(1);
  throttle_rig rig(o);
  rig.refuse = true;
  rig.sequential(400);  // nothing accepted: p = n / (n + 1), almost everything is refused locally
  const auto throttled = rig.sink.count(policy_event_kind::throttled);
  EXPECT_GT(throttled, 380U);
  EXPECT_EQ(rig.policy->requests(), 400U) << "local rejections count as requests";
  EXPECT_EQ(static_cast<std::size_t>(rig.transport->started()) + throttled, 400U);
  std::size_t rejected = 0;
  for (const auto& c : rig.calls) {
    if (c.receiver.last.kind == outcome_class::rejected) {
      ++rejected;
      EXPECT_EQ(c.receiver.last.decided_by, "throttle");
    }
  }
  EXPECT_EQ(rejected, throttled);
  for (const auto& e : rig.sink.events) EXPECT_NE(e.request_id, 0U);
}

TEST(adaptive_throttle, a_rejection_is_never_delivered_inside_start_and_can_be_cancelled) {
  throttle_rig rig(with_k(1));
  rig.refuse = true;
  rig.sequential(200);
  // p is now close to 1: find a call that is refused locally.
  for (int i = 0; i < 50; ++i) {
    const std::size_t before = rig.sink.count(policy_event_kind::throttled);
    auto& c = rig.start();
    if (rig.sink.count(policy_event_kind::throttled) > before) {
      EXPECT_EQ(c.receiver.calls, 0);
      rig.ops.back()->cancel();
      rig.run();
      EXPECT_EQ(c.receiver.calls, 0);
      return;
    }
    rig.run();
  }
  FAIL() << "no call was throttled";
}

TEST(adaptive_throttle, the_window_slides_and_forgets) {
  adaptive_throttle_options o = with_k(1);
  o.window_s = 10;
  throttle_rig rig(o);
  rig.refuse = true;
  rig.sequential(50);
  EXPECT_GT(rig.policy->rejection_probability(), 0.9);
  rig.loop.run_until(at_ms(9500));
  EXPECT_GT(rig.policy->rejection_probability(), 0.9);  // moves the window to 9.5 s
  EXPECT_EQ(rig.policy->requests(), 50U) << "second 0 is still inside a 10 s window at 9.5 s";
  rig.loop.run_until(at_ms(10000));
  EXPECT_EQ(rig.policy->rejection_probability(), 0.0);
  EXPECT_EQ(rig.policy->requests(), 0U);
  rig.refuse = false;
  rig.sequential(5);
  EXPECT_EQ(rig.transport->started() - (50 - static_cast<int>(rig.sink.count(policy_event_kind::throttled))), 5);
}

TEST(adaptive_throttle, a_cancelled_call_is_taken_back) {
  throttle_rig rig(with_k(2));
  rig.start();
  rig.ops[0]->cancel();
  EXPECT_EQ(rig.transport->cancelled(), 1);
  EXPECT_EQ(rig.policy->requests(), 0U);
  EXPECT_EQ(rig.loop.pending(), 0U);
}

// A provider that accepts at most `per_second` requests in each second and refuses the rest.
struct capacity_rig {
  capacity_rig(adaptive_throttle_options o, int per_second, std::uint64_t seed)
      : capacity(per_second),
        transport(loop, from_ms(10),
                  [this](const call_context&, std::uint32_t) {
                    const auto second = loop.now().time_since_epoch() / from_s(1);
                    if (second != current) {
                      current = second;
                      accepted = 0;
                    }
                    if (accepted < capacity) {
                      ++accepted;
                      return outcome{};
                    }
                    return outcome::failure(outcome_class::overloaded);
                  }),
        policy(o, "throttle", policy_environment{loop, sink, seed}, transport) {}

  int capacity;
  std::int64_t current = -1;
  int accepted = 0;
  sim::event_loop loop;
  recording_sink sink;
  fake_transport transport;
  adaptive_throttle_handler policy;
};

struct open_loop final : timer_target, outcome_receiver {
  open_loop(capacity_rig& r, duration g, int n) : rig(r), gap(g), left(n) { rig.loop.start_timer({}, *this, 0); }
  void on_timer(std::uint32_t) override {
    ctx.req.id = static_cast<std::uint64_t>(left);
    rig.policy.start(call_scope{&ctx, time_never}, *this);
    if (--left > 0) rig.loop.start_timer(gap, *this, 0);
  }
  void on_outcome(outcome&&) override {}
  capacity_rig& rig;
  duration gap;
  int left;
  call_context ctx;  // the calls need not outlive it: the fake transport only reads it when answering
};

TEST(adaptive_throttle, stationary_overload_throttles_at_the_predicted_rate) {
  // 100 requests per second against a provider that accepts 20 per second, K = 2: in steady state the
  // window holds R = 100 W requests and A = 20 W accepts, so p = (R - K A) / (R + 1) ~ 1 - 40 / 100.
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    capacity_rig rig(adaptive_throttle_options{}, 20, seed);
    open_loop load(rig, from_ms(10), 100 * 600);  // ten minutes
    rig.loop.run_until(at_ms(240 * 1000));        // warm up two windows
    const std::size_t throttled_before = rig.sink.count(policy_event_kind::throttled);
    rig.loop.run_until(at_ms(600 * 1000));
    const double throttled = static_cast<double>(rig.sink.count(policy_event_kind::throttled) - throttled_before);
    const double share = throttled / (360.0 * 100.0);
    EXPECT_NEAR(share, 0.6, 0.02) << "seed " << seed;
    // And the window itself agrees with the formula.
    const double p = rig.policy.rejection_probability();  // moves the window to now first
    const double r = static_cast<double>(rig.policy.requests());
    const double a = static_cast<double>(rig.policy.accepts());
    EXPECT_NEAR(r, 12000.0, 150.0);
    EXPECT_NEAR(a, 20.0 * 120.0, 30.0);
    EXPECT_DOUBLE_EQ(p, (r - 2.0 * a) / (r + 1.0));
  }
}

TEST(adaptive_throttle, a_provider_that_keeps_up_is_never_throttled) {
  capacity_rig rig(adaptive_throttle_options{}, 1000, 7);
  open_loop load(rig, from_ms(10), 100 * 120);
  rig.loop.run_until(at_ms(121 * 1000));
  EXPECT_EQ(rig.sink.count(policy_event_kind::throttled), 0U);
}

TEST(adaptive_throttle, same_seed_same_decisions) {
  std::size_t counts[2];
  for (int i = 0; i < 2; ++i) {
    capacity_rig rig(adaptive_throttle_options{}, 20, 99);
    open_loop load(rig, from_ms(10), 100 * 60);
    rig.loop.run_until(at_ms(61 * 1000));
    counts[i] = rig.sink.count(policy_event_kind::throttled);
  }
  EXPECT_EQ(counts[0], counts[1]);
  EXPECT_GT(counts[0], 0U);
}

}  // namespace
}  // namespace squall
