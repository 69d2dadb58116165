#pragma once
// Runs one configuration of a scenario in virtual time: the workload offers requests, the configuration's
// policy pipeline handles them, the simulated providers answer, and run_metrics records it all. Every
// configuration runs on a fresh clock with the same seeds, so workload and fault draws are identical
// across configurations (common random numbers) and differences come from the policies alone.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/metrics/run_metrics.hpp"
#include "sim/scenario/scenario.hpp"
#include "traces/tracing_handler.hpp"

namespace squall::sim {

// How long attempts waited in a provider's queue before their service started, over every attempt that
// started service (one that found a free slot waited 0).
struct queue_wait_summary {
  std::uint64_t service_started = 0;
  double waited_share = 0;  // of service_started, those that waited at all (> 0)
  double mean_ms = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
};

struct provider_summary {
  std::string name;
  std::uint64_t busy_max = 0;   // peak concurrent requests in service (sampled at interval ends)
  std::uint64_t queue_max = 0;  // peak queue depth (sampled at interval ends)
  // Measured by the simulated provider only: a live run's providers are servers elsewhere, and
  // nothing here is made up for them.
  std::optional<queue_wait_summary> queue_wait{};
};

struct configuration_result {
  std::string name;
  std::string policy_source;
  std::string policy_name;
  std::vector<std::string> warnings;
  std::unique_ptr<run_metrics> metrics;
  std::vector<provider_summary> providers;
  double simulated_s = 0;    // virtual time when the run ended (live mode: seconds of real time)
  std::uint64_t events = 0;  // timers fired: a measure of the simulation's work
  // A run that ended before its scenario did (stopped by a signal or the wall-clock limit through the stop
  // flag, or in live mode by a duration or request cap) says so: its figures describe only the part that
  // ran.
  bool incomplete = false;
  std::string incomplete_reason;
  // A run with a service under test: what the fake providers saw (runs/upstream_view.hpp), written to
  // results.json as the configuration's "upstream", and its headline figures, appended to the summary
  // (the upstream_* metrics). Null and empty otherwise.
  json upstream;
  std::vector<std::pair<std::string, double>> upstream_summary;
  // A configuration run as a fleet of more than one instance: {"instances", "spread", "per_instance":
  // [{"requests", "retries", ...}]} (sim/run/fleet.hpp). Null otherwise.
  json fleet;
};

// Called now and then with the fraction of simulated time done, for progress displays.
using progress_fn = std::function<void(double fraction)>;

// With `trace`, every attempt that reaches a provider is also written to it (traces/tracing_handler.hpp);
// without, the run is exactly as fast as before. The caller opens the writer and finishes it.
// With `stop`, the run looks at the flag every few thousand events; once it is true the run ends where it
// is, cancels what is in flight (counted as unfinished) and returns its result marked incomplete. The
// flag is set from another thread (a signal watcher, a wall-clock limit); the simulation itself reads no
// clock.
configuration_result run_configuration(const scenario& s, std::size_t index, std::uint64_t seed,
                                       const progress_fn& progress = {}, traces::trace_writer* trace = nullptr,
                                       const std::atomic<bool>* stop = nullptr);

class sim_provider;
// The queue wait figures of a simulated provider since its construction.
queue_wait_summary summarize_queue_wait(const sim_provider& provider);

// How a run trace names the scenario's providers (api, endpoint) and whether answers are streamed.
traces::tracing_options trace_options_for(const scenario& s, bool stream);

}  // namespace squall::sim
