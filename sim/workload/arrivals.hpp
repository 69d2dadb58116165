#pragma once
// When open-loop requests arrive, in scenario seconds. The simulation's driver and the live load
// generator both take their arrival times from here, so request i is sent at the same scenario time in
// both modes (and, through request_factory, is the same request).

#include <cstdint>
#include <optional>

#include "policies/core/rng.hpp"
#include "sim/workload/workload_config.hpp"

namespace squall::sim {

// Arrivals come from a unit-rate process mapped through the inverse of the cumulative rate: a Poisson
// process takes exponential steps of intensity, a constant process takes steps of exactly one (starting
// half a step in, so that N seconds at R per second offer exactly N * R requests). One method serves
// constant rates, steps and ramps without drift. A recorded process (a replayed trace) lists its times
// outright and draws nothing.
class open_arrivals {
 public:
  // `seed` is the stream seed of the arrival draws ("workload/arrivals" under the run's root seed).
  open_arrivals(const workload_config& workload, double duration_s, std::uint64_t seed)
      : workload_(workload), duration_s_(duration_s), rng_(seed) {}

  // The next arrival's time, or nullopt once no arrival remains before the end of the arrivals.
  std::optional<double> next_s() {
    if (over_) return std::nullopt;
    if (workload_.arrival_process == workload_config::process::recorded) {
      const auto& times = *workload_.recorded_times_s;
      if (next_index_ >= times.size() || !(times[next_index_] < duration_s_)) {
        over_ = true;
        return std::nullopt;
      }
      return times[next_index_++];
    }
    if (workload_.arrival_process == workload_config::process::poisson) {
      intensity_ += rng_.exponential(1.0);
    } else {
      intensity_ += first_ ? 0.5 : 1.0;
      first_ = false;
    }
    const double t = workload_.time_at_intensity(intensity_);
    if (!(t < duration_s_)) {
      over_ = true;
      return std::nullopt;
    }
    return t;
  }

 private:
  const workload_config& workload_;
  double duration_s_;
  rng rng_;
  double intensity_ = 0;
  bool first_ = true;
  bool over_ = false;
  std::size_t next_index_ = 0;  // recorded process: the next time to send
};

// Requests of a burst are spread evenly over its length: request k (from 0) is due at this time.
inline double burst_time_s(const burst& b, std::uint32_t k) noexcept {
  const double step_s = b.requests > 1 ? b.over_s / (b.requests - 1) : 0.0;
  return b.at_s + step_s * k;
}

}  // namespace squall::sim
