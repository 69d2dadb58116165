// The retry delay formulas, checked exactly (backoff) and statistically (jitter).

#include "policies/retry/backoff.hpp"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

namespace squall {
namespace {

TEST(backoff, constant_is_base_for_every_retry) {
  for (std::uint32_t n = 1; n <= 10; ++n) {
    EXPECT_DOUBLE_EQ(backoff_delay_ms(backoff_kind::constant, 250.0, 2.0, 30000.0, n), 250.0) << "retry " << n;
  }
}

TEST(backoff, linear_is_base_times_retry_number) {
  EXPECT_DOUBLE_EQ(backoff_delay_ms(backoff_kind::linear, 250.0, 2.0, 30000.0, 1), 250.0);
  EXPECT_DOUBLE_EQ(backoff_delay_ms(backoff_kind::linear, 250.0, 2.0, 30000.0, 2), 500.0);
  EXPECT_DOUBLE_EQ(backoff_delay_ms(backoff_kind::linear, 250.0, 2.0, 30000.0, 7), 1750.0);
}

TEST(backoff, exponential_is_base_times_multiplier_to_retry_minus_one) {
  EXPECT_DOUBLE_EQ(backoff_delay_ms(backoff_kind::exponential, 200.0, 2.0, 30000.0, 1), 200.0);
  EXPECT_DOUBLE_EQ(backoff_delay_ms(backoff_kind::exponential, 200.0, 2.0, 30000.0, 2), 400.0);
  EXPECT_DOUBLE_EQ(backoff_delay_ms(backoff_kind::exponential, 200.0, 2.0, 30000.0, 5), 3200.0);
  EXPECT_DOUBLE_EQ(backoff_delay_ms(backoff_kind::exponential, 100.0, 1.5, 30000.0, 3), 225.0);
}

TEST(backoff, every_kind_is_capped_at_delay_ms_max) {
  EXPECT_DOUBLE_EQ(backoff_delay_ms(backoff_kind::constant, 500.0, 2.0, 500.0, 3), 500.0);
  EXPECT_DOUBLE_EQ(backoff_delay_ms(backoff_kind::linear, 500.0, 2.0, 1200.0, 3), 1200.0);
  EXPECT_DOUBLE_EQ(backoff_delay_ms(backoff_kind::exponential, 200.0, 2.0, 30000.0, 9), 30000.0);
  // The largest validated inputs stay finite and capped.
  EXPECT_DOUBLE_EQ(backoff_delay_ms(backoff_kind::exponential, 3600000.0, 10.0, 3600000.0, 100), 3600000.0);
}

TEST(jitter, none_returns_the_delay_and_draws_nothing) {
  rng a(7);
  rng b(7);
  jitter_state s{100.0};
  EXPECT_DOUBLE_EQ(apply_jitter_ms(jitter_kind::none, 800.0, 100.0, 30000.0, 0.25, s, a), 800.0);
  EXPECT_EQ(a.next(), b.next());
}

// Mean of n draws of uniform(lo, hi) has standard error (hi - lo) / sqrt(12 n).
double uniform_mean_tolerance(double lo, double hi, int n) { return 4.0 * (hi - lo) / std::sqrt(12.0 * n); }

TEST(jitter, full_is_uniform_between_zero_and_the_delay) {
  rng random(42);
  jitter_state s{100.0};
  constexpr int draws = 100000;
  const double d = 800.0;
  double sum = 0.0;
  double lo = d;
  double hi = 0.0;
  for (int i = 0; i < draws; ++i) {
    const double x = apply_jitter_ms(jitter_kind::full, d, 100.0, 30000.0, 0.25, s, random);
    ASSERT_GE(x, 0.0);
    ASSERT_LE(x, d);
    sum += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  EXPECT_NEAR(sum / draws, d / 2.0, uniform_mean_tolerance(0.0, d, draws));
  // It spreads over the whole range, not a corner of it.
  EXPECT_LT(lo, d * 0.01);
  EXPECT_GT(hi, d * 0.99);
}

TEST(jitter, equal_keeps_half_the_delay_and_spreads_the_other_half) {
  rng random(43);
  jitter_state s{100.0};
  constexpr int draws = 100000;
  const double d = 1000.0;
  double sum = 0.0;
  for (int i = 0; i < draws; ++i) {
    const double x = apply_jitter_ms(jitter_kind::equal, d, 100.0, 30000.0, 0.25, s, random);
    ASSERT_GE(x, d / 2.0);
    ASSERT_LE(x, d);
    sum += x;
  }
  EXPECT_NEAR(sum / draws, 0.75 * d, uniform_mean_tolerance(d / 2.0, d, draws));
}

TEST(jitter, decorrelated_stays_between_base_and_three_times_the_previous_delay_capped) {
  rng random(44);
  const double base = 100.0;
  const double cap = 5000.0;
  jitter_state s{base};
  bool reached_cap = false;
  for (int call = 0; call < 2000; ++call) {
    s.delay_ms_previous = base;  // a new call starts from base
    for (int retry = 0; retry < 20; ++retry) {
      const double previous = s.delay_ms_previous;
      // The backoff delay argument is ignored by decorrelated jitter.
      const double x = apply_jitter_ms(jitter_kind::decorrelated, 12345.0, base, cap, 0.25, s, random);
      ASSERT_GE(x, base);
      ASSERT_LE(x, std::min(cap, 3.0 * previous));
      ASSERT_DOUBLE_EQ(s.delay_ms_previous, x);
      reached_cap = reached_cap || x == cap;
    }
  }
  EXPECT_TRUE(reached_cap);
}

TEST(jitter, decorrelated_first_draw_is_uniform_between_base_and_three_base) {
  rng random(45);
  constexpr int draws = 100000;
  double sum = 0.0;
  for (int i = 0; i < draws; ++i) {
    jitter_state s{100.0};
    sum += apply_jitter_ms(jitter_kind::decorrelated, 0.0, 100.0, 30000.0, 0.25, s, random);
  }
  EXPECT_NEAR(sum / draws, 200.0, uniform_mean_tolerance(100.0, 300.0, draws));
}

TEST(jitter, shrink_takes_up_to_its_fraction_off_the_delay) {
  rng random(45);
  jitter_state s{100.0};
  constexpr int draws = 100000;
  const double d = 2000.0;
  double sum = 0.0;
  double lo = d;
  double hi = 0.0;
  for (int i = 0; i < draws; ++i) {
    const double x = apply_jitter_ms(jitter_kind::shrink, d, 100.0, 30000.0, 0.25, s, random);
    ASSERT_GT(x, 0.75 * d);
    ASSERT_LE(x, d);
    sum += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  // The SDKs' sleep * (1 - 0.25 U): uniform over [0.75 d, d].
  EXPECT_NEAR(sum / draws, 0.875 * d, uniform_mean_tolerance(0.75 * d, d, draws));
  EXPECT_LT(lo, 0.751 * d);
  EXPECT_GT(hi, 0.999 * d);
  rng again(45);
  EXPECT_DOUBLE_EQ(apply_jitter_ms(jitter_kind::shrink, d, 100.0, 30000.0, 0.0, s, again), d) << "fraction 0";
}

}  // namespace
}  // namespace squall
