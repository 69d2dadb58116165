#include "sim/run/summary.hpp"

#include <algorithm>
#include <stdexcept>

#include "sim/run/recovery.hpp"

namespace squall::sim {
namespace {

double ms(std::uint64_t us) { return static_cast<double>(us) / 1000.0; }
double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

}  // namespace

summary summarize(const configuration_result& result) {
  const run_metrics& m = *result.metrics;
  const auto requests = static_cast<double>(m.offered());
  const auto succeeded = static_cast<double>(m.succeeded());
  const auto failed = static_cast<double>(m.completed() - m.succeeded() - m.degraded() + m.unfinished());
  std::uint64_t openings = 0;
  double open_s = 0;
  for (const auto& b : m.breakers()) {
    openings += b.openings;
    open_s += b.open_s;
  }
  const auto& l = m.latency();
  const auto& ok = m.latency_ok();
  const auto& t = m.ttft();
  const auto hits = static_cast<double>(m.total(policy_event_kind::cache_hit) +
                                        m.total(policy_event_kind::cache_stale_served));
  summary s = {
      {"requests", requests},
      {"completed", static_cast<double>(m.completed())},
      {"succeeded", succeeded},
      {"degraded", static_cast<double>(m.degraded())},
      {"shed", static_cast<double>(m.shed())},
      {"unfinished", static_cast<double>(m.unfinished())},
      {"success_rate", ratio(succeeded, requests)},
      {"degraded_rate", ratio(static_cast<double>(m.degraded()), requests)},
      {"error_rate", ratio(failed + static_cast<double>(m.shed()), requests)},
      {"latency_mean_ms", l.mean() / 1000.0},
      {"latency_p50_ms", ms(l.quantile(0.50))},
      {"latency_p90_ms", ms(l.quantile(0.90))},
      {"latency_p95_ms", ms(l.quantile(0.95))},
      {"latency_p99_ms", ms(l.quantile(0.99))},
      {"latency_p999_ms", ms(l.quantile(0.999))},
      {"latency_max_ms", ms(l.max())},
      {"latency_ok_p50_ms", ms(ok.quantile(0.50))},
      {"latency_ok_p95_ms", ms(ok.quantile(0.95))},
      {"latency_ok_p99_ms", ms(ok.quantile(0.99))},
      {"ttft_p50_ms", ms(t.quantile(0.50))},
      {"ttft_p95_ms", ms(t.quantile(0.95))},
      {"ttft_p99_ms", ms(t.quantile(0.99))},
      {"attempts", static_cast<double>(m.attempts())},
      {"attempts_per_request", ratio(static_cast<double>(m.attempts()), static_cast<double>(m.completed() + m.unfinished()))},
      {"retries", static_cast<double>(m.retries())},
      {"timeouts", static_cast<double>(m.timeouts())},
      {"breaker_openings", static_cast<double>(openings)},
      {"breaker_rejections", static_cast<double>(m.breaker_rejections())},
      {"breaker_open_s", open_s},
      {"breakers_open_max", static_cast<double>(m.breakers_open_max())},
      {"cost_usd", m.cost_usd()},
      {"cost_per_success_usd", ratio(m.cost_usd(), succeeded)},
      {"cost_wasted_usd", m.cost_usd() - m.cost_useful_usd()},
      {"cache_hit_rate", ratio(hits, hits + static_cast<double>(m.total(policy_event_kind::cache_miss)))},
      {"cache_hits", hits},
      {"hedges", static_cast<double>(m.total(policy_event_kind::hedge_sent))},
      {"fallbacks", static_cast<double>(m.total(policy_event_kind::fallback_used))},
      {"client_rejections", static_cast<double>(m.client_rejections())},
      {"retry_budget_refusals", static_cast<double>(m.total(policy_event_kind::retry_budget_exhausted))},
      {"bad_content", static_cast<double>(m.bad_content())},
      {"bad_content_rate", ratio(static_cast<double>(m.bad_content()), requests)},
  };
  s.insert(s.end(), result.upstream_summary.begin(), result.upstream_summary.end());
  // A service under test: squall's side bills nothing, its providers do. The cost of serving the users is
  // what the providers billed, so the cost rows compare versions of the service as they compare policies.
  if (!result.upstream_summary.empty()) {
    const double billed = summary_value(s, "upstream_cost_usd");
    for (auto& [name, value] : s) {
      if (name == "cost_usd") value = billed;
      if (name == "cost_per_success_usd") value = ratio(billed, succeeded);
      if (name == "cost_wasted_usd") value = summary_value(s, "upstream_cost_wasted_usd");
    }
  }
  return s;
}

double summary_value(const summary& s, const std::string& metric) {
  for (const auto& [name, value] : s) {
    if (name == metric) return value;
  }
  throw std::out_of_range("no summary metric named " + metric);  // names are checked when scenarios load
}

std::string no_samples(const configuration_result& result, const summary& s, const std::string& metric) {
  const run_metrics& m = *result.metrics;
  if (metric.starts_with("latency_ok_")) return m.latency_ok().count() == 0 ? "no samples: no request succeeded" : "";
  if (metric.starts_with("latency_")) return m.latency().count() == 0 ? "no samples: no request completed" : "";
  if (metric.starts_with("ttft_")) return m.ttft().count() == 0 ? "no samples: no answer had a first token" : "";
  if (metric == "success_rate" || metric == "degraded_rate" || metric == "error_rate" || metric == "bad_content_rate") {
    return m.offered() == 0 ? "no samples: no request was sent" : "";
  }
  if (metric == "attempts_per_request") {
    return m.completed() + m.unfinished() == 0 ? "no samples: no request was sent" : "";
  }
  if (metric == "cost_per_success_usd") return m.succeeded() == 0 ? "no samples: no request succeeded" : "";
  if (metric == "cache_hit_rate") {
    const double lookups = summary_value(s, "cache_hits") + static_cast<double>(m.total(policy_event_kind::cache_miss));
    return lookups == 0 ? "no samples: no cache lookup" : "";
  }
  if (metric == "upstream_attempts_per_request") {
    return summary_value(s, "requests") == 0 ? "no samples: no request was sent" : "";
  }
  return "";
}

namespace {

// The value of one assertion's metric for one configuration that ran.
measured_value measure(const scenario& s, const assertion& a, const configuration_result& result, const summary& sum,
                       const std::vector<fault_ref>& faults) {
  const auto& series = result.metrics->series();
  if (a.metric == "recovery_s") {
    const recovery_report report = measure_recovery(s, series);
    if (report.windows.empty()) return {std::nullopt, "no samples: the scenario has no fault windows"};
    double slowest = 0;
    for (const auto& w : report.windows) {
      if (a.scope == assertion_scope::after && w.fault.name != a.fault) continue;
      if (!w.recovery_s) return {std::nullopt, w.fault.name + ": " + w.note};
      slowest = std::max(slowest, *w.recovery_s);
    }
    return {slowest, ""};
  }
  if (a.scope == assertion_scope::run) {
    std::string why = no_samples(result, sum, a.metric);
    if (!why.empty()) return {std::nullopt, std::move(why)};
    return {summary_value(sum, a.metric), ""};
  }
  return window_metric(totals_in(series, scope_span(faults, a.fault, a.scope)), a.metric);
}

}  // namespace

std::vector<assertion_result> check_assertions(const scenario& s, const std::vector<configuration_result>& results,
                                               const std::vector<summary>& summaries) {
  const auto faults = fault_refs(s);
  std::vector<assertion_result> out;
  for (const auto& a : s.assertions) {
    bool ran = false;
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i].name != a.configuration) continue;
      ran = true;
      const measured_value v = measure(s, a, results[i], summaries[i], faults);
      const bool held = v.value && (a.is_min ? *v.value >= a.bound : *v.value <= a.bound);
      const assertion_state state =
          results[i].incomplete ? assertion_state::incomplete : held ? assertion_state::passed : assertion_state::failed;
      out.push_back(assertion_result{a, v.value.value_or(0), state == assertion_state::passed, state, v.note});
    }
    // Never dropped: an assertion the run did not get to is reported as not run, so that an interrupted
    // run cannot pass by leaving its failing configuration out.
    if (!ran) out.push_back(assertion_result{a, 0, false, assertion_state::not_run, ""});
  }
  return out;
}

const char* to_string(assertion_state state) noexcept {
  switch (state) {
    case assertion_state::passed: return "pass";
    case assertion_state::failed: return "fail";
    case assertion_state::incomplete: return "incomplete";
    case assertion_state::not_run: return "not run";
  }
  return "fail";
}

}  // namespace squall::sim
