#include "sim/engine/event_loop.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "policies/core/rng.hpp"

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

// The same workload through the loop and through a plain list sorted by (due, start order): a mix of
// fixed delays (which get rings), jittered delays (heap), zero delays, cancellations of every kind, and
// timers started from callbacks. The firing sequence and times must be the same.
struct mixed_driver final : timer_target {
  explicit mixed_driver(event_loop& l) : loop(l), random(7) {}

  duration pick_delay() {
    const std::uint64_t k = random.below(10);
    if (k < 3) return 30ms;
    if (k < 5) return 5ms;
    if (k < 6) return duration::zero();
    if (k < 7) return -3ms;  // counts as zero
    return duration{static_cast<std::int64_t>(random.below(40'000'000))};
  }

  void start_one() {
    const duration d = pick_delay();
    const auto cookie = static_cast<std::uint32_t>(started.size());
    const std::int64_t due = loop.now().time_since_epoch().count() + std::max<std::int64_t>(0, d.count());
    started.push_back({due, cookie, false});
    ids.push_back(loop.start_timer(d, *this, cookie));
  }

  void on_timer(std::uint32_t cookie) override {
    fired.push_back({loop.now().time_since_epoch().count(), cookie});
    // Each firing starts up to two timers and cancels one picked at random (often already fired).
    if (started.size() < 20'000) {
      start_one();
      if (random.below(2) == 0) start_one();
    }
    const auto victim = static_cast<std::size_t>(random.below(started.size()));
    loop.cancel_timer(ids[victim]);
    cancelled_at.push_back({victim, fired.size()});
  }

  struct start_record {
    std::int64_t due_ns;
    std::uint32_t cookie;
    bool dead;
  };
  event_loop& loop;
  rng random;
  std::vector<start_record> started;
  std::vector<timer_id> ids;
  std::vector<std::pair<std::int64_t, std::uint32_t>> fired;
  std::vector<std::pair<std::size_t, std::size_t>> cancelled_at;  // timer, fired count when cancelled
};

TEST(EventLoop, RingsAndHeapTogetherFireExactlyInDueThenStartOrder) {
  event_loop loop;
  mixed_driver d(loop);
  for (int i = 0; i < 200; ++i) d.start_one();
  while (loop.step()) {
  }
  EXPECT_GE(loop.rings(), 2U);  // 30 ms, 5 ms and zero are common enough to get rings
  EXPECT_LE(loop.rings(), event_loop::rings_max);
  EXPECT_EQ(loop.pending(), 0U);

  // The reference: a timer fires unless it was cancelled before it came up. Replay in (due, start)
  // order, checking each cancellation against the firings that had happened when it was made.
  std::vector<std::size_t> fired_position(d.started.size(), SIZE_MAX);
  for (std::size_t i = 0; i < d.fired.size(); ++i) fired_position[d.fired[i].second] = i;
  for (const auto& [victim, fired_then] : d.cancelled_at) {
    // Cancelling after the timer fired is a no-op; before, it suppresses the timer for good.
    if (fired_position[victim] == SIZE_MAX || fired_position[victim] >= fired_then) d.started[victim].dead = true;
  }
  std::vector<std::tuple<std::int64_t, std::uint32_t>> expected;
  for (const auto& s : d.started) {
    if (!s.dead) expected.emplace_back(s.due_ns, s.cookie);
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_EQ(d.fired.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(d.fired[i].first, std::get<0>(expected[i])) << "firing " << i;
    ASSERT_EQ(d.fired[i].second, std::get<1>(expected[i])) << "firing " << i;
  }
  // A cancelled timer never fired after its cancellation.
  for (const auto& [victim, fired_then] : d.cancelled_at) {
    if (fired_position[victim] != SIZE_MAX) {
      EXPECT_LT(fired_position[victim], fired_then);
    }
  }
}

TEST(EventLoop, ARingOfCancelledTimeoutsStaysBoundedAndNextDueSkipsThem) {
  event_loop loop;
  recorder r(loop);
  // A timeout started and cancelled a million times, as every answered request does, with one far
  // later timer: the cancelled entries must neither surface nor pile up.
  loop.start_timer(1h, r, 99);
  for (std::uint32_t i = 0; i < 1'000'000; ++i) loop.cancel_timer(loop.start_timer(30s, r, i));
  EXPECT_EQ(loop.rings(), 1U);
  EXPECT_LE(loop.ring_capacity(), 64U);  // every entry was dead when the ring filled: compacted, not grown
  EXPECT_EQ(loop.pending(), 1U);
  EXPECT_EQ(loop.next_due().time_since_epoch(), duration{1h});
  while (loop.step()) {
  }
  EXPECT_EQ(cookies(r), (std::vector<std::uint32_t>{99}));
}

TEST(EventLoop, AFixedDelayStartedWhileItsRingIsFiringKeepsItsPlace) {
  event_loop loop;
  recorder r(loop);
  // 40 timers of 2 ms (enough for a ring); the first one, when it fires, starts another 2 ms timer,
  // which is due after all of them; a heap timer due at 3 ms must fire between them.
  r.chain_cookie = 0;
  r.chain_delay = 2ms;
  for (std::uint32_t i = 0; i < 40; ++i) loop.start_timer(2ms, r, i == 0 ? 0 : 100 + i);
  loop.start_timer(3ms, r, 7);
  while (loop.step()) {
  }
  EXPECT_EQ(loop.rings(), 1U);
  ASSERT_EQ(r.fired.size(), 42U);
  EXPECT_EQ(r.fired[0].first, 0U);
  for (std::uint32_t i = 1; i < 40; ++i) EXPECT_EQ(r.fired[i].first, 100 + i);
  EXPECT_EQ(r.fired[40], std::make_pair(7U, duration{3ms}));
  EXPECT_EQ(r.fired[41], std::make_pair(1U, duration{4ms}));
}

}  // namespace
}  // namespace squall::sim
