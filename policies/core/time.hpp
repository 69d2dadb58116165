#pragma once
// Time as the policies see it. A policy never reads a clock: it asks its runtime for now() and
// for timers, so the same code runs on the simulation's virtual clock and on the real one.

#include <chrono>
#include <cstdint>

namespace squall {

// The clock tag of every time_point a runtime hands out. It has no now(): only a runtime knows the time.
struct runtime_clock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<runtime_clock>;
  static constexpr bool is_steady = true;
};

using duration = std::chrono::nanoseconds;
using time_point = runtime_clock::time_point;

constexpr time_point time_never = time_point::max();

constexpr duration from_ms(double ms) { return duration{static_cast<std::int64_t>(ms * 1e6)}; }
constexpr duration from_s(double s) { return duration{static_cast<std::int64_t>(s * 1e9)}; }
constexpr double to_ms(duration d) { return static_cast<double>(d.count()) / 1e6; }
constexpr double to_s(duration d) { return static_cast<double>(d.count()) / 1e9; }
constexpr double to_s(time_point t) { return to_s(t.time_since_epoch()); }

}  // namespace squall
