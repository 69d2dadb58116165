#pragma once
// Which AI endpoint a request path names, per wire API. The server core (fake_server.cpp) routes
// /healthz, /metrics, /squall/faults and /v1/models itself and asks this for the rest.
//
//   OpenAI style:     POST /v1/chat/completions, POST /v1/embeddings
//   Anthropic style:  POST /v1/messages, POST /v1/messages/count_tokens

#include <optional>
#include <string_view>

#include "fake_providers/request_body.hpp"
#include "fake_providers/wire_format.hpp"

namespace squall::fake::detail {

struct ai_route {
  request_kind kind = request_kind::chat;
};

// nullopt: no AI endpoint of `api` has this path (a 404).
std::optional<ai_route> route_ai_request(api_style api, std::string_view path) noexcept;

}  // namespace squall::fake::detail
