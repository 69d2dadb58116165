#include "fake_providers/apis/routes.hpp"

namespace squall::fake::detail {
namespace {

// The OpenAI endpoint under a prefix ("/v1", "/openai/v1", a deployment's), by the path's rest.
std::optional<request_kind> openai_endpoint(std::string_view rest) noexcept {
  if (rest == "/chat/completions") return request_kind::chat;
  if (rest == "/embeddings") return request_kind::embeddings;
  if (rest == "/responses") return request_kind::responses;
  return std::nullopt;
}

bool starts_with(std::string_view s, std::string_view prefix) noexcept { return s.substr(0, prefix.size()) == prefix; }

std::optional<ai_route> openai_route(std::string_view path, std::string_view query) noexcept {
  constexpr std::string_view v1 = "/v1";
  constexpr std::string_view azure_v1 = "/openai/v1";
  constexpr std::string_view deployments = "/openai/deployments/";
  if (starts_with(path, v1)) {
    if (const auto k = openai_endpoint(path.substr(v1.size()))) return ai_route{*k, {}, false, false};
    return std::nullopt;
  }
  if (starts_with(path, azure_v1)) {
    if (const auto k = openai_endpoint(path.substr(azure_v1.size()))) return ai_route{*k, {}, false, false};
    return std::nullopt;
  }
  const bool versioned = has_query_value(query, "api-version");
  if (starts_with(path, deployments)) {
    const std::string_view rest = path.substr(deployments.size());
    const std::size_t slash = rest.find('/');
    if (slash == 0 || slash == std::string_view::npos) return std::nullopt;
    const auto k = openai_endpoint(rest.substr(slash));
    // Azure serves responses at /openai/responses, not under a deployment.
    if (!k || *k == request_kind::responses) return std::nullopt;
    return ai_route{*k, rest.substr(0, slash), !versioned, false};
  }
  if (path == "/openai/responses") return ai_route{request_kind::responses, {}, !versioned, false};
  return std::nullopt;
}

// Both API versions: the Python SDK and the REST examples use v1beta, @google/genai 3.x v1.
std::optional<std::string_view> after_models_prefix(std::string_view path) noexcept {
  for (const std::string_view prefix : {std::string_view("/v1beta/models/"), std::string_view("/v1/models/")}) {
    if (path.starts_with(prefix)) return path.substr(prefix.size());
  }
  return std::nullopt;
}

// /v1beta/models/{model}:{method}. The SDKs put the model's name in the path as the caller wrote it
// ("gemini-2.0-flash", or "models/gemini-2.0-flash" which the prefix already covers).
std::optional<ai_route> route_gemini(std::string_view path) noexcept {
  const std::optional<std::string_view> after = after_models_prefix(path);
  if (!after) return std::nullopt;
  const std::string_view rest = *after;
  const std::size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::string_view model = rest.substr(0, colon);
  const std::string_view method = rest.substr(colon + 1);
  if (model.find('/') != std::string_view::npos) return std::nullopt;
  if (method == "generateContent") return ai_route{request_kind::generate_content, model, false, false};
  if (method == "streamGenerateContent") return ai_route{request_kind::generate_content, model, false, true};
  if (method == "countTokens") return ai_route{request_kind::count_tokens, model, false, false};
  return std::nullopt;
}

}  // namespace

bool has_query_value(std::string_view query, std::string_view name) noexcept {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name && eq + 1 < pair.size()) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

std::optional<ai_route> route_ai_request(api_style api, std::string_view path, std::string_view query) noexcept {
  switch (api) {
    case api_style::openai:
      return openai_route(path, query);
    case api_style::anthropic:
      if (path == "/v1/messages") return ai_route{request_kind::messages, {}, false, false};
      if (path == "/v1/messages/count_tokens") return ai_route{request_kind::count_tokens, {}, false, false};
      return std::nullopt;
    case api_style::gemini:
      return route_gemini(path);
  }
  return std::nullopt;
}

std::optional<std::optional<std::string_view>> route_gemini_models(std::string_view path) noexcept {
  if (path == "/v1beta/models" || path == "/v1/models") return std::optional<std::string_view>{};
  const std::optional<std::string_view> after = after_models_prefix(path);
  if (!after) return std::nullopt;
  const std::string_view id = *after;
  if (id.empty()) return std::optional<std::string_view>{};
  if (id.find(':') != std::string_view::npos || id.find('/') != std::string_view::npos) return std::nullopt;
  return std::optional<std::string_view>{id};
}

}  // namespace squall::fake::detail
