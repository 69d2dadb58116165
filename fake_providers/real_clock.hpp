#pragma once
// The fake providers' only clock. Everything else in fake_providers/ asks this helper, so the one place
// that reads std::chrono's clocks is easy to find and to keep honest: scenario time 0 is the instant the
// server started (or its timeline last restarted), and the provider model sees the same time_point type
// as in the simulation.

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

#include "policies/core/time.hpp"

namespace squall::fake {

class real_clock {
 public:
  using steady = std::chrono::steady_clock;

  real_clock() noexcept : start_(steady::now()) {}

  // Scenario time starts again at 0 now (fake_server::restart_timeline): how long after the previous
  // start, so that an old scenario time minus it is the same instant in the new timeline.
  duration restart() noexcept {
    const steady::time_point before = start_;
    start_ = steady::now();
    return std::chrono::duration_cast<duration>(start_ - before);
  }

  // Scenario time: nanoseconds since the server started (or the timeline last restarted).
  time_point now() const noexcept {
    return time_point{std::chrono::duration_cast<duration>(steady::now() - start_)};
  }
  // The steady_clock instant of a scenario time, for asio::steady_timer::expires_at.
  steady::time_point steady_at(time_point t) const noexcept {
    return start_ + std::chrono::duration_cast<steady::duration>(t.time_since_epoch());
  }

  // The scenario time of a wall-clock instant the kernel stamped (SO_TIMESTAMPNS: when a request's bytes
  // reached this host), from how long ago it was. An instant in the future or more than 10 s ago (the
  // wall clock was stepped) reads as now.
  time_point from_wall(const timespec& at) const noexcept {
    const auto wall = std::chrono::system_clock::now().time_since_epoch();
    const auto then = std::chrono::seconds(at.tv_sec) + std::chrono::nanoseconds(at.tv_nsec);
    const auto age = std::chrono::duration_cast<duration>(wall - then);
    const time_point n = now();
    if (age < duration::zero() || age > std::chrono::seconds(10)) return n;
    return n - age;
  }

  // Unix seconds now; the wire formats carry it ("created") and Anthropic's reset headers need it.
  static std::int64_t unix_s() noexcept {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // RFC 3339 UTC timestamp `after_s` seconds from now, as in anthropic-ratelimit-*-reset.
  static std::string rfc3339_after(double after_s) {
    const auto at = std::chrono::system_clock::now() +
                    std::chrono::duration_cast<std::chrono::system_clock::duration>(
                        std::chrono::duration<double>(after_s < 0 ? 0 : after_s));
    const std::time_t t = std::chrono::system_clock::to_time_t(at);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }

 private:
  steady::time_point start_;
};

}  // namespace squall::fake
