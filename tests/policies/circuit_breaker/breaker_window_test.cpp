// The breaker's sliding windows: running totals, sliding out, bounded memory.

#include "policies/circuit_breaker/breaker_window.hpp"

#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "policies/core/rng.hpp"
#include "tests/support/time_points.hpp"

namespace squall {
namespace {

using testing::at_s;

TEST(breaker_window, count_window_keeps_the_last_size_results) {
  breaker_window w(breaker_window_kind::count, 3);
  w.record(true, false, at_s(0));
  w.record(false, true, at_s(0));
  auto t = w.totals(at_s(0));
  EXPECT_EQ(t.calls, 2U);
  EXPECT_EQ(t.failures, 1U);
  EXPECT_EQ(t.slow, 1U);
  w.record(false, false, at_s(0));
  w.record(false, false, at_s(0));  // the failure slides out
  t = w.totals(at_s(0));
  EXPECT_EQ(t.calls, 3U);
  EXPECT_EQ(t.failures, 0U);
  EXPECT_EQ(t.slow, 1U);
  for (int i = 0; i < 1000; ++i) w.record(i % 3 == 0, false, at_s(0));
  t = w.totals(at_s(0));
  EXPECT_EQ(t.calls, 3U);
  EXPECT_EQ(t.failures, 1U);  // results 997, 998, 999: only 999 % 3 == 0
  w.clear();
  EXPECT_EQ(w.totals(at_s(0)).calls, 0U);
}

TEST(breaker_window, time_window_counts_the_last_size_seconds) {
  breaker_window w(breaker_window_kind::time, 10);
  w.record(true, false, at_s(100.2));
  w.record(true, false, at_s(101.5));
  w.record(false, false, at_s(105.0));
  EXPECT_EQ(w.totals(at_s(109.99)).calls, 3U);
  auto t = w.totals(at_s(110.0));  // second 100 slid out
  EXPECT_EQ(t.calls, 2U);
  EXPECT_EQ(t.failures, 1U);
  t = w.totals(at_s(111.0));
  EXPECT_EQ(t.calls, 1U);
  EXPECT_EQ(t.failures, 0U);
  // A jump far beyond the window forgets everything.
  EXPECT_EQ(w.totals(at_s(100000.0)).calls, 0U);
  w.record(true, true, at_s(100000.5));
  t = w.totals(at_s(100000.9));
  EXPECT_EQ(t.calls, 1U);
  EXPECT_EQ(t.failures, 1U);
  EXPECT_EQ(t.slow, 1U);
}

TEST(breaker_window, time_window_totals_match_a_brute_force_count) {
  breaker_window w(breaker_window_kind::time, 7);
  std::vector<std::pair<double, bool>> history;
  rng random(3);
  double now = 0.0;
  for (int i = 0; i < 5000; ++i) {
    now += random.exponential(0.8);
    const bool failure = random.uniform() < 0.3;
    w.record(failure, false, at_s(now));
    history.emplace_back(now, failure);
    const auto current = static_cast<long>(now);
    std::uint32_t calls = 0;
    std::uint32_t failures = 0;
    for (const auto& [t, f] : history) {
      if (static_cast<long>(t) > current - 7) {
        ++calls;
        failures += f ? 1U : 0U;
      }
    }
    const auto totals = w.totals(at_s(now));
    ASSERT_EQ(totals.calls, calls) << "at " << now;
    ASSERT_EQ(totals.failures, failures) << "at " << now;
  }
}

}  // namespace
}  // namespace squall
