#include "sim/run/recovery.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace squall::sim {
namespace {

// Interval ends are sums of a step in floating point; a millisecond's slack keeps a boundary written as
// "120" equal to an interval end computed as 119.99999999.
constexpr double boundary_slack_s = 1e-3;

double share_of(double a, double b) { return b > 0 ? a / b : 0.0; }

std::string span_seconds_text(double s) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g s", s);
  return buffer;
}

}  // namespace

std::vector<fault_ref> fault_refs(const scenario& s) {
  std::vector<fault_ref> out;
  for (const auto& p : s.providers) {
    for (const auto& f : p.faults) out.push_back({f.name, p.name, f.at_s, f.at_s + f.for_s});
  }
  std::stable_sort(out.begin(), out.end(), [](const fault_ref& a, const fault_ref& b) { return a.start_s < b.start_s; });
  return out;
}

time_span scope_span(const std::vector<fault_ref>& faults, const std::string& fault, assertion_scope scope) {
  const auto it = std::find_if(faults.begin(), faults.end(), [&](const fault_ref& f) { return f.name == fault; });
  if (it == faults.end()) return {0, 0};
  if (scope == assertion_scope::during) return {it->start_s, it->end_s};
  if (scope == assertion_scope::run) return {0, std::numeric_limits<double>::infinity()};
  double next = std::numeric_limits<double>::infinity();
  for (const auto& f : faults) {
    if (&f != &*it && f.start_s >= it->end_s - boundary_slack_s) next = std::min(next, f.start_s);
  }
  return {it->end_s, next};
}

window_totals totals_in(const std::vector<interval_row>& series, time_span span) {
  window_totals t;
  double start = 0;
  for (const auto& r : series) {
    const double mid = (start + r.end_s) / 2;
    start = r.end_s;
    if (mid < span.from_s || mid >= span.to_s) continue;
    ++t.intervals;
    t.offered += r.offered;
    t.completed += r.completed;
    t.succeeded += r.outcomes[static_cast<std::size_t>(outcome_class::ok)];
    t.degraded += r.degraded;
    t.shed += r.shed;
    t.attempts += r.attempts;
    t.retries += r.retries;
    t.timeouts += r.timeouts;
    t.breaker_openings += r.breaker_openings;
    t.breaker_rejections += r.breaker_rejections;
    t.hedges += r.hedges;
    t.fallbacks += r.fallbacks;
    t.client_rejections += r.client_rejections;
    t.cost_usd += r.cost_usd;
  }
  return t;
}

measured_value window_metric(const window_totals& t, const std::string& metric) {
  const auto finished = static_cast<double>(t.completed + t.shed);
  if (metric == "success_rate" || metric == "degraded_rate" || metric == "error_rate") {
    if (t.intervals == 0) return {std::nullopt, "no samples: no interval of the run falls in the window"};
    if (finished == 0) return {std::nullopt, "no samples: no request finished in the window"};
    const auto ok = static_cast<double>(t.succeeded);
    const auto degraded = static_cast<double>(t.degraded);
    if (metric == "success_rate") return {share_of(ok, finished), ""};
    if (metric == "degraded_rate") return {share_of(degraded, finished), ""};
    return {share_of(finished - ok - degraded, finished), ""};
  }
  if (t.intervals == 0) return {std::nullopt, "no samples: no interval of the run falls in the window"};
  const std::pair<const char*, double> counts[] = {
      {"requests", static_cast<double>(t.offered)},
      {"completed", static_cast<double>(t.completed)},
      {"succeeded", static_cast<double>(t.succeeded)},
      {"degraded", static_cast<double>(t.degraded)},
      {"shed", static_cast<double>(t.shed)},
      {"attempts", static_cast<double>(t.attempts)},
      {"retries", static_cast<double>(t.retries)},
      {"timeouts", static_cast<double>(t.timeouts)},
      {"breaker_openings", static_cast<double>(t.breaker_openings)},
      {"breaker_rejections", static_cast<double>(t.breaker_rejections)},
      {"cost_usd", t.cost_usd},
      {"hedges", static_cast<double>(t.hedges)},
      {"fallbacks", static_cast<double>(t.fallbacks)},
      {"client_rejections", static_cast<double>(t.client_rejections)},
  };
  for (const auto& [name, value] : counts) {
    if (metric == name) return {value, ""};
  }
  return {std::nullopt, "no samples: \"" + metric + "\" is not measured per window"};
}

recovery_report measure_recovery(const scenario& s, const std::vector<interval_row>& series) {
  recovery_report report;
  report.tolerance_pp = s.recovery.tolerance_pp;
  report.hold_intervals = s.recovery.hold_intervals;
  const auto faults = fault_refs(s);
  if (faults.empty()) return report;
  report.baseline_to_s = faults.front().start_s;
  const window_totals calm = totals_in(series, {0, faults.front().start_s});
  const auto calm_finished = static_cast<double>(calm.completed + calm.shed);
  std::string no_baseline;
  if (calm.intervals == 0) {
    no_baseline = "no calm baseline: the first fault window starts at " + span_seconds_text(faults.front().start_s);
  } else if (calm_finished == 0) {
    no_baseline = "no calm baseline: no request finished before the first fault window";
  } else {
    report.baseline_success_rate = static_cast<double>(calm.succeeded) / calm_finished;
  }
  const double floor_rate = report.baseline_success_rate.value_or(0) - s.recovery.tolerance_pp / 100.0;

  for (const auto& f : faults) {
    window_recovery w{f, std::nullopt, ""};
    if (!report.baseline_success_rate) {
      w.note = no_baseline;
      report.windows.push_back(std::move(w));
      continue;
    }
    const time_span after = scope_span(faults, f.name, assertion_scope::after);
    std::string next;
    for (const auto& g : faults) {
      if (g.start_s == after.to_s && next.empty()) next = g.name;
    }
    double start = 0;
    double streak_start = 0;
    std::uint32_t streak = 0;
    bool cut = false;
    for (const auto& r : series) {
      const double row_start = start;
      start = r.end_s;
      if (row_start < f.end_s - boundary_slack_s) continue;
      // The hold must end before the next window begins: a recovery the next fault interrupts is none.
      if (r.end_s > after.to_s + boundary_slack_s) {
        cut = true;
        break;
      }
      const auto finished = static_cast<double>(r.completed + r.shed);
      if (finished == 0) continue;  // no evidence either way: neither counts nor breaks the hold
      const double rate = static_cast<double>(r.outcomes[static_cast<std::size_t>(outcome_class::ok)]) / finished;
      if (rate < floor_rate) {
        streak = 0;
        continue;
      }
      if (streak == 0) streak_start = row_start;
      if (++streak == s.recovery.hold_intervals) {
        w.recovery_s = std::max(0.0, streak_start - f.end_s);
        break;
      }
    }
    if (!w.recovery_s) {
      w.note = cut ? "not recovered before \"" + next + "\" began" : "not recovered before the run ended";
    }
    report.windows.push_back(std::move(w));
  }
  return report;
}

}  // namespace squall::sim
