#pragma once
// A latency histogram with HDR-like precision and fixed memory: log-linear buckets with 64 linear
// sub-buckets per power of two, so any recorded value is reported within 1/64 (1.6%) of itself, from
// 1 microsecond up to about 19 hours. Memory is a fixed 16 KiB whatever the number of samples.

#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace squall::sim {

class histogram {
 public:
  static constexpr int sub_bits = 7;                          // 128 exact values below 128 us
  static constexpr std::uint64_t sub_count = 1ULL << sub_bits;
  static constexpr std::uint64_t half = sub_count / 2;
  static constexpr int shift_max = 30;                        // values up to 2^37 us (~38 hours)
  static constexpr std::size_t bucket_count = (shift_max + 2) * half;
  static constexpr std::uint64_t value_max = (sub_count << shift_max) - 1;

  void record(std::uint64_t value_us) noexcept { record_n(value_us, 1); }
  void record_n(std::uint64_t value_us, std::uint64_t n) noexcept;
  void merge(const histogram& other) noexcept;
  void reset() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // The value at quantile q in [0, 1] (q = 0.99 for p99): the midpoint of the bucket holding that rank,
  // clamped to the exact min and max. 0 when empty.
  std::uint64_t quantile(double q) const noexcept;

  // The parts a histogram is written as when it must travel whole (a sweep's shard carries each run's
  // latencies so that merged percentiles are exact, not averaged): the sum, and each bucket's count.
  std::uint64_t sum() const noexcept { return sum_; }
  std::uint64_t bucket(std::size_t index) const noexcept { return buckets_[index]; }
  // The histogram those parts describe: (index, count) pairs with indices rising and below bucket_count,
  // counts above 0, and min <= max inside the first and last bucket; nullopt when they do not fit.
  static std::optional<histogram> from_parts(const std::vector<std::pair<std::size_t, std::uint64_t>>& buckets,
                                             std::uint64_t sum, std::uint64_t min, std::uint64_t max);

  static std::size_t index_of(std::uint64_t v) noexcept;
  static std::uint64_t lower_bound_of(std::size_t index) noexcept;
  static std::uint64_t width_of(std::size_t index) noexcept;

 private:
  std::array<std::uint64_t, bucket_count> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

}  // namespace squall::sim
