#include "sim/metrics/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "policies/core/rng.hpp"

namespace squall::sim {
namespace {

TEST(Histogram, BucketsAreContiguousAndCoverEveryValue) {
  for (std::size_t i = 1; i < histogram::bucket_count; ++i) {
    EXPECT_EQ(histogram::lower_bound_of(i), histogram::lower_bound_of(i - 1) + histogram::width_of(i - 1)) << i;
  }
  for (std::uint64_t v : {0ULL, 1ULL, 127ULL, 128ULL, 129ULL, 255ULL, 256ULL, 1000ULL, 123456789ULL}) {
    const std::size_t i = histogram::index_of(v);
    EXPECT_LE(histogram::lower_bound_of(i), v);
    EXPECT_LT(v, histogram::lower_bound_of(i) + histogram::width_of(i));
  }
}

TEST(Histogram, SmallValuesAreExact) {
  histogram h;
  for (std::uint64_t v = 0; v < 100; ++v) h.record(v);
  EXPECT_EQ(h.quantile(0.5), 49U);
  EXPECT_EQ(h.quantile(1.0), 99U);
  EXPECT_EQ(h.quantile(0.0), 0U);
  EXPECT_DOUBLE_EQ(h.mean(), 49.5);
}

TEST(Histogram, QuantilesWithinOnePercentOfExactOnLognormalData) {
  rng r(7);
  histogram h;
  std::vector<std::uint64_t> values;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<std::uint64_t>(std::exp(std::log(400000.0) + 0.8 * r.normal()));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.95, 0.99, 0.999}) {
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size()))) - 1;
    const double exact = static_cast<double>(values[rank]);
    EXPECT_NEAR(static_cast<double>(h.quantile(q)), exact, exact * 0.01) << "q=" << q;
  }
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.min(), values.front());
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  histogram a, b, all;
  rng r(3);
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t v = r.below(5000000);
    (i % 2 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.quantile(q), all.quantile(q));
}

TEST(Histogram, HugeValuesAreClampedNotLost) {
  histogram h;
  h.record(UINT64_MAX / 2);
  EXPECT_EQ(h.count(), 1U);
  EXPECT_EQ(h.quantile(0.5), UINT64_MAX / 2);  // clamped to the exact max
  h.reset();
  EXPECT_EQ(h.count(), 0U);
  EXPECT_EQ(h.quantile(0.5), 0U);
}

TEST(Histogram, PartsRebuildTheSameHistogram) {
  histogram h;
  for (std::uint64_t v : {3ULL, 150ULL, 151ULL, 9000ULL, 9000ULL, 1234567ULL}) h.record(v);
  std::vector<std::pair<std::size_t, std::uint64_t>> parts;
  for (std::size_t i = 0; i < histogram::bucket_count; ++i) {
    if (h.bucket(i) != 0) parts.emplace_back(i, h.bucket(i));
  }
  const auto back = histogram::from_parts(parts, h.sum(), h.min(), h.max());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->count(), h.count());
  EXPECT_EQ(back->sum(), h.sum());
  for (double q : {0.0, 0.3, 0.5, 0.9, 0.99, 1.0}) EXPECT_EQ(back->quantile(q), h.quantile(q)) << q;
  EXPECT_TRUE(histogram::from_parts({}, 0, 0, 0).has_value());
  // Parts that describe no histogram: indices out of order or range, an empty bucket, min or max outside
  // the end buckets.
  auto swapped = parts;
  std::swap(swapped[0], swapped[1]);
  EXPECT_FALSE(histogram::from_parts(swapped, h.sum(), h.min(), h.max()).has_value());
  EXPECT_FALSE(histogram::from_parts({{histogram::bucket_count, 1}}, 0, 0, 0).has_value());
  EXPECT_FALSE(histogram::from_parts({{5, 0}}, 0, 5, 5).has_value());
  EXPECT_FALSE(histogram::from_parts(parts, h.sum(), h.min() + 1000, h.max()).has_value());
  EXPECT_FALSE(histogram::from_parts(parts, h.sum(), h.min(), 10).has_value());
  EXPECT_FALSE(histogram::from_parts({}, 1, 0, 0).has_value());
}

}  // namespace
}  // namespace squall::sim
