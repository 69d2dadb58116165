#pragma once
// How big a run will be, estimated from the parsed scenario before anything runs, and the limits a run
// must stay within unless the user raises them (`squall run --allow-large-run`). Every documented range
// of a scenario can be valid on its own and still add up to a run of months (1e7 arrivals per second for
// 30 days) or gigabytes (an interval of 0.01 s over 30 days is 259 million time-series rows); this is
// where such a run is refused, with the keys to change. docs/scenario-format.md ("Limits of a run")
// documents the figures.

#include <cstdint>
#include <optional>

#include "policies/core/config_error.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::sim {

struct run_limits {
  // Requests offered over the whole run (every configuration and seed): at the simulation's 0.5 to 1.5
  // million requests per second, about two minutes. The default is 100,000,000.
  double requests_max = 1e8;
  // Time-series intervals of one configuration. The default interval never passes 720; the default
  // limit is 20,000 (a day at 5 s).
  std::uint64_t intervals_max = 20'000;
  // Estimated peak memory of the run. The default is 1 GiB.
  double memory_bytes_max = 1024.0 * 1024 * 1024;

  // The limits with --allow-large-run: 10,000,000,000 requests, 1,000,000 intervals, 16 GiB. Still
  // limits: a run is always bounded.
  static run_limits large() noexcept { return run_limits{1e10, 1'000'000, 16.0 * 1024 * 1024 * 1024}; }
};

struct run_estimate {
  double arrivals = 0;          // requests offered to one configuration on one seed
  double requests = 0;          // arrivals x configurations x seeds
  std::uint64_t intervals = 0;  // time-series intervals of one configuration
  double memory_bytes = 0;      // the run's estimated peak memory
  double policy_bytes = 0;      // of it, the largest configuration's policy state (fleet instances x caches)
};

// `seeds` is --seeds (each seed runs every configuration and keeps its results until they are averaged).
// Closed-loop users are counted as sending one request per think time plus the provider's mean time to
// first token (at least 1 ms), an upper bound when answers are slow.
run_estimate estimate_run(const scenario& s, std::uint32_t seeds);

// The first limit the estimate passes, as an error naming the scenario keys that make the run that big
// and what to change (with `raise_hint`, e.g. "--allow-large-run", named as the way to raise the limit;
// nullptr when the limits are raised already).
// `count_requests` is false for live runs, whose requests are capped by their own flags.
std::optional<config_error> check_run_limits(const scenario& s, const run_estimate& estimate, const run_limits& limits,
                                             bool count_requests, const char* raise_hint);

}  // namespace squall::sim
