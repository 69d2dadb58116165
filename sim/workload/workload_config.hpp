#pragma once
// The workload a scenario offers, as written under "workload":
//   "arrivals": { "process": "poisson", "rate_per_s": 50 }                        open loop, constant rate
//   "arrivals": { "process": "constant", "profile": [ {"at_s": 0, "rate_per_s": 10},
//                 {"at_s": 60, "rate_per_s": 100} ], "shape": "ramp" }            piecewise ramps or steps
//   "arrivals": { "process": "recorded", "times_s": [0.12, 0.5, 0.51] }           explicit send times (replay)
//   "bursts":   [ { "at_s": 120, "requests": 500, "over_s": 1 } ]                 extra requests on top
//   "users":    { "count": 50, "think_ms": {"dist": "exponential", "mean": 2000} } closed loop instead
//   "provider", "model" or "models" (weights), "input_tokens", "output_tokens" (distributions),
//   "cache_keys": { "count": 10000, "zipf_s": 1.1 }, "deadline_ms", "in_flight_max",
//   "classes": { "simple": 0.5, "moderate": 0.3, "complex": 0.15, "critical": 0.05 }  request classes (weights).

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"
#include "sim/distributions/distribution.hpp"

namespace squall::sim {

struct rate_point {
  double at_s = 0;
  double rate_per_s = 0;
};

struct burst {
  double at_s = 0;
  std::uint32_t requests = 0;
  double over_s = 0;  // spread evenly over this long; 0 = all at once
};

// The most explicit arrival times a workload may list: a replayed trace of a day at over 100 requests
// per second; a longer list is an error rather than an out-of-memory.
inline constexpr std::size_t recorded_times_max = 10'000'000;

struct workload_config {
  enum class process { poisson, constant, recorded };
  enum class shape { step, ramp };

  // Open loop (the default): arrivals do not wait for answers, as real traffic does not.
  process arrival_process = process::poisson;
  std::vector<rate_point> profile;  // one point = a constant rate
  shape profile_shape = shape::step;
  std::vector<burst> bursts;
  // process::recorded: the send times, sorted, in scenario seconds (a replayed trace's first attempts).
  // Shared, because a scenario is copied into every run and the list may be long.
  std::shared_ptr<const std::vector<double>> recorded_times_s;

  // Closed loop: `users` > 0 replaces the arrivals with users who send, wait for the answer, then think.
  std::uint32_t users = 0;
  distribution think_ms = distribution::constant(1000);

  std::string provider;  // empty = the scenario's only provider
  std::vector<std::pair<std::string, double>> models;  // model -> weight
  distribution input_tokens = distribution::constant(500);
  distribution output_tokens = distribution::constant(200);
  std::uint32_t cache_keys = 0;  // 0 = requests carry no cache key
  double zipf_s = 1.0;
  std::optional<double> deadline_ms;   // the caller's own deadline on each request
  std::uint32_t in_flight_max = 10000; // the load generator's own limit; arrivals beyond it are shed
  // Weights of the request classes simple, moderate, complex, critical (request.complexity 0..3). All
  // zero (no "classes" key) = every request is simple and no draw is made.
  std::array<double, 4> class_weights{};

  double rate_at(double t_s) const noexcept;
  double rate_max() const noexcept;
  // The expected number of arrivals in [0, t_s): the integral of the rate.
  double intensity_at(double t_s) const noexcept;
  // The earliest time at which intensity_at reaches `target` (time-change of a unit-rate process), or
  // +infinity when the rate is zero from some point on and the target is never reached.
  double time_at_intensity(double target) const noexcept;
};

// A recorded process's "times_s": 1 to recorded_times_max times in seconds, 0 to 1e7, non-decreasing.
config_result<std::vector<double>> parse_recorded_times(const json& value, const std::string& path);

config_result<workload_config> parse_workload(const json& value, const std::string& path);

}  // namespace squall::sim
