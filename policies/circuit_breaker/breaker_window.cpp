#include "policies/circuit_breaker/breaker_window.hpp"

#include <algorithm>

namespace squall {
namespace {

constexpr std::uint8_t failure_bit = 1;
constexpr std::uint8_t slow_bit = 2;

std::int64_t second_of(time_point t) noexcept {
  const std::int64_t ns = t.time_since_epoch().count();
  // Floor, not truncation, so that a clock with a negative epoch offset still buckets consistently.
  return ns >= 0 ? ns / 1'000'000'000 : -((-ns + 999'999'999) / 1'000'000'000);
}

}  // namespace

breaker_window::breaker_window(breaker_window_kind kind, std::uint32_t size) : kind_(kind), size_(std::max(size, 1U)) {
  if (kind_ == breaker_window_kind::count) {
    results_.assign(size_, 0);
  } else {
    buckets_.assign(size_, breaker_window_totals{});
  }
}

void breaker_window::clear() {
  totals_ = {};
  next_ = 0;
  filled_ = 0;
  std::fill(results_.begin(), results_.end(), std::uint8_t{0});
  std::fill(buckets_.begin(), buckets_.end(), breaker_window_totals{});
}

std::size_t breaker_window::bucket_of(std::int64_t second) const noexcept {
  const auto size = static_cast<std::int64_t>(size_);
  return static_cast<std::size_t>(((second % size) + size) % size);
}

void breaker_window::advance(std::int64_t second) {
  if (second <= second_) return;
  // Only the buckets between the last second seen and now held seconds that slid out; a jump longer
  // than the window clears each bucket once.
  const std::int64_t steps = std::min<std::int64_t>(second - second_, size_);
  for (std::int64_t i = 1; i <= steps; ++i) {
    breaker_window_totals& b = buckets_[bucket_of(second_ + i)];
    totals_.calls -= b.calls;
    totals_.failures -= b.failures;
    totals_.slow -= b.slow;
    b = {};
  }
  second_ = second;
}

void breaker_window::record(bool failure, bool slow, time_point now) {
  const std::uint32_t f = failure ? 1U : 0U;
  const std::uint32_t s = slow ? 1U : 0U;
  if (kind_ == breaker_window_kind::count) {
    std::uint8_t& slot = results_[next_];
    if (filled_ == size_) {
      totals_.calls -= 1;
      totals_.failures -= (slot & failure_bit) != 0 ? 1U : 0U;
      totals_.slow -= (slot & slow_bit) != 0 ? 1U : 0U;
    } else {
      ++filled_;
    }
    slot = static_cast<std::uint8_t>((failure ? failure_bit : 0) | (slow ? slow_bit : 0));
    next_ = next_ + 1 == size_ ? 0 : next_ + 1;
  } else {
    const std::int64_t second = second_of(now);
    advance(second);
    // A result reported for a second already slid out (not possible with a monotonic clock) is dropped.
    if (second <= second_ - static_cast<std::int64_t>(size_)) return;
    breaker_window_totals& b = buckets_[bucket_of(second)];
    b.calls += 1;
    b.failures += f;
    b.slow += s;
  }
  totals_.calls += 1;
  totals_.failures += f;
  totals_.slow += s;
}

breaker_window_totals breaker_window::totals(time_point now) {
  if (kind_ == breaker_window_kind::time) advance(second_of(now));
  return totals_;
}

}  // namespace squall
