// The endpoints of a fake provider that are not AI requests: the model list, Gemini's countTokens, the
// control API (/squall/faults) and the Prometheus metrics.
#include <cstdio>

#include "fake_providers/endpoint.hpp"
#include "policies/core/json_parse.hpp"

namespace squall::fake::detail {

void provider_endpoint::models(const std::shared_ptr<session>& s, bool keep_alive, std::string_view id) {
  const bool openai = api_ == api_style::openai;
  const bool gemini = api_ == api_style::gemini;
  auto entry = [&](const std::string& name) {
    if (gemini) {
      return json{{"name", "models/" + name},
                  {"version", "001"},
                  {"displayName", name},
                  {"inputTokenLimit", 1048576},
                  {"outputTokenLimit", options.output_tokens_max},
                  {"supportedGenerationMethods", {"generateContent", "countTokens"}}};
    }
    return openai ? json{{"id", name}, {"object", "model"}, {"created", 1700000000}, {"owned_by", "squall"}}
                  : json{{"type", "model"}, {"id", name}, {"display_name", name},
                         {"created_at", "2025-01-01T00:00:00Z"}};
  };
  const auto& list = model_->config().models;
  if (!id.empty()) {
    for (const auto& [name, price] : list) {
      if (name == id) return send_json(s, 200, dump_json(entry(name)), keep_alive, api_headers(next_request_id(), false));
    }
    if (gemini) {
      return send_error(s, keep_alive, error_spec{404, "models/" + std::string(id) + " is not found for API version v1beta.",
                                                  "", std::nullopt, std::nullopt});
    }
    error_spec e{404, openai ? "The model `" + std::string(id) + "` does not exist or you do not have access to it."
                             : "model: " + std::string(id),
                 "", std::nullopt, openai ? std::optional<std::string>("model_not_found") : std::nullopt};
    return send_error(s, keep_alive, e);
  }
  json data = json::array();
  for (const auto& [name, price] : list) data.push_back(entry(name));
  json body;
  if (gemini) {
    body = {{"models", data}};
  } else if (openai) {
    body = {{"object", "list"}, {"data", data}};
  } else {
    body = {{"data", data}, {"has_more", false}, {"first_id", list.front().first}, {"last_id", list.back().first}};
  }
  send_json(s, 200, dump_json(body), keep_alive, api_headers(next_request_id(), false));
}

void provider_endpoint::count_tokens(const std::shared_ptr<session>& s, http::request<http::string_body>& req,
                                     const ai_route& route) {
  const bool keep_alive = req.keep_alive();
  const request_limits limits{options.output_tokens_max, options.embedding_dims_default, options.embedding_inputs_max};
  parsed_request pr;
  gemini_request extra;
  if (auto e = read_gemini_request_body(req.body(), route.model, false, true, limits, pr, extra)) {
    return send_error(s, keep_alive, *e);
  }
  bool known = false;
  for (const auto& [name, price] : model_->config().models) known = known || name == pr.model;
  if (!known) {
    return send_error(s, keep_alive, error_spec{404, "models/" + pr.model + " is not found for API version v1beta, or is not "
                                                "supported for countTokens.", "", std::nullopt, std::nullopt});
  }
  const std::string n = std::to_string(pr.input_tokens);
  send_json(s, 200,
            R"({"totalTokens":)" + n + R"(,"promptTokensDetails":[{"modality":"TEXT","tokenCount":)" + n + "}]}",
            keep_alive);
}

void provider_endpoint::faults(const std::shared_ptr<session>& s, http::request<http::string_body>& req,
                               std::string_view query) {
  const bool keep_alive = req.keep_alive();
  const time_point now = clock_.now();
  auto answer = [&](int status, const json& body) { send_json(s, status, dump_json(body), keep_alive, {}, false); };
  switch (req.method()) {
    case http::verb::get:
      return answer(200, control_.list(model_->config().faults, now));
    case http::verb::post: {
      // squall's own API, so one error shape whatever the provider's: the message names the JSON path (or
      // the line and column of a body that is not JSON) and says what was expected.
      auto refuse = [&](const config_error& e) {
        return answer(400, json{{"error", {{"message", e.describe()}, {"type", "invalid_request_error"}, {"path", e.path}}}});
      };
      json_parse_limits limits;
      limits.depth_max = json_depth_max;
      auto body = parse_json_as<json>(req.body(), limits);
      if (!body) return refuse(body.error());
      auto armed = control_.arm(*body, now);
      if (!armed.ok()) return refuse(armed.error());
      model_->set_faults(control_.timeline());
      follow_timeline();
      return answer(201, *armed);
    }
    case http::verb::delete_: {
      const bool all = query.find("all=true") != std::string_view::npos || query.find("all=1") != std::string_view::npos;
      const std::size_t cleared = control_.clear(all);
      model_->set_faults(control_.timeline());
      follow_timeline();
      return answer(200, json{{"cleared", cleared}});
    }
    default: {
      error_spec e{405, "Method not allowed on /squall/faults; use GET, POST or DELETE", "", std::nullopt,
                   std::nullopt};
      return send_error(s, keep_alive, e);
    }
  }
}

void provider_endpoint::metrics(const std::shared_ptr<session>& s, bool keep_alive) {
  const std::string label = "provider=\"" + model_->config().name + "\"";
  std::string out;
  auto family = [&](std::string_view name, std::string_view type, std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
  };
  auto sample = [&](std::string_view name, const std::string& labels, double value) {
    char num[40];
    std::snprintf(num, sizeof num, "%.17g", value);
    out += name;
    out += '{';
    out += labels;
    out += "} ";
    out += num;
    out += '\n';
  };
  family("squall_fake_requests_total", "counter", "AI requests received (chat, embeddings, messages).");
  sample("squall_fake_requests_total", label, static_cast<double>(api_requests_));
  family("squall_fake_responses_total", "counter", "HTTP responses sent on the provider API, by status.");
  for (const auto& [status, n] : responses_) {
    sample("squall_fake_responses_total", label + ",status=\"" + std::to_string(status) + "\"",
           static_cast<double>(n));
  }
  family("squall_fake_in_flight", "gauge", "Requests in service, queued, hung or waiting out an error's latency.");
  sample("squall_fake_in_flight", label, static_cast<double>(busy_ + queue_.size() + hung_ + answering_));
  family("squall_fake_busy_slots", "gauge", "Requests in service.");
  sample("squall_fake_busy_slots", label, busy_);
  family("squall_fake_slots", "gauge", "Requests the provider serves at once.");
  sample("squall_fake_slots", label, model_->config().slots);
  family("squall_fake_queue_depth", "gauge", "Requests waiting for a slot.");
  sample("squall_fake_queue_depth", label, static_cast<double>(queue_.size()));
  family("squall_fake_hung", "gauge", "Requests held without an answer by a hang outage.");
  sample("squall_fake_hung", label, static_cast<double>(hung_));
  family("squall_fake_faults_injected_total", "counter",
         "Faults injected, by kind: an HTTP status, rate_limited, shed, refuse, reset, hang, malformed, "
         "stream_cut, error_event.");
  for (const auto& [kind, n] : faults_injected_) {
    sample("squall_fake_faults_injected_total", label + ",kind=\"" + kind + "\"", static_cast<double>(n));
  }
  family("squall_fake_tokens_total", "counter", "Tokens of served requests, billed.");
  sample("squall_fake_tokens_total", label + ",direction=\"input\"", static_cast<double>(input_tokens_));
  sample("squall_fake_tokens_total", label + ",direction=\"output\"", static_cast<double>(output_tokens_));
  family("squall_fake_cost_usd_total", "counter", "USD billed for served requests at the scenario's prices.");
  sample("squall_fake_cost_usd_total", label, cost_usd_);
  family("squall_fake_connections", "gauge", "Open client connections.");
  sample("squall_fake_connections", label, static_cast<double>(sessions.size()));
  family("squall_fake_connections_total", "counter", "Connections accepted.");
  sample("squall_fake_connections_total", label, static_cast<double>(connections_accepted_));
  family("squall_fake_connections_rejected_total", "counter", "Connections closed at once: over the limit.");
  sample("squall_fake_connections_rejected_total", label, static_cast<double>(connections_rejected_));
  family("squall_fake_bad_requests_total", "counter", "Requests that were not valid HTTP or were too large.");
  sample("squall_fake_bad_requests_total", label, static_cast<double>(bad_requests_));
  family("squall_fake_accept_backoffs_total", "counter",
         "Accepts that failed for want of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), each "
         "followed by a pause before the next.");
  sample("squall_fake_accept_backoffs_total", label, static_cast<double>(accept_backoffs_));
  if (tls_) {
    family("squall_fake_tls_handshake_failures_total", "counter",
           "TLS handshakes that failed: a client that does not trust the certificate, or that speaks plain HTTP.");
    sample("squall_fake_tls_handshake_failures_total", label, static_cast<double>(tls_handshake_failures_));
  }
  family("squall_fake_internal_errors_total", "counter",
         "Handlers that threw, by where (request, answer, read, write, idle, accept, timeline); each "
         "ended its exchange with a 500 or a reset, and the server went on.");
  for (const auto& [where, n] : internal_errors_) {
    sample("squall_fake_internal_errors_total", label + ",where=\"" + where + "\"", static_cast<double>(n));
  }
  family("squall_fake_scenario_time_seconds", "gauge", "Seconds since the server started (scenario time).");
  sample("squall_fake_scenario_time_seconds", label, to_s(clock_.now()));
  header_list h{{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}};
  s->send(response_head(200, h, out.size(), keep_alive) + out);
  s->complete_exchange(keep_alive);
}


}  // namespace squall::fake::detail
