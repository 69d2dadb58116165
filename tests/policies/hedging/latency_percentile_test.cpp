// The bounded latency window behind the adaptive hedge delay.

#include "policies/hedging/latency_percentile.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

TEST(latency_percentile, nothing_below_the_minimum_then_the_nearest_rank) {
  latency_percentile p(100, 20, 0.95);
  for (int i = 1; i <= 19; ++i) p.record(from_ms(10 * i));
  EXPECT_FALSE(p.estimate());
  p.record(from_ms(200));
  // 20 samples 10..200 ms: the ceil(0.95 * 20) = 19th smallest.
  EXPECT_EQ(p.estimate(), from_ms(190));
}

TEST(latency_percentile, the_window_forgets_the_oldest_samples) {
  latency_percentile p(20, 1, 0.5);
  for (int i = 0; i < 20; ++i) p.record(from_ms(1000));
  EXPECT_EQ(p.estimate(), from_ms(1000));
  for (int i = 0; i < 20; ++i) p.record(from_ms(10));
  EXPECT_EQ(p.size(), 20U) << "bounded by the window";
  EXPECT_EQ(p.estimate(), from_ms(10));
}

TEST(latency_percentile, refreshes_once_every_twentieth_of_the_window) {
  latency_percentile p(200, 1, 0.5);
  p.record(from_ms(5));
  EXPECT_EQ(p.estimate(), from_ms(5));
  for (int i = 0; i < 9; ++i) p.record(from_ms(500));
  EXPECT_EQ(p.estimate(), from_ms(5)) << "9 new samples: below the refresh interval of 10";
  p.record(from_ms(500));
  EXPECT_EQ(p.estimate(), from_ms(500));
}

}  // namespace
}  // namespace squall
