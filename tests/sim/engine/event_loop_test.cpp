#include "sim/engine/event_loop.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace squall::sim {
namespace {

using namespace std::chrono_literals;

// Records which cookie fired at what virtual time; optionally starts a follow-up timer from inside.
struct recorder final : timer_target {
  explicit recorder(event_loop& l) : loop(l) {}
  void on_timer(std::uint32_t cookie) override {
    fired.emplace_back(cookie, loop.now().time_since_epoch());
    if (cookie == chain_cookie) loop.start_timer(chain_delay, *this, chain_cookie + 1);
  }
  event_loop& loop;
  std::vector<std::pair<std::uint32_t, duration>> fired;
  std::uint32_t chain_cookie = 0xffffffffU;
  duration chain_delay{};
};

std::vector<std::uint32_t> cookies(const recorder& r) {
  std::vector<std::uint32_t> out;
  for (const auto& f : r.fired) out.push_back(f.first);
  return out;
}

TEST(EventLoop, FiresInTimeOrderAndAdvancesTheClock) {
  event_loop loop;
  recorder r(loop);
  loop.start_timer(30ms, r, 3);
  loop.start_timer(10ms, r, 1);
  loop.start_timer(20ms, r, 2);
  EXPECT_EQ(loop.pending(), 3U);
  while (loop.step()) {
  }
  ASSERT_EQ(r.fired.size(), 3U);
  EXPECT_EQ(r.fired[0], std::make_pair(1U, duration{10ms}));
  EXPECT_EQ(r.fired[1], std::make_pair(2U, duration{20ms}));
  EXPECT_EQ(r.fired[2], std::make_pair(3U, duration{30ms}));
  EXPECT_EQ(loop.now().time_since_epoch(), duration{30ms});
  EXPECT_EQ(loop.pending(), 0U);
  EXPECT_EQ(loop.fired(), 3U);
}

TEST(EventLoop, EqualTimesFireInTheOrderTheyWereStarted) {
  event_loop loop;
  recorder r(loop);
  for (std::uint32_t i = 0; i < 50; ++i) loop.start_timer(5ms, r, i);
  while (loop.step()) {
  }
  ASSERT_EQ(r.fired.size(), 50U);
  for (std::uint32_t i = 0; i < 50; ++i) EXPECT_EQ(r.fired[i].first, i);
}

TEST(EventLoop, ATimerStartedWhileFiringQueuesBehindEqualTimes) {
  event_loop loop;
  recorder r(loop);
  r.chain_cookie = 1;  // cookie 1 starts cookie 2 with zero delay
  loop.start_timer(1ms, r, 1);
  loop.start_timer(1ms, r, 7);
  while (loop.step()) {
  }
  EXPECT_EQ(cookies(r), (std::vector<std::uint32_t>{1, 7, 2}));
  EXPECT_EQ(r.fired[2].second, duration{1ms});
}

TEST(EventLoop, CancelBeforeFireSuppressesIt) {
  event_loop loop;
  recorder r(loop);
  const timer_id a = loop.start_timer(10ms, r, 1);
  loop.start_timer(20ms, r, 2);
  loop.cancel_timer(a);
  EXPECT_EQ(loop.pending(), 1U);
  EXPECT_EQ(loop.next_due().time_since_epoch(), duration{20ms});
  while (loop.step()) {
  }
  EXPECT_EQ(cookies(r), (std::vector<std::uint32_t>{2}));
}

TEST(EventLoop, CancelAfterFireAndCancellingTwiceAreNoOps) {
  event_loop loop;
  recorder r(loop);
  const timer_id a = loop.start_timer(10ms, r, 1);
  ASSERT_TRUE(loop.step());
  loop.cancel_timer(a);
  loop.cancel_timer(a);
  loop.cancel_timer(timer_id{});
  // The fired timer's slot is reused; the stale id must not cancel the new timer.
  loop.start_timer(10ms, r, 2);
  loop.cancel_timer(a);
  EXPECT_EQ(loop.pending(), 1U);
  while (loop.step()) {
  }
  EXPECT_EQ(cookies(r), (std::vector<std::uint32_t>{1, 2}));
}

TEST(EventLoop, SlotReuseDoesNotResurrectACancelledTimer) {
  event_loop loop;
  recorder r(loop);
  const timer_id a = loop.start_timer(10ms, r, 1);
  loop.cancel_timer(a);
  // Reuses the cancelled slot while its stale heap entry (due at 10 ms) is still in the heap.
  const timer_id b = loop.start_timer(30ms, r, 2);
  EXPECT_NE(a, b);
  loop.cancel_timer(a);  // stale: must leave b alone
  EXPECT_EQ(loop.next_due().time_since_epoch(), duration{30ms});
  ASSERT_TRUE(loop.step());
  EXPECT_EQ(r.fired.size(), 1U);
  EXPECT_EQ(r.fired[0], std::make_pair(2U, duration{30ms}));
  EXPECT_FALSE(loop.step());
}

TEST(EventLoop, RunUntilFiresDueTimersAndAdvancesTheClock) {
  event_loop loop;
  recorder r(loop);
  loop.start_timer(10ms, r, 1);
  loop.start_timer(20ms, r, 2);
  loop.start_timer(21ms, r, 3);
  loop.run_until(time_point{20ms});
  EXPECT_EQ(cookies(r), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(loop.now().time_since_epoch(), duration{20ms});
  loop.run_until(time_point{15ms});  // never goes backwards
  EXPECT_EQ(loop.now().time_since_epoch(), duration{20ms});
  loop.run_until(time_point{100ms});
  EXPECT_EQ(cookies(r), (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(loop.now().time_since_epoch(), duration{100ms});
  EXPECT_EQ(loop.next_due(), time_never);
}

TEST(EventLoop, RunUntilWithNoTimersStillAdvances) {
  event_loop loop;
  loop.run_until(time_point{5s});
  EXPECT_EQ(loop.now().time_since_epoch(), duration{5s});
}

TEST(EventLoop, ZeroAndNegativeDelaysFireLaterAtTheCurrentTime) {
  event_loop loop;
  recorder r(loop);
  loop.run_until(time_point{7ms});
  loop.start_timer(duration::zero(), r, 1);
  loop.start_timer(-5ms, r, 2);
  EXPECT_TRUE(r.fired.empty()) << "start_timer must never fire its target";
  EXPECT_EQ(loop.next_due().time_since_epoch(), duration{7ms});
  while (loop.step()) {
  }
  EXPECT_EQ(cookies(r), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(r.fired[1].second, duration{7ms});
}

TEST(EventLoop, ManyTimersWithCancellationsKeepOrderAndCount) {
  event_loop loop;
  recorder r(loop);
  std::vector<timer_id> ids;
  for (std::uint32_t i = 0; i < 1000; ++i) ids.push_back(loop.start_timer(duration{(i * 7919) % 1000}, r, i));
  for (std::uint32_t i = 0; i < 1000; i += 3) loop.cancel_timer(ids[i]);
  while (loop.step()) {
  }
  EXPECT_EQ(r.fired.size(), 1000U - 334U);
  for (std::size_t i = 1; i < r.fired.size(); ++i) EXPECT_LE(r.fired[i - 1].second, r.fired[i].second);
  for (const auto& f : r.fired) EXPECT_NE(f.first % 3, 0U);
}

}  // namespace
}  // namespace squall::sim
