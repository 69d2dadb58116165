#pragma once
// The one place sut/ reads the clock and sleeps. A child process lives in real time: how long it takes
// to boot, to answer, to stop after SIGTERM is wall-clock time by nature, and nothing in sut/ ever runs
// inside a simulation; the timeouts below are limits on waiting, never measurements that reach a result.

#include <chrono>
#include <cstdint>
#include <thread>

namespace squall::sut::detail {

class deadline {
 public:
  static deadline after_ms(std::uint64_t ms) {
    return deadline{std::chrono::steady_clock::now() + std::chrono::milliseconds(ms)};
  }
  bool passed() const { return std::chrono::steady_clock::now() >= at_; }
  // What is left, at least 0 and at most `cap_ms`.
  std::uint64_t remaining_ms(std::uint64_t cap_ms) const {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(at_ - std::chrono::steady_clock::now());
    if (left.count() <= 0) return 0;
    const auto left_ms = static_cast<std::uint64_t>(left.count());
    return left_ms < cap_ms ? left_ms : cap_ms;
  }
  std::chrono::steady_clock::time_point at() const { return at_; }

 private:
  explicit deadline(std::chrono::steady_clock::time_point at) : at_(at) {}
  std::chrono::steady_clock::time_point at_;
};

inline void sleep_ms(std::uint64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace squall::sut::detail
