#pragma once
// Which AI endpoint a request path names, per wire API. The server core (fake_server.cpp) routes
// /healthz, /metrics, /squall/faults and /v1/models itself and asks this for the rest.
//
//   OpenAI style:     POST /v1/chat/completions, POST /v1/embeddings
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
  // Gemini names the model and the method in the path; the other APIs leave these as they are.
  std::string_view model{};  // a view into the path; empty when the body names the model
  bool stream = false;       // :streamGenerateContent
};

// nullopt: no AI endpoint of `api` has this path (a 404).
std::optional<ai_route> route_ai_request(api_style api, std::string_view path) noexcept;

// (Gemini's :countTokens is a count_tokens route, answered at once like Anthropic's.)
// Gemini's model listing: GET /v1beta/models (nullopt inside: the list) and /v1beta/models/{model}, and
// the same under /v1. nullopt: not a model path (a method such as :generateContent is one of route_ai_request's).
std::optional<std::optional<std::string_view>> route_gemini_models(std::string_view path) noexcept;

}  // namespace squall::fake::detail
