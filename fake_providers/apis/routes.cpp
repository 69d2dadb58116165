#include "fake_providers/apis/routes.hpp"

namespace squall::fake::detail {

namespace {

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
  if (method == "generateContent") return ai_route{request_kind::generate_content, model, false};
  if (method == "streamGenerateContent") return ai_route{request_kind::generate_content, model, true};
  if (method == "countTokens") return ai_route{request_kind::count_tokens, model, false};
  return std::nullopt;
}

}  // namespace

std::optional<ai_route> route_ai_request(api_style api, std::string_view path) noexcept {
  switch (api) {
    case api_style::openai:
      if (path == "/v1/chat/completions") return ai_route{request_kind::chat};
      if (path == "/v1/embeddings") return ai_route{request_kind::embeddings};
      return std::nullopt;
    case api_style::anthropic:
      if (path == "/v1/messages") return ai_route{request_kind::messages};
      if (path == "/v1/messages/count_tokens") return ai_route{request_kind::count_tokens};
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
