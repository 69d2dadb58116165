// The real-clock runtime: timers fire in (due, start) order, cancelled timers never fire, nothing fires
// inside start_timer, and the same policy pipeline that runs on the simulation's clock runs here
// unchanged. No assertion is on wall-clock speed; delays are kept short so the suite stays quick.

#include "policies/asio/asio_runtime.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <vector>

#include "policies/core/deferred_answer.hpp"
#include "policies/pipeline/pipeline.hpp"
#include "policies/pipeline/registry.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

struct recorder final : timer_target {
  explicit recorder(runtime& r) : rt(r) {}
  void on_timer(std::uint32_t cookie) override {
    fired.push_back(cookie);
    at.push_back(rt.now());
  }
  runtime& rt;
  std::vector<std::uint32_t> fired;
  std::vector<time_point> at;
};

TEST(asio_runtime, now_starts_near_zero_and_never_goes_back) {
  boost::asio::io_context io;
  asio_runtime rt(io);
  const time_point a = rt.now();
  const time_point b = rt.now();
  EXPECT_GE(a.time_since_epoch(), duration::zero());
  EXPECT_LT(a.time_since_epoch(), from_s(60)) << "now() counts from the runtime's construction";
  EXPECT_LE(a, b);
  EXPECT_GT(rt.unix_now_s(), 1600000000) << "the wall clock is the Unix epoch's";
}

TEST(asio_runtime, timers_fire_in_due_order_then_start_order) {
  boost::asio::io_context io;
  asio_runtime rt(io);
  recorder r(rt);
  rt.start_timer(from_ms(30), r, 3);
  rt.start_timer(from_ms(10), r, 1);
  rt.start_timer(from_ms(20), r, 2);
  rt.start_timer(duration::zero(), r, 10);
  rt.start_timer(duration::zero(), r, 11);
  rt.start_timer(from_ms(-5), r, 12);  // negative counts as zero: after the two started before it
  io.run();
  EXPECT_EQ(r.fired, (std::vector<std::uint32_t>{10, 11, 12, 1, 2, 3}));
  EXPECT_GE(r.at[3], time_point{from_ms(10)}) << "a timer never fires early";
  EXPECT_GE(r.at[5], time_point{from_ms(30)});
  EXPECT_EQ(rt.pending(), 0U);
  EXPECT_EQ(rt.fired(), 6U);
}

TEST(asio_runtime, never_fires_inside_start_timer) {
  boost::asio::io_context io;
  asio_runtime rt(io);
  recorder r(rt);
  rt.start_timer(duration::zero(), r, 7);
  EXPECT_TRUE(r.fired.empty());
  io.run();
  EXPECT_EQ(r.fired, (std::vector<std::uint32_t>{7}));
}

TEST(asio_runtime, a_cancelled_timer_never_fires_and_cancel_is_idempotent) {
  boost::asio::io_context io;
  asio_runtime rt(io);
  recorder r(rt);
  const timer_id a = rt.start_timer(from_ms(5), r, 1);
  const timer_id b = rt.start_timer(from_ms(5), r, 2);
  const timer_id c = rt.start_timer(duration::zero(), r, 3);
  rt.cancel_timer(a);
  rt.cancel_timer(a);
  rt.cancel_timer(timer_id{});
  rt.cancel_timer(c);  // even a zero-delay timer whose wake is already armed
  EXPECT_EQ(rt.pending(), 1U);
  io.run();
  EXPECT_EQ(r.fired, (std::vector<std::uint32_t>{2}));
  rt.cancel_timer(b);  // fired: a no-op
  EXPECT_EQ(rt.pending(), 0U);
}

// A target that cancels a timer due at the same instant from its own callback: the one cancelled must
// not fire even though it was already due when the wake began.
struct canceller final : timer_target {
  runtime* rt = nullptr;
  timer_id victim;
  std::vector<std::uint32_t> fired;
  void on_timer(std::uint32_t cookie) override {
    fired.push_back(cookie);
    if (cookie == 1) rt->cancel_timer(victim);
  }
};

TEST(asio_runtime, a_timer_cancelled_by_an_earlier_callback_of_the_same_wake_does_not_fire) {
  boost::asio::io_context io;
  asio_runtime rt(io);
  canceller c;
  c.rt = &rt;
  rt.start_timer(from_ms(1), c, 1);
  c.victim = rt.start_timer(from_ms(1), c, 2);
  rt.start_timer(from_ms(1), c, 3);
  io.run();
  EXPECT_EQ(c.fired, (std::vector<std::uint32_t>{1, 3}));
}

TEST(asio_runtime, an_earlier_timer_started_later_rearms_the_wake) {
  boost::asio::io_context io;
  asio_runtime rt(io);
  recorder r(rt);
  const timer_id far = rt.start_timer(std::chrono::hours(1), r, 1);
  rt.start_timer(from_ms(2), r, 2);
  // Run until the short one fired, then cancel the far one so that run() can return.
  struct stopper final : timer_target {
    runtime* rt;
    timer_id far;
    void on_timer(std::uint32_t) override { rt->cancel_timer(far); }
  } s;
  s.rt = &rt;
  s.far = far;
  rt.start_timer(from_ms(3), s, 0);
  io.run();
  EXPECT_EQ(r.fired, (std::vector<std::uint32_t>{2}));
}

TEST(asio_runtime, many_cancelled_timers_do_not_grow_without_bound) {
  boost::asio::io_context io;
  asio_runtime rt(io);
  recorder r(rt);
  for (int i = 0; i < 100000; ++i) rt.cancel_timer(rt.start_timer(std::chrono::hours(1), r, 0));
  EXPECT_EQ(rt.pending(), 0U);
  io.run();  // returns at once: the cancelled hour-long timers hold nothing
  EXPECT_TRUE(r.fired.empty());
  const timer_id keep = rt.start_timer(std::chrono::hours(1), r, 0);
  for (int i = 0; i < 100000; ++i) rt.cancel_timer(rt.start_timer(std::chrono::hours(2), r, 0));
  rt.cancel_timer(keep);
  rt.start_timer(duration::zero(), r, 5);
  io.restart();
  io.run();
  EXPECT_EQ(r.fired, (std::vector<std::uint32_t>{5}));
}

TEST(asio_runtime, destroying_the_runtime_drops_pending_timers) {
  boost::asio::io_context io;
  struct counter final : timer_target {
    int fired = 0;
    void on_timer(std::uint32_t) override { ++fired; }
  } c;
  {
    asio_runtime rt(io);
    rt.start_timer(duration::zero(), c, 1);
  }
  io.run();
  EXPECT_EQ(c.fired, 0);
}

TEST(asio_runtime, deferred_answer_is_delivered_later_not_inside_start) {
  boost::asio::io_context io;
  asio_runtime rt(io);
  struct receiver final : outcome_receiver {
    int calls = 0;
    void on_outcome(outcome&&) override { ++calls; }
  } rec;
  deferred_answer::start(rt, outcome::failure(outcome_class::rejected), duration::zero(), rec);
  EXPECT_EQ(rec.calls, 0);
  operation& cancelled = deferred_answer::start(rt, outcome{}, duration::zero(), rec);
  cancelled.cancel();
  io.run();
  EXPECT_EQ(rec.calls, 1);
}

// The same policy file the simulation runs: retry around a per-attempt timeout, over a transport whose
// first two attempts hang past the timeout and whose third answers at once.
TEST(asio_runtime, a_retry_and_timeout_pipeline_runs_unchanged_on_the_real_clock) {
  auto spec = parse_pipeline(json::parse(R"({
    "name": "retry-timeout",
    "policies": [
      { "type": "retry", "attempts_max": 3, "backoff": "constant", "delay_ms_base": 5, "jitter": "none" },
      { "type": "timeout", "timeout_ms": 20 }
    ]})"),
                             "$");
  ASSERT_TRUE(spec) << spec.error().describe();
  boost::asio::io_context io;
  asio_runtime rt(io);
  testing::recording_sink events;
  testing::fake_transport transport(rt, from_ms(1), [](const call_context&, std::uint32_t n) {
    outcome o;
    o.kind = n < 3 ? outcome_class::server_error : outcome_class::ok;
    return o;
  });
  // Attempts 1 and 2 take 200 ms (cut off by the 20 ms timeout); attempt 3 takes 1 ms.
  struct slow_then_fast final : handler {
    testing::fake_transport& fast;
    testing::fake_transport& slow;
    slow_then_fast(testing::fake_transport& f, testing::fake_transport& s) : fast(f), slow(s) {}
    operation& start(const call_scope& scope, outcome_receiver& r) override {
      return scope.call->attempts < 2 ? slow.start(scope, r) : fast.start(scope, r);
    }
  };
  testing::fake_transport slow(rt, from_ms(200), [](const call_context&, std::uint32_t) { return outcome{}; });
  slow_then_fast chain_end(transport, slow);
  pipeline chain(*spec, rt, events, 1, chain_end);

  struct receiver final : outcome_receiver {
    std::optional<outcome> got;
    void on_outcome(outcome&& o) override { got = std::move(o); }
  } rec;
  call_context call;
  call.started_at = rt.now();
  chain.start(call_scope{&call, time_never}, rec);
  EXPECT_FALSE(rec.got) << "nothing is answered inside start()";
  io.run();
  ASSERT_TRUE(rec.got);
  EXPECT_EQ(rec.got->kind, outcome_class::ok);
  EXPECT_EQ(call.attempts, 3U);
  EXPECT_EQ(slow.cancelled(), 2) << "the timeout cancelled both slow attempts";
  EXPECT_GE(rt.now() - call.started_at, from_ms(2 * 20 + 2 * 5)) << "two timeouts and two backoffs elapsed";
}

}  // namespace
}  // namespace squall
