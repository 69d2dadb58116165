#include "client/client_metrics.hpp"

#include <cstdio>

#include "client/client.hpp"

namespace squall {
namespace {

// A label value with \, " and line feeds escaped, as the exposition format asks.
std::string label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// A metric name made of [a-zA-Z0-9_] only: anything else becomes '_'.
std::string metric_name(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out += ok ? c : '_';
  }
  return out;
}

std::string number(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  return buffer;
}

void header(std::string& out, const std::string& name, const char* type, const char* help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

void client_metrics::on_policy_event(const policy_event& event) {
  auto it = events_.find(event.policy);
  if (it == events_.end()) it = events_.emplace(std::string(event.policy), std::array<std::uint64_t, policy_event_kind_count>{}).first;
  ++it->second[static_cast<std::size_t>(event.kind)];
}

void client_metrics::on_result(const client_result& r) {
  const std::string outcome = r.degraded ? "degraded" : std::string(to_string(r.kind));
  ++calls_[{r.provider, r.model, outcome}];
  latency_histogram& h = latency_[r.provider];
  const double s = std::chrono::duration<double>(r.latency).count();
  for (std::size_t i = 0; i < buckets_s.size(); ++i) {
    if (s <= buckets_s[i]) ++h.at_most[i];
  }
  ++h.count;
  h.sum_s += s;
  attempts_[r.provider] += r.attempts;
  model_totals& m = models_[{r.provider, r.model}];
  m.cost_usd += r.cost_usd;
  m.input_tokens += r.input_tokens;
  m.output_tokens += r.output_tokens;
}

std::string client_metrics::render(const http_transport_stats& transport, std::size_t open_connections,
                                   std::size_t idle_connections, std::size_t in_flight,
                                   const std::vector<policy_gauge>& gauges) const {
  std::string out;
  header(out, "squall_client_calls_total", "counter", "Calls by provider, model and final outcome.");
  for (const auto& [key, n] : calls_) {
    const auto& [provider, model, outcome] = key;
    out += "squall_client_calls_total{provider=\"" + label(provider) + "\",model=\"" + label(model) +
           "\",outcome=\"" + outcome + "\"} " + std::to_string(n) + "\n";
  }
  header(out, "squall_client_call_duration_seconds", "histogram", "Time from call() to the result.");
  for (const auto& [provider, h] : latency_) {
    const std::string p = "provider=\"" + label(provider) + "\"";
    for (std::size_t i = 0; i < buckets_s.size(); ++i) {
      out += "squall_client_call_duration_seconds_bucket{" + p + ",le=\"" + number(buckets_s[i]) + "\"} " +
             std::to_string(h.at_most[i]) + "\n";
    }
    out += "squall_client_call_duration_seconds_bucket{" + p + ",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += "squall_client_call_duration_seconds_sum{" + p + "} " + number(h.sum_s) + "\n";
    out += "squall_client_call_duration_seconds_count{" + p + "} " + std::to_string(h.count) + "\n";
  }
  header(out, "squall_client_attempts_total", "counter", "Attempts that reached the transport.");
  for (const auto& [provider, n] : attempts_) {
    out += "squall_client_attempts_total{provider=\"" + label(provider) + "\"} " + std::to_string(n) + "\n";
  }
  header(out, "squall_client_cost_usd_total", "counter", "Billed cost over all attempts, in US dollars.");
  for (const auto& [key, m] : models_) {
    out += "squall_client_cost_usd_total{provider=\"" + label(key.first) + "\",model=\"" + label(key.second) +
           "\"} " + number(m.cost_usd) + "\n";
  }
  header(out, "squall_client_tokens_total", "counter", "Tokens of the results, by direction.");
  for (const auto& [key, m] : models_) {
    const std::string labels = "provider=\"" + label(key.first) + "\",model=\"" + label(key.second) + "\"";
    out += "squall_client_tokens_total{" + labels + ",direction=\"input\"} " + std::to_string(m.input_tokens) + "\n";
    out += "squall_client_tokens_total{" + labels + ",direction=\"output\"} " + std::to_string(m.output_tokens) + "\n";
  }
  header(out, "squall_client_in_flight", "gauge", "Calls accepted and not yet answered.");
  out += "squall_client_in_flight " + std::to_string(in_flight) + "\n";

  header(out, "squall_policy_events_total", "counter", "Policy decisions, by policy and event.");
  for (const auto& [policy, counts] : events_) {
    for (std::size_t k = 0; k < counts.size(); ++k) {
      if (counts[k] == 0) continue;
      out += "squall_policy_events_total{policy=\"" + label(policy) + "\",event=\"" +
             std::string(to_string(static_cast<policy_event_kind>(k))) + "\"} " + std::to_string(counts[k]) + "\n";
    }
  }
  // One family per gauge name, each family's samples together, as the format requires.
  std::map<std::string, std::vector<const policy_gauge*>> families;
  for (const policy_gauge& g : gauges) families["squall_policy_" + metric_name(g.name)].push_back(&g);
  for (const auto& [name, members] : families) {
    header(out, name, "gauge", "A policy's state (see docs/production.md).");
    for (const policy_gauge* g : members) {
      out += name + "{policy=\"" + label(g->policy) + "\"} " + number(g->value) + "\n";
    }
  }

  auto counter = [&](const char* name, const char* help, std::uint64_t v) {
    header(out, name, "counter", help);
    out += std::string(name) + " " + std::to_string(v) + "\n";
  };
  counter("squall_http_attempts_total", "Attempts the transport started.", transport.attempts);
  counter("squall_http_connections_opened_total", "Connections opened.", transport.connections_opened);
  counter("squall_http_connections_reused_total", "Attempts served on a kept-alive connection.", transport.connections_reused);
  counter("squall_http_waited_total", "Attempts that waited for a free connection.", transport.waited);
  counter("squall_http_rejected_total", "Attempts refused because the wait queue was full.", transport.rejected);
  header(out, "squall_http_connections", "gauge", "Open connections, by state.");
  out += "squall_http_connections{state=\"idle\"} " + std::to_string(idle_connections) + "\n";
  out += "squall_http_connections{state=\"in_use\"} " + std::to_string(open_connections - idle_connections) + "\n";
  return out;
}

}  // namespace squall
