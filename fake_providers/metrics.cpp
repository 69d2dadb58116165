// /metrics: what a fake provider has done, for Prometheus and for dashboards, and the histogram of its
// AI exchanges' durations. Prometheus text (0.0.4) by default; OpenMetrics 1.0 when the scraper's Accept
// header asks for application/openmetrics-text, as real exporters do. The two differ only in how they
// name a counter family (OpenMetrics without its _total), in the build info (an info family there, a
// gauge in the Prometheus text) and in the closing "# EOF".
#include <charconv>
#include <concepts>
#include <string>

#include "fake_providers/endpoint.hpp"
#include "squall_version.hpp"

namespace squall::fake::detail {
namespace {

// Bucket bounds of the exchange durations, in seconds: from a cached answer (5 ms) to a long generation
// held behind a slow first token (120 s). As text, since OpenMetrics wants them canonical ("0.005").
constexpr std::array<double, exchange_duration_buckets - 1> bucket_bounds_s = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120};
constexpr std::array<const char*, exchange_duration_buckets> bucket_labels = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "20.0", "30.0", "60.0",
    "120.0", "+Inf"};

// The model label of a name the provider does not serve; parentheses keep it apart from any model's name.
constexpr std::string_view unknown_model = "(unknown)";

// A label value with backslash, double quote and newline escaped (the same in both formats).
void append_label_value(std::string& out, std::string_view v) {
  for (const char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

// Writes the families of one scrape in the format asked for.
class exposition {
 public:
  explicit exposition(bool openmetrics) : openmetrics_(openmetrics) {}

  // A family as Prometheus text names it: counters end in _total, the build info in _info.
  // `type`: "counter", "gauge", "histogram" or "info" (a gauge of 1 whose labels are the information).
  void family(std::string_view name, std::string_view type, std::string_view help) {
    std::string_view shown = name;
    if (openmetrics_ && type == "counter") shown.remove_suffix(std::string_view("_total").size());
    if (type == "info") {
      if (openmetrics_) {
        shown.remove_suffix(std::string_view("_info").size());
      } else {
        type = "gauge";
      }
    }
    out_ += "# HELP ";
    out_ += shown;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += shown;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  // `labels`: name="value" pairs, values escaped, comma-separated.
  void sample(std::string_view name, std::string_view labels, double value) {
    out_ += name;
    out_ += '{';
    out_ += labels;
    out_ += "} ";
    char num[32];
    const auto done = std::to_chars(num, num + sizeof num, value);
    out_.append(num, done.ptr);
    out_ += '\n';
  }
  template <std::integral count>
  void sample(std::string_view name, std::string_view labels, count value) {
    sample(name, labels, static_cast<double>(value));
  }

  std::string finish() && {
    if (openmetrics_) out_ += "# EOF\n";
    return std::move(out_);
  }

 private:
  bool openmetrics_;
  std::string out_;
};

bool asks_for_openmetrics(const http::request<http::string_body>& req) {
  const auto accept = req.find(http::field::accept);
  if (accept == req.end()) return false;
  const std::string_view v(accept->value().data(), accept->value().size());
  return v.find("application/openmetrics-text") != std::string_view::npos;
}

}  // namespace

void provider_endpoint::observe_exchange(job& j, int status) {
  if (j.exchange_observed) return;  // the first end is the one the client saw
  j.exchange_observed = true;
  const std::optional<std::uint32_t> model = model_->find_model(j.req.model);
  const auto model_index = model ? *model : static_cast<std::uint32_t>(model_->config().models.size());
  duration_histogram& h = exchange_durations_[{model_index, status}];
  const double seconds = to_s(clock_.now() - j.arrival);
  std::size_t bucket = 0;
  while (bucket < bucket_bounds_s.size() && seconds > bucket_bounds_s[bucket]) ++bucket;
  ++h.counts[bucket];
  ++h.count;
  h.sum_s += seconds;
}

void provider_endpoint::metrics(const std::shared_ptr<session>& s, const http::request<http::string_body>& req) {
  const bool keep_alive = req.keep_alive();
  const bool openmetrics = asks_for_openmetrics(req);
  std::string label = "provider=\"";
  append_label_value(label, model_->config().name);
  label += '"';
  auto with = [&](std::string_view name, std::string_view value) {
    std::string l = label;
    l += ',';
    l += name;
    l += "=\"";
    append_label_value(l, value);
    l += '"';
    return l;
  };
  exposition x(openmetrics);
  x.family("squall_fake_requests_total", "counter", "AI requests received (chat, embeddings, messages).");
  x.sample("squall_fake_requests_total", label, api_requests_);
  x.family("squall_fake_responses_total", "counter", "HTTP responses sent on the provider API, by status.");
  for (const auto& [status, n] : responses_) x.sample("squall_fake_responses_total", with("status", std::to_string(status)), n);
  x.family("squall_fake_request_duration_seconds", "histogram",
           "Seconds from an AI request's arrival to the end of its exchange (the last byte of its answer, its "
           "reset, or the client leaving), by model and HTTP status sent (0: none). Requests refused for a "
           "bad body are not in it.");
  const auto& models = model_->config().models;
  for (const auto& [key, h] : exchange_durations_) {
    const std::string_view model = key.first < models.size() ? std::string_view(models[key.first].first) : unknown_model;
    std::string labels = with("model", model);
    labels += ",status=\"" + std::to_string(key.second) + '"';
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < exchange_duration_buckets; ++b) {
      cumulative += h.counts[b];
      x.sample("squall_fake_request_duration_seconds_bucket", labels + ",le=\"" + bucket_labels[b] + '"', cumulative);
    }
    x.sample("squall_fake_request_duration_seconds_count", labels, h.count);
    x.sample("squall_fake_request_duration_seconds_sum", labels, h.sum_s);
  }
  x.family("squall_fake_in_flight", "gauge", "Requests in service, queued, hung or waiting out an error's latency.");
  x.sample("squall_fake_in_flight", label, static_cast<double>(busy_ + queue_.size() + hung_ + answering_));
  x.family("squall_fake_busy_slots", "gauge", "Requests in service.");
  x.sample("squall_fake_busy_slots", label, busy_);
  x.family("squall_fake_slots", "gauge", "Requests the provider serves at once.");
  x.sample("squall_fake_slots", label, model_->config().slots);
  x.family("squall_fake_queue_depth", "gauge", "Requests waiting for a slot.");
  x.sample("squall_fake_queue_depth", label, static_cast<double>(queue_.size()));
  x.family("squall_fake_hung", "gauge", "Requests held without an answer by a hang outage.");
  x.sample("squall_fake_hung", label, static_cast<double>(hung_));
  x.family("squall_fake_fault_windows_active", "gauge",
           "Fault windows in effect now (the scenario's and the armed ones), by what they do: errors (an error "
           "mix), latency (latency_x or ttft_x), outage, wire. A window that does two things counts in both.");
  {
    const double now_s = to_s(clock_.now());
    std::uint64_t errors = 0, latency = 0, outage = 0, wire = 0;
    for (const sim::fault_window& w : model_->config().faults) {
      if (now_s < w.at_s || now_s >= w.at_s + w.for_s) continue;
      if (!w.errors.empty()) ++errors;
      if (w.latency_x != 1.0 || w.ttft_x != 1.0) ++latency;
      if (w.outage != sim::outage_kind::none) ++outage;
      if (!w.wire.empty()) ++wire;
    }
    x.sample("squall_fake_fault_windows_active", with("kind", "errors"), errors);
    x.sample("squall_fake_fault_windows_active", with("kind", "latency"), latency);
    x.sample("squall_fake_fault_windows_active", with("kind", "outage"), outage);
    x.sample("squall_fake_fault_windows_active", with("kind", "wire"), wire);
  }
  x.family("squall_fake_faults_injected_total", "counter",
           "Faults injected, by kind: an HTTP status, rate_limited, shed, refuse, reset, hang, malformed, "
           "stream_cut, error_event.");
  for (const auto& [kind, n] : faults_injected_) x.sample("squall_fake_faults_injected_total", with("kind", kind), n);
  x.family("squall_fake_tokens_total", "counter", "Tokens of served requests, billed.");
  x.sample("squall_fake_tokens_total", with("direction", "input"), input_tokens_);
  x.sample("squall_fake_tokens_total", with("direction", "output"), output_tokens_);
  x.family("squall_fake_cost_usd_total", "counter", "USD billed for served requests at the scenario's prices.");
  x.sample("squall_fake_cost_usd_total", label, cost_usd_);
  // Not squall_fake_connections: that is the family name of the counter below under OpenMetrics.
  x.family("squall_fake_open_connections", "gauge", "Open client connections.");
  x.sample("squall_fake_open_connections", label, static_cast<double>(sessions.size()));
  x.family("squall_fake_connections_total", "counter", "Connections accepted.");
  x.sample("squall_fake_connections_total", label, connections_accepted_);
  x.family("squall_fake_connections_rejected_total", "counter", "Connections closed at once: over the limit.");
  x.sample("squall_fake_connections_rejected_total", label, connections_rejected_);
  x.family("squall_fake_bad_requests_total", "counter", "Requests that were not valid HTTP or were too large.");
  x.sample("squall_fake_bad_requests_total", label, bad_requests_);
  x.family("squall_fake_accept_backoffs_total", "counter",
           "Accepts that failed for want of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), each "
           "followed by a pause before the next.");
  x.sample("squall_fake_accept_backoffs_total", label, accept_backoffs_);
  if (tls_) {
    x.family("squall_fake_tls_handshake_failures_total", "counter",
             "TLS handshakes that failed: a client that does not trust the certificate, or that speaks plain HTTP.");
    x.sample("squall_fake_tls_handshake_failures_total", label, tls_handshake_failures_);
  }
  x.family("squall_fake_internal_errors_total", "counter",
           "Handlers that threw, by where (request, answer, read, write, idle, accept, timeline); each "
           "ended its exchange with a 500 or a reset, and the server went on.");
  for (const auto& [where, n] : internal_errors_) x.sample("squall_fake_internal_errors_total", with("where", where), n);
  x.family("squall_fake_scenario_time_seconds", "gauge", "Seconds since the server started (scenario time).");
  x.sample("squall_fake_scenario_time_seconds", label, to_s(clock_.now()));
  x.family("squall_fake_build_info", "info", "The squall build serving: its version, and its git commit when known.");
  std::string build = with("version", squall_version);
  if (*squall_git_commit != '\0') {
    build += ",commit=\"";
    append_label_value(build, squall_git_commit);
    build += '"';
  }
  x.sample("squall_fake_build_info", build, 1.0);

  const std::string out = std::move(x).finish();
  header_list h{{"Content-Type", openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                             : "text/plain; version=0.0.4; charset=utf-8"}};
  s->send(response_head(200, h, out.size(), keep_alive) + out);
  s->complete_exchange(keep_alive);
}

}  // namespace squall::fake::detail
