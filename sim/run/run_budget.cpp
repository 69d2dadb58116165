#include "sim/run/run_budget.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "policies/cache/cache.hpp"

namespace squall::sim {
namespace {

// What one time-series interval of one configuration costs, estimated from what it holds (not measured):
// the row in run_metrics and its ~45 values in the results document (kept per seed until seeds are
// averaged), then the same values again as text in results.json, report.html and timeseries.csv, which
// are rendered in memory before they are written. Generous on purpose: the limit is there to refuse
// runs of gigabytes, not to budget megabytes.
constexpr double interval_bytes_per_seed = 1024;
constexpr double interval_bytes_rendered = 3072;
// A request in flight: its slot, its call context and the policies' state for it.
constexpr double in_flight_bytes = 2048;
// The program itself, the scenario and the histograms: a floor under every estimate.
constexpr double base_bytes = 64.0 * 1024 * 1024;
// One instance's policies (breaker windows, budgets, limiters' buckets), and one cached answer at most:
// what a fleet multiplies. A cache's entries dominate; the rest is small and generous here.
constexpr double instance_bytes = 16.0 * 1024;
constexpr double cache_entry_bytes = 512;

// The policy state of one configuration at its largest: every instance of its fleet with full caches.
// Configurations run one after the other, so the run needs the largest of them.
double policy_state_bytes(const configuration& c) {
  double per_instance = instance_bytes;
  for (const auto& p : c.pipeline.policies) {
    if (const auto* cache = dynamic_cast<const cache_spec*>(p.get())) {
      per_instance += static_cast<double>(cache->options.entries_max) * cache_entry_bytes;
    }
  }
  return per_instance * static_cast<double>(c.fleet.instances);
}

std::string figure(double v) {
  char buffer[64];
  if (v >= 1e6) {
    std::snprintf(buffer, sizeof buffer, "%.3g", v);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.0f", v);
  }
  return buffer;
}

std::string mebibytes(double bytes) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.0f MiB", std::ceil(bytes / (1024.0 * 1024.0)));
  return buffer;
}

}  // namespace

run_estimate estimate_run(const scenario& s, std::uint32_t seeds) {
  const workload_config& w = s.workload;
  run_estimate e;
  if (w.users > 0) {
    double ttft_ms = 0;
    for (const auto& p : s.providers) {
      if (p.name == w.provider) ttft_ms = std::min(p.ttft_ms.mean(), p.error_latency_ms.mean());
    }
    const double cycle_ms = std::max(1.0, w.think_ms.mean() + std::max(0.0, ttft_ms));
    e.arrivals = static_cast<double>(w.users) * (s.duration_s * 1000.0 / cycle_ms + 1);
  } else if (w.arrival_process == workload_config::process::recorded) {
    e.arrivals = w.recorded_times_s ? static_cast<double>(w.recorded_times_s->size()) : 0;
  } else {
    e.arrivals = w.intensity_at(s.duration_s);
  }
  for (const auto& b : w.bursts) e.arrivals += b.requests;
  const double configurations = static_cast<double>(std::max<std::size_t>(s.configurations.size(), 1));
  const double seed_count = std::max<std::uint32_t>(seeds, 1);
  e.requests = e.arrivals * configurations * seed_count;

  const double interval_s = s.effective_interval_s();
  const double intervals = std::ceil((s.duration_s + s.drain_s) / interval_s) + 1;
  e.intervals = intervals >= 1e18 ? std::uint64_t{1'000'000'000'000'000'000} : static_cast<std::uint64_t>(intervals);

  const double recorded = w.recorded_times_s ? static_cast<double>(w.recorded_times_s->size()) * 8 : 0;
  for (const auto& c : s.configurations) e.policy_bytes = std::max(e.policy_bytes, policy_state_bytes(c));
  e.memory_bytes = base_bytes + recorded + static_cast<double>(w.in_flight_max) * in_flight_bytes +
                   intervals * configurations * (interval_bytes_per_seed * seed_count + interval_bytes_rendered) +
                   e.policy_bytes;
  return e;
}

std::optional<config_error> check_run_limits(const scenario& s, const run_estimate& e, const run_limits& limits,
                                             bool count_requests, const char* raise_hint) {
  const std::string raise = raise_hint ? std::string(", or pass ") + raise_hint + " to raise the limit"
                                       : std::string(" (this is the raised limit)");
  const std::string runs = std::to_string(s.configurations.size()) + " configuration(s)";
  if (count_requests && e.requests > limits.requests_max) {
    const workload_config& w = s.workload;
    const std::string where = w.users > 0 ? "$.workload.users, $.duration_s"
                              : w.arrival_process == workload_config::process::recorded ? "$.workload.arrivals.times_s"
                                                                                        : "$.workload.arrivals, $.duration_s";
    return config_error{s.file, where + (w.bursts.empty() ? "" : ", $.workload.bursts"),
                        "the run would offer about " + figure(e.requests) + " requests (" + figure(e.arrivals) +
                            " per configuration and seed, " + runs + "), more than the limit of " +
                            figure(limits.requests_max) +
                            "; expected a lower arrival rate (or fewer users), a shorter duration_s, or fewer "
                            "configurations or --seeds" + raise};
  }
  if (e.intervals > limits.intervals_max) {
    return config_error{s.file, "$.interval_s, $.duration_s, $.drain_s",
                        "the time series would have " + figure(static_cast<double>(e.intervals)) +
                            " intervals per configuration, more than the limit of " +
                            figure(static_cast<double>(limits.intervals_max)) + "; expected an interval_s of at least " +
                            figure(std::ceil((s.duration_s + s.drain_s) / static_cast<double>(limits.intervals_max))) +
                            " s (or leave it out: about duration/200 is chosen)" + raise};
  }
  if (e.memory_bytes > limits.memory_bytes_max) {
    return config_error{s.file, "$.interval_s, $.policies",
                        "the run would need about " + mebibytes(e.memory_bytes) + " of memory (" +
                            figure(static_cast<double>(e.intervals)) + " intervals x " + runs + " x seeds, and " +
                            mebibytes(e.policy_bytes) + " of policy state: fleet instances x caches' entries_max)"
                            ", more than the limit of " + mebibytes(limits.memory_bytes_max) +
                            "; expected a longer interval_s, fewer configurations or fewer --seeds, or fewer fleet instances or "
                            "smaller caches" + raise};
  }
  return std::nullopt;
}

}  // namespace squall::sim
