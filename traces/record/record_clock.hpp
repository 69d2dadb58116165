#pragma once
// The recording proxy's only clock. The proxy is a real-clock adapter: it measures what happened on the
// wire, so it must read time, and every read goes through this helper so that the one place touching
// std::chrono's clocks is easy to find. t = 0 is the instant the proxy was created; the trace header's
// started_at is the UTC wall-clock time of that instant.

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace squall::traces::record {

class record_clock {
 public:
  using steady = std::chrono::steady_clock;

  record_clock() : start_(steady::now()), started_at_(utc_now_iso()) {}

  // Milliseconds since the proxy was created.
  double now_ms() const noexcept {
    return std::chrono::duration<double, std::milli>(steady::now() - start_).count();
  }
  // "2026-11-23T10:00:00.000Z": the wall-clock time of now_ms() == 0.
  const std::string& started_at() const noexcept { return started_at_; }

  // A steady_clock deadline `after_ms` from now, for asio::steady_timer::expires_at.
  static steady::time_point deadline_after_ms(double after_ms) noexcept {
    return steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double, std::milli>(after_ms));
  }

 private:
  static std::string utc_now_iso() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", date, static_cast<int>(ms));
    return out;
  }

  steady::time_point start_;
  std::string started_at_;
};

}  // namespace squall::traces::record
