// The endpoints of a fake provider that are not AI requests, apart from /metrics: the model list, Gemini's
// countTokens and the control API (/squall/faults).
#include <algorithm>
#include <charconv>

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

void provider_endpoint::gemini_count_tokens(const std::shared_ptr<session>& s, http::request<http::string_body>& req,
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

void provider_endpoint::fault_by_id(const std::shared_ptr<session>& s, const http::request<http::string_body>& req,
                                    std::string_view id) {
  const bool keep_alive = req.keep_alive();
  // In the provider's error shape, as its SDK parses errors; not counted as provider API answers.
  auto refuse = [&](int status, std::string message, header_list h = {}) {
    const std::string request_id = next_request_id();
    header_list headers = api_headers(request_id, false);
    headers.insert(headers.end(), h.begin(), h.end());
    const error_spec e{status, std::move(message), "", std::nullopt, std::nullopt};
    send_json(s, status, error_body(api_, e, api_ == api_style::anthropic ? request_id : ""), keep_alive, headers,
              false);
  };
  if (req.method() != http::verb::delete_) {
    return refuse(405, "Method " + std::string(req.method_string()) + " not allowed on /squall/faults/{id}; use DELETE",
                  {{"Allow", "DELETE"}});
  }
  const bool digits = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
  const std::string shown = id.size() <= 64 ? std::string(id) : std::string(id.substr(0, 64)) + "...";
  if (!digits) {
    return refuse(400, "The fault id '" + shown + "' is not a number; DELETE /squall/faults/{id} takes the id that "
                       "POST /squall/faults answered (GET /squall/faults lists them)");
  }
  std::uint64_t n = 0;
  const bool in_range = std::from_chars(id.data(), id.data() + id.size(), n).ec == std::errc{};
  std::optional<json> removed = in_range ? control_.remove(n) : std::nullopt;  // beyond 2^64 - 1: no such id
  if (!removed) {
    return refuse(404, "No armed fault window has id " + shown + " (GET /squall/faults lists the armed ones)");
  }
  // At once, as after POST: the model takes the new timeline and the follower its next boundary (a
  // refuse window that goes reopens the listener now).
  model_->set_faults(control_.timeline());
  follow_timeline();
  send_json(s, 200, dump_json(json{{"deleted", std::move(*removed)}}), keep_alive, {}, false);
}

}  // namespace squall::fake::detail
