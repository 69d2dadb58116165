#include "sim/metrics/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace squall::sim {

std::size_t histogram::index_of(std::uint64_t v) noexcept {
  v = std::min(v, value_max);
  if (v < sub_count) return static_cast<std::size_t>(v);
  const int msb = 63 - std::countl_zero(v);
  const int shift = msb - (sub_bits - 1);
  return static_cast<std::size_t>(static_cast<std::uint64_t>(shift + 1) * half + (v >> shift) - half);
}

std::uint64_t histogram::lower_bound_of(std::size_t index) noexcept {
  if (index < sub_count) return index;
  const std::size_t shift = index / half - 1;
  const std::uint64_t sub = index % half + half;
  return sub << shift;
}

std::uint64_t histogram::width_of(std::size_t index) noexcept {
  if (index < sub_count) return 1;
  return 1ULL << (index / half - 1);
}

void histogram::record_n(std::uint64_t value_us, std::uint64_t n) noexcept {
  buckets_[index_of(value_us)] += n;
  count_ += n;
  sum_ += value_us * n;
  min_ = std::min(min_, value_us);
  max_ = std::max(max_, value_us);
}

void histogram::merge(const histogram& other) noexcept {
  for (std::size_t i = 0; i < bucket_count; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

std::optional<histogram> histogram::from_parts(const std::vector<std::pair<std::size_t, std::uint64_t>>& buckets,
                                              std::uint64_t sum, std::uint64_t min, std::uint64_t max) {
  histogram h;
  if (buckets.empty()) {
    if (sum != 0 || min != 0 || max != 0) return std::nullopt;
    return h;
  }
  std::size_t previous = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const auto [index, n] = buckets[i];
    if (index >= bucket_count || n == 0 || (i > 0 && index <= previous)) return std::nullopt;
    if (h.count_ + n < h.count_) return std::nullopt;  // counts that overflow are not a histogram
    h.buckets_[index] = n;
    h.count_ += n;
    previous = index;
  }
  if (min > max || index_of(min) != buckets.front().first || index_of(max) != buckets.back().first) return std::nullopt;
  h.sum_ = sum;
  h.min_ = min;
  h.max_ = max;
  return h;
}

void histogram::reset() noexcept {
  if (count_ == 0) return;
  buckets_.fill(0);
  count_ = 0;
  sum_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
}

std::uint64_t histogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const std::uint64_t mid = lower_bound_of(i) + (width_of(i) - 1) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace squall::sim
