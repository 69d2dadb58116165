#pragma once
// A percentile of recent latencies over a bounded window, for the hedging policy's adaptive delay.
//
// Sorting the window on every call would cost far more than the call itself, so the estimate is refreshed
// (an nth_element over a copy of the window) once every max(1, window / 20) new samples, and the cached
// value answers in between. Memory is two arrays of at most `window` samples, filled as samples arrive.

#include <cstdint>
#include <optional>
#include <vector>

#include "policies/core/time.hpp"

namespace squall {

class latency_percentile {
 public:
  // `percentile` in (0, 1); 1 <= samples_min <= window.
  latency_percentile(std::uint32_t window, std::uint32_t samples_min, double percentile);

  // Adds one latency, replacing the oldest once the window is full.
  void record(duration latency);

  // The nearest-rank percentile of the window (the ceil(p * n)-th smallest sample), or nullopt while
  // fewer than samples_min latencies have been recorded.
  std::optional<duration> estimate();

  std::size_t size() const noexcept { return samples_.size(); }

 private:
  std::uint32_t window_;
  std::uint32_t samples_min_;
  double percentile_;
  std::uint32_t refresh_every_;
  std::vector<std::int64_t> samples_;  // a ring once full
  std::vector<std::int64_t> scratch_;
  std::size_t next_ = 0;
  std::uint32_t since_refresh_ = 0;
  std::optional<duration> cached_;
};

}  // namespace squall
