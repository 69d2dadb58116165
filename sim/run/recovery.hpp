#pragma once
// Fault windows as a run's time series sees them: what a configuration measured during a named window or
// after it, and how long after each window its success rate took to come back to the calm baseline.
//
// Everything here is computed from the time series (run_metrics::series()), so it is exact only at the
// resolution of one interval: an interval belongs to a span when its midpoint lies in the span, and a
// request counts in the interval in which it completed (or was shed). The histograms that hold the whole
// run's latency percentiles are not kept per window, so window-scoped metrics are the counts and rates of
// window_metric_names().

#include <optional>
#include <string>
#include <vector>

#include "sim/metrics/run_metrics.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::sim {

// One fault window of the scenario, by name.
struct fault_ref {
  std::string name;
  std::string provider;
  double start_s = 0;
  double end_s = 0;
};

// Every provider's fault windows, by start time (stable: the scenario's order for equal starts).
std::vector<fault_ref> fault_refs(const scenario& s);

// The seconds an assertion's scope covers, [from_s, to_s): "during" a window is the window; "after" it is
// from its end to the start of the next window (of any provider) that starts at or after that end, or to
// the run's end. Precondition: `fault` names one of `faults`.
struct time_span {
  double from_s = 0;
  double to_s = 0;  // +infinity for "to the end of the run"
};
time_span scope_span(const std::vector<fault_ref>& faults, const std::string& fault, assertion_scope scope);

// The sums of the intervals whose midpoint lies in a span.
struct window_totals {
  std::uint64_t intervals = 0;
  std::uint64_t offered = 0, completed = 0, succeeded = 0, degraded = 0, shed = 0;
  std::uint64_t attempts = 0, retries = 0, timeouts = 0, breaker_openings = 0, breaker_rejections = 0;
  std::uint64_t hedges = 0, fallbacks = 0, client_rejections = 0;
  double cost_usd = 0;
};
window_totals totals_in(const std::vector<interval_row>& series, time_span span);

// A metric's value, or why it has none ("no samples: ..."), which fails any assertion on it.
struct measured_value {
  std::optional<double> value;
  std::string note;
};
// A metric of window_metric_names() over `t`. Rates are of the requests that finished or were shed in the
// span: success_rate = succeeded / (completed + shed); with none of those it has no samples.
measured_value window_metric(const window_totals& t, const std::string& metric);

// How one configuration came back after one fault window.
struct window_recovery {
  fault_ref fault;
  // Seconds from the window's end to the start of the first interval from which the success rate stayed
  // within the tolerance of the baseline for hold_intervals intervals with completions; none when it did
  // not (note says why).
  std::optional<double> recovery_s;
  std::string note;
};

struct recovery_report {
  // The success rate over the calm part of the run: the intervals before the first fault window starts.
  // None when that part is empty or nothing finished in it (then no window has a recovery).
  std::optional<double> baseline_success_rate;
  double baseline_to_s = 0;
  double tolerance_pp = 0;
  std::uint32_t hold_intervals = 0;
  std::vector<window_recovery> windows;  // in fault_refs() order
};

// Recovery after every fault window of `s`, for one configuration's series. Recovery must complete (the
// whole hold) before the next window starts; otherwise it is "not recovered before <next> began". The
// success rate may rise above the baseline: only falling short by more than the tolerance counts.
recovery_report measure_recovery(const scenario& s, const std::vector<interval_row>& series);

}  // namespace squall::sim
