#pragma once
// Which AI endpoint a request path names, per wire API. The server core (fake_server.cpp) routes
// /healthz, /metrics, /squall/faults and /v1/models itself and asks this for the rest.
//
//   OpenAI style:     POST /v1/chat/completions, POST /v1/embeddings, POST /v1/responses, and Azure
//                     OpenAI's shapes of them:
//                       POST /openai/deployments/{deployment}/chat/completions?api-version=...
//                       POST /openai/deployments/{deployment}/embeddings?api-version=...
//                       POST /openai/responses?api-version=...   (where AzureOpenAI sends responses)
//                       POST /openai/v1/chat/completions, /openai/v1/embeddings, /openai/v1/responses
//                            (Azure's v1 API, which takes no api-version)
//   Anthropic style:  POST /v1/messages, POST /v1/messages/count_tokens
//   Gemini:           POST /v1beta/models/{model}:generateContent, :streamGenerateContent, :countTokens
//                     (and the same under /v1/, where @google/genai 3.x sends them)

#include <optional>
#include <string_view>

#include "fake_providers/request_body.hpp"
#include "fake_providers/wire_format.hpp"

namespace squall::fake::detail {

struct ai_route {
  request_kind kind = request_kind::chat;
  // The model named in the path: Azure's deployment or Gemini's model (a view into the path); empty when
  // the body names the model.
  std::string_view model{};
  // An Azure path that needs an api-version and has none: Azure answers 404 "Resource not found".
  bool api_version_missing = false;
  bool stream = false;  // Gemini's :streamGenerateContent
};

// nullopt: no AI endpoint of `api` has this path (a 404). `query`: the target's part after '?'.
std::optional<ai_route> route_ai_request(api_style api, std::string_view path, std::string_view query = {}) noexcept;

// Whether `query` (a=b&c=d) has the parameter `name` with a non-empty value.
bool has_query_value(std::string_view query, std::string_view name) noexcept;

// The body Azure answers a missing api-version with, in its own error envelope.
inline constexpr std::string_view azure_resource_not_found_body = R"({"error":{"code":"404","message":"Resource not found"}})";

// (Gemini's :countTokens is a count_tokens route, answered at once like Anthropic's.)
// Gemini's model listing: GET /v1beta/models (nullopt inside: the list) and /v1beta/models/{model}, and
// the same under /v1. nullopt: not a model path (a method such as :generateContent is one of route_ai_request's).
std::optional<std::optional<std::string_view>> route_gemini_models(std::string_view path) noexcept;

}  // namespace squall::fake::detail
