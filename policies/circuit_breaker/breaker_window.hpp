#pragma once
// The circuit breaker's sliding window: how many of the recent calls failed or were slow. Both kinds
// keep running totals, so recording a call and reading the rates cost O(1) (amortised for the time
// window), and both use memory fixed by window_size alone.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "policies/circuit_breaker/circuit_breaker_options.hpp"
#include "policies/core/time.hpp"

namespace squall {

struct breaker_window_totals {
  std::uint32_t calls = 0;
  std::uint32_t failures = 0;
  std::uint32_t slow = 0;
};

class breaker_window {
 public:
  // A count window holds the last `size` calls; a time window, the calls of the last `size` seconds
  // (the current, partly elapsed second included) in one bucket per second.
  breaker_window(breaker_window_kind kind, std::uint32_t size);

  void record(bool failure, bool slow, time_point now);
  // Totals over the window as of `now`; a time window first forgets the seconds that slid out.
  breaker_window_totals totals(time_point now);
  void clear();

 private:
  void advance(std::int64_t second);
  std::size_t bucket_of(std::int64_t second) const noexcept;

  breaker_window_kind kind_;
  std::uint32_t size_;
  breaker_window_totals totals_;
  // Count window: a ring of results (bit 0 failure, bit 1 slow); `filled_` grows to size_.
  std::vector<std::uint8_t> results_;
  std::uint32_t next_ = 0;
  std::uint32_t filled_ = 0;
  // Time window: bucket of second s at s % size_; `second_` is the latest second recorded or read.
  std::vector<breaker_window_totals> buckets_;
  std::int64_t second_ = 0;
};

}  // namespace squall
