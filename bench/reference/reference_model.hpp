#pragma once
// The reference model's parameters (the benchmark's, bench/README.md "Against a reference model") and its
// circuit breaker, apart from the engine that runs them (reference_sim.cpp). No squall code.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace squall_reference {

using ns_t = std::int64_t;
constexpr ns_t ns_per_ms = 1'000'000;
constexpr ns_t ns_per_s = 1'000'000'000;

ns_t from_ms(double ms) { return static_cast<ns_t>(std::llround(ms * 1e6)); }
ns_t from_s(double s) { return static_cast<ns_t>(std::llround(s * 1e9)); }

struct parameters {
  double rate_per_s = 1000;
  double duration_s = 60;
  double drain_s = 60;
  std::uint64_t seed = 1;
  // Provider.
  std::uint32_t slots = 2000;
  std::size_t queue_max = 2000;
  double error_503 = 0.01;
  double error_latency_ms = 30;
  double ttft_median_ms = 300;
  double ttft_sigma = 0.5;
  double ms_per_output_token = 5;
  double output_tokens_median = 100;
  double output_tokens_sigma = 0.5;
  double output_tokens_cap = 1000;
  // Policies.
  double overall_timeout_ms = 30000;
  double attempt_timeout_ms = 5000;
  std::uint32_t attempts_max = 3;
  double backoff_ms_base = 100;
  double backoff_multiplier = 2;
  double backoff_ms_max = 30000;
  std::uint32_t breaker_window_s = 10;
  std::uint32_t breaker_calls_min = 50;
  double breaker_failure_rate = 0.5;
  double breaker_slow_call_ms = 60000;
  double breaker_slow_rate = 1.0;
  double breaker_open_ms = 60000;
  std::uint32_t breaker_half_open_calls = 10;
  // Engine: false puts every timer in the binary heap; true keeps the two fixed-duration timeouts in
  // FIFO queues beside it (same events in the same order, less heap work).
  bool timeout_queues = false;
  // How many times the whole simulation runs (same seed), timed together.
  std::uint32_t iterations = 1;
};

enum class event_kind : std::uint8_t {
  arrival,          // the next request arrives
  overall_timeout,  // a request's 30 s are up (token: the request's)
  attempt_timeout,  // an attempt's 5 s are up (token: the attempt's)
  error_answer,     // a 503 reaches the client (token: the attempt's)
  service_end,      // the provider finishes an attempt's work (token: the attempt's, for the answer)
  backoff_end,      // a retry's wait is over (token: the attempt's)
  breaker_half_open,
};

// resilience4j's breaker with a time window: per-second buckets of calls, failures and slow calls.
class breaker {
 public:
  explicit breaker(const parameters& p) : p_(p), buckets_(p.breaker_window_s) {}

  enum class state : std::uint8_t { closed, open, half_open };

  // Whether a call may go through now; sets `probe` for a half-open probe.
  bool admit(bool& probe) {
    probe = false;
    if (state_ == state::closed) return true;
    if (state_ == state::half_open && probes_admitted_ < p_.breaker_half_open_calls) {
      ++probes_admitted_;
      probe = true;
      return true;
    }
    return false;
  }

  std::uint64_t epoch() const noexcept { return epoch_; }

  // Returns true when the breaker opened (the caller schedules its half-open event).
  bool record(std::uint64_t epoch, bool probe, ns_t latency, bool failure, ns_t now) {
    if (epoch != epoch_) return false;
    const bool slow = latency >= from_ms(p_.breaker_slow_call_ms);
    if (state_ == state::closed) {
      advance(now / ns_per_s);
      bucket& b = buckets_[index(now / ns_per_s)];
      ++b.calls;
      b.failures += failure ? 1U : 0U;
      b.slow += slow ? 1U : 0U;
      ++totals_.calls;
      totals_.failures += failure ? 1U : 0U;
      totals_.slow += slow ? 1U : 0U;
      if (totals_.calls < p_.breaker_calls_min) return false;
      if (tripped(totals_.failures, totals_.slow, totals_.calls)) return open();
      return false;
    }
    if (state_ == state::half_open && probe) {
      ++probes_completed_;
      probe_failures_ += failure ? 1U : 0U;
      probes_slow_ += slow ? 1U : 0U;
      if (probes_completed_ < p_.breaker_half_open_calls) return false;
      if (tripped(probe_failures_, probes_slow_, probes_completed_)) return open();
      close();
    }
    return false;
  }

  void cancelled(std::uint64_t epoch, bool probe) {
    if (probe && epoch == epoch_ && state_ == state::half_open) --probes_admitted_;
  }

  void half_open() {
    state_ = state::half_open;
    ++epoch_;
    probes_admitted_ = probes_completed_ = probe_failures_ = probes_slow_ = 0;
  }

 private:
  struct bucket {
    std::uint32_t calls = 0;
    std::uint32_t failures = 0;
    std::uint32_t slow = 0;
  };

  bool tripped(std::uint32_t failures, std::uint32_t slow, std::uint32_t calls) const {
    const double n = static_cast<double>(calls);
    return static_cast<double>(failures) / n >= p_.breaker_failure_rate ||
           static_cast<double>(slow) / n >= p_.breaker_slow_rate;
  }
  std::size_t index(ns_t second) const { return static_cast<std::size_t>(second % static_cast<ns_t>(buckets_.size())); }
  void advance(ns_t second) {
    if (second <= second_) return;
    const ns_t steps = std::min<ns_t>(second - second_, static_cast<ns_t>(buckets_.size()));
    for (ns_t i = 1; i <= steps; ++i) {
      bucket& b = buckets_[index(second_ + i)];
      totals_.calls -= b.calls;
      totals_.failures -= b.failures;
      totals_.slow -= b.slow;
      b = {};
    }
    second_ = second;
  }
  bool open() {
    state_ = state::open;
    ++epoch_;
    clear();
    return true;
  }
  void close() {
    state_ = state::closed;
    ++epoch_;
    clear();
  }
  void clear() {
    std::fill(buckets_.begin(), buckets_.end(), bucket{});
    totals_ = {};
  }

  const parameters& p_;
  std::vector<bucket> buckets_;
  bucket totals_;
  ns_t second_ = 0;
  state state_ = state::closed;
  std::uint64_t epoch_ = 0;
  std::uint32_t probes_admitted_ = 0;
  std::uint32_t probes_completed_ = 0;
  std::uint32_t probe_failures_ = 0;
  std::uint32_t probes_slow_ = 0;
};

}  // namespace squall_reference
