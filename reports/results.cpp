#include "reports/results.hpp"

#include <cmath>
#include <cstdio>

#include "reports/format.hpp"
#include "sim/run/recovery.hpp"
#include "squall_version.hpp"

namespace squall::reports {
namespace {

std::string outage_name(sim::outage_kind k) {
  switch (k) {
    case sim::outage_kind::refuse: return "refuse";
    case sim::outage_kind::hang: return "hang";
    case sim::outage_kind::reset: return "reset";
    case sim::outage_kind::handshake: return "handshake";
    case sim::outage_kind::none: break;
  }
  return "";
}

std::string fault_label(const sim::fault_window& f) {
  std::string label;
  if (f.outage != sim::outage_kind::none) label = "outage (" + outage_name(f.outage) + ")";
  for (const sim::injected_error& e : f.errors) {
    if (!label.empty()) label += ", ";
    const sim::error_kind_info* named = sim::info(e.kind);
    label += std::to_string(static_cast<int>(std::lround(e.probability * 100))) + "% " +
             (named ? std::string(named->name) : std::to_string(e.status));
  }
  if (f.latency_x != 1.0) {
    if (!label.empty()) label += ", ";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "latency x%g", f.latency_x);
    label += buffer;
  }
  return label;
}

// How the configuration came back after each fault window (sim/run/recovery.hpp); null without windows.
json recovery_document(const sim::scenario& sc, const sim::run_metrics& m) {
  const sim::recovery_report report = sim::measure_recovery(sc, m.series());
  if (report.windows.empty()) return nullptr;
  json windows = json::array();
  for (const auto& w : report.windows) {
    json entry = {{"fault", w.fault.name},
                  {"provider", w.fault.provider},
                  {"start_s", results_number(w.fault.start_s)},
                  {"end_s", results_number(w.fault.end_s)},
                  {"recovered", w.recovery_s.has_value()},
                  {"recovery_s", w.recovery_s ? json(results_number(*w.recovery_s)) : json(nullptr)}};
    if (!w.note.empty()) entry["note"] = w.note;
    windows.push_back(std::move(entry));
  }
  return {{"baseline_success_rate",
           report.baseline_success_rate ? json(results_number(*report.baseline_success_rate)) : json(nullptr)},
          {"baseline_to_s", results_number(report.baseline_to_s)},
          {"tolerance_pp", report.tolerance_pp},
          {"hold_intervals", report.hold_intervals},
          {"windows", std::move(windows)}};
}

double quantile_ms(const sim::histogram& h, double q) { return static_cast<double>(h.quantile(q)) / 1000.0; }

// The traffic figures of one row of the breakdown (a provider, or a provider's model).
void traffic_figures(json& entry, std::uint64_t attempts, std::uint64_t successes, std::uint64_t failures,
                     std::uint64_t cancelled, double cost_usd, const sim::histogram& latency) {
  entry["attempts"] = attempts;
  entry["successes"] = successes;
  entry["failures"] = failures;
  entry["cancelled"] = cancelled;
  entry["cost_usd"] = results_number(cost_usd);
  entry["attempt_latency_p50_ms"] = results_number(quantile_ms(latency, 0.50));
  entry["attempt_latency_p95_ms"] = results_number(quantile_ms(latency, 0.95));
}

json errors_document(const sim::error_table& table) {
  json rows = json::array();
  for (const sim::error_row& r : table.rows()) {
    json row = json::object();
    if (r.other) {
      row["class"] = "other";
    } else {
      row["class"] = std::string(to_string(r.kind));
      row["http_status"] = r.http_status;
      row["provider"] = r.provider;
      row["model"] = r.model;
      row["policy"] = r.policy;
      row["message"] = r.message;
    }
    row["requests"] = r.requests;
    row["attempts"] = r.attempts;
    row["first_s"] = results_number(r.first_s);
    row["last_s"] = results_number(r.last_s);
    rows.push_back(std::move(row));
  }
  return rows;
}

json models_document(const sim::traffic_table& table) {
  json rows = json::array();
  for (const sim::traffic_row* r : table.rows()) {
    json row = json::object();
    if (r->other) {
      row["other"] = true;
    } else {
      row["provider"] = r->provider;
      row["model"] = r->model;
    }
    traffic_figures(row, r->attempts, r->successes, r->failures, r->cancelled, r->cost_usd, r->latency);
    rows.push_back(std::move(row));
  }
  return rows;
}

// The traffic of one provider: its models' rows summed. `name` empty gathers the "other" row.
void provider_traffic(json& entry, const sim::traffic_table& table, const std::string& name, bool other) {
  std::uint64_t attempts = 0, successes = 0, failures = 0, cancelled = 0;
  double cost_usd = 0;
  sim::histogram latency;
  for (const sim::traffic_row* r : table.rows()) {
    if (r->other != other || (!other && r->provider != name)) continue;
    attempts += r->attempts;
    successes += r->successes;
    failures += r->failures;
    cancelled += r->cancelled;
    cost_usd += r->cost_usd;
    latency.merge(r->latency);
  }
  traffic_figures(entry, attempts, successes, failures, cancelled, cost_usd, latency);
}

json series_document(const sim::run_metrics& m) {
  const auto& rows = m.series();
  json s = json::object();
  auto column = [&](const char* name, auto get) {
    json c = json::array();
    for (const auto& r : rows) c.push_back(get(r));
    s[name] = std::move(c);
  };
  column("end_s", [](const sim::interval_row& r) { return results_number(r.end_s); });
  column("offered", [](const sim::interval_row& r) { return r.offered; });
  column("shed", [](const sim::interval_row& r) { return r.shed; });
  column("completed", [](const sim::interval_row& r) { return r.completed; });
  column("degraded", [](const sim::interval_row& r) { return r.degraded; });
  column("attempts", [](const sim::interval_row& r) { return r.attempts; });
  column("retries", [](const sim::interval_row& r) { return r.retries; });
  column("timeouts", [](const sim::interval_row& r) { return r.timeouts; });
  column("breaker_openings", [](const sim::interval_row& r) { return r.breaker_openings; });
  column("breaker_rejections", [](const sim::interval_row& r) { return r.breaker_rejections; });
  column("breaker_state", [](const sim::interval_row& r) { return static_cast<int>(r.breaker); });
  column("breaker_open_s", [](const sim::interval_row& r) { return results_number(r.breaker_open_s); });
  column("breakers_open", [](const sim::interval_row& r) { return r.breakers_open; });
  column("latency_p50_ms", [](const sim::interval_row& r) { return results_number(r.latency_p50_ms); });
  column("latency_p95_ms", [](const sim::interval_row& r) { return results_number(r.latency_p95_ms); });
  column("latency_p99_ms", [](const sim::interval_row& r) { return results_number(r.latency_p99_ms); });
  column("cost_usd", [](const sim::interval_row& r) { return results_number(r.cost_usd); });
  column("in_flight", [](const sim::interval_row& r) { return r.in_flight; });
  column("provider_busy", [](const sim::interval_row& r) { return r.provider_busy; });
  column("provider_queue", [](const sim::interval_row& r) { return r.provider_queue; });
  column("cache_hits", [](const sim::interval_row& r) { return r.cache_hits; });
  column("cache_misses", [](const sim::interval_row& r) { return r.cache_misses; });
  column("hedges", [](const sim::interval_row& r) { return r.hedges; });
  column("fallbacks", [](const sim::interval_row& r) { return r.fallbacks; });
  column("client_rejections", [](const sim::interval_row& r) { return r.client_rejections; });
  json outcomes = json::object();
  for (std::size_t c = 0; c < outcome_class_count; ++c) {
    json col = json::array();
    for (const auto& r : rows) col.push_back(r.outcomes[c]);
    outcomes[std::string(outcome_class_names[c])] = std::move(col);
  }
  s["outcomes"] = std::move(outcomes);
  return s;
}

}  // namespace

json results_document(const run_record& run) {
  const sim::scenario& sc = run.scenario;
  json doc = json::object();
  doc["format"] = results_format;
  doc["squall_version"] = squall_version;
  doc["mode"] = run.mode;
  doc["seed"] = run.seed;
  doc["reproduce"] = run.reproduce;

  json faults = json::array();
  for (const auto& p : sc.providers) {
    for (const auto& f : p.faults) {
      faults.push_back({{"name", f.name}, {"provider", p.name}, {"at_s", f.at_s}, {"for_s", f.for_s}, {"label", fault_label(f)}});
    }
  }
  doc["scenario"] = {{"name", sc.name},
                     {"description", sc.description},
                     {"file", sc.file},
                     {"digest", "sha256:" + sc.digest},
                     {"duration_s", sc.duration_s},
                     {"drain_s", sc.drain_s},
                     {"interval_s", sc.effective_interval_s()},
                     {"faults", std::move(faults)}};

  json configs = json::array();
  for (std::size_t i = 0; i < run.results.size(); ++i) {
    const auto& r = run.results[i];
    const auto& m = *r.metrics;
    json c = json::object();
    c["name"] = r.name;
    c["policy_file"] = r.policy_source;
    c["policy_name"] = r.policy_name;
    c["warnings"] = r.warnings;
    for (const auto& sc_config : sc.configurations) {
      if (sc_config.name == r.name && !sc_config.reference.empty()) c["reference"] = sc_config.reference;
    }
    json summary = json::object();
    for (const auto& [name, value] : run.summaries[i]) summary[name] = results_number(value);
    c["summary"] = std::move(summary);
    json outcomes = json::object();
    for (std::size_t k = 0; k < outcome_class_count; ++k) outcomes[std::string(outcome_class_names[k])] = m.outcomes()[k];
    c["outcomes"] = std::move(outcomes);
    json spectrum = json::array();
    for (double q : {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 1.0}) {
      spectrum.push_back({{"quantile", q}, {"latency_ms", results_number(static_cast<double>(m.latency().quantile(q)) / 1000.0)}});
    }
    c["latency_spectrum"] = std::move(spectrum);
    json providers = json::array();
    for (const auto& p : r.providers) {
      json entry = {{"name", p.name}, {"busy_max", p.busy_max}, {"queue_max", p.queue_max}};
      if (p.queue_wait) {
        const sim::queue_wait_summary& q = *p.queue_wait;
        entry["service_started"] = q.service_started;
        entry["queue_waited_share"] = results_number(q.waited_share);
        entry["queue_wait_mean_ms"] = results_number(q.mean_ms);
        entry["queue_wait_p50_ms"] = results_number(q.p50_ms);
        entry["queue_wait_p90_ms"] = results_number(q.p90_ms);
        entry["queue_wait_p99_ms"] = results_number(q.p99_ms);
      }
      if (m.traffic().measured()) provider_traffic(entry, m.traffic(), p.name, false);
      providers.push_back(std::move(entry));
    }
    // Attempts to a route the scenario does not name (answered invalid_request by the transport), and
    // the "other" row of a table that filled up, are providers too: the attempts add up to the summary's.
    for (const sim::traffic_row* t : m.traffic().rows()) {
      bool listed = false;
      for (const auto& e : providers) listed = listed || (!t->other && e["name"] == t->provider);
      if (listed) continue;
      json entry = {{"name", t->other ? std::string("(other)") : t->provider}};
      provider_traffic(entry, m.traffic(), t->provider, t->other);
      providers.push_back(std::move(entry));
    }
    c["providers"] = std::move(providers);
    if (m.traffic().measured()) c["models"] = models_document(m.traffic());
    c["errors"] = errors_document(m.errors());
    json breakers = json::array();
    for (const auto& b : m.breakers()) {
      json entry = {{"name", b.name}, {"openings", b.openings}, {"open_s", results_number(b.open_s)}};
      if (!r.fleet.is_null()) entry["instance"] = b.instance;
      breakers.push_back(std::move(entry));
    }
    c["breakers"] = std::move(breakers);
    if (!r.fleet.is_null()) c["fleet"] = r.fleet;
    json decisions = json::object();
    for (const auto& d : m.decisions()) {
      json counts = json::object();
      for (std::size_t k = 0; k < policy_event_kind_count; ++k) {
        if (d.counts[k] != 0) counts[std::string(to_string(static_cast<policy_event_kind>(k)))] = d.counts[k];
      }
      decisions[d.policy] = std::move(counts);
    }
    c["decisions"] = std::move(decisions);
    json explained = json::array();
    for (const auto& e : m.explained()) {
      json steps = json::array();
      for (const auto& st : e.steps) {
        json step = {{"at_s", results_number(st.at_s)}, {"policy", st.policy}, {"decision", std::string(to_string(st.kind))}};
        if (st.cause != outcome_class::ok) step["cause"] = std::string(to_string(st.cause));
        if (st.delay_ms != 0) step["delay_ms"] = results_number(st.delay_ms);
        if (st.value != 0) step["value"] = st.value;
        if (!st.detail.empty()) step["detail"] = st.detail;
        steps.push_back(std::move(step));
      }
      explained.push_back({{"request_id", e.request_id}, {"steps", std::move(steps)}});
    }
    c["explained_requests"] = std::move(explained);
    c["simulated_s"] = results_number(r.simulated_s);
    c["events"] = r.events;
    if (r.incomplete) {
      c["incomplete"] = true;
      c["incomplete_reason"] = r.incomplete_reason;
    }
    if (json recovery = recovery_document(sc, m); !recovery.is_null()) c["recovery"] = std::move(recovery);
    c["series"] = series_document(m);
    if (!r.upstream.is_null()) c["upstream"] = r.upstream;
    configs.push_back(std::move(c));
  }
  doc["configurations"] = std::move(configs);

  // An interrupted run names what it did not finish: the configurations that never started, and the
  // reason of the first that stopped early. Its verdict is "incomplete", never "pass".
  json not_run = json::array();
  for (const auto& c : sc.configurations) {
    bool ran = false;
    for (const auto& r : run.results) ran = ran || r.name == c.name;
    if (!ran) not_run.push_back(c.name);
  }
  std::string incomplete_reason;
  for (const auto& r : run.results) {
    if (r.incomplete && incomplete_reason.empty()) incomplete_reason = r.name + ": " + r.incomplete_reason;
  }
  const bool incomplete = !incomplete_reason.empty() || !not_run.empty();
  if (incomplete) {
    if (incomplete_reason.empty()) incomplete_reason = "stopped between configurations";
    doc["incomplete"] = true;
    doc["incomplete_reason"] = incomplete_reason;
    doc["not_run"] = std::move(not_run);
  }

  json assertions = json::array();
  bool all_passed = true;
  for (const auto& a : run.assertions) {
    all_passed = all_passed && a.passed;
    json entry = {{"configuration", a.bound.configuration},
                  {"metric", a.bound.metric},
                  {"kind", a.bound.is_min ? "min" : "max"},
                  {"bound", a.bound.bound}};
    if (a.bound.scope != sim::assertion_scope::run) {
      entry["scope"] = a.bound.scope == sim::assertion_scope::during ? "during" : "after";
      entry["fault"] = a.bound.fault;
    }
    // An assertion that never ran, or on a metric without samples, has no measured value: none is made up.
    if (a.state != sim::assertion_state::not_run && a.note.empty()) entry["measured"] = results_number(a.measured);
    if (!a.note.empty()) entry["note"] = a.note;
    entry["passed"] = a.passed;
    if (incomplete) entry["verdict"] = sim::to_string(a.state);
    assertions.push_back(std::move(entry));
  }
  doc["assertions"] = std::move(assertions);
  doc["verdict"] = incomplete ? "incomplete" : all_passed ? "pass" : "fail";
  return doc;
}

}  // namespace squall::reports
