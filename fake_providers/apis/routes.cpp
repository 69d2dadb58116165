#include "fake_providers/apis/routes.hpp"

namespace squall::fake::detail {

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
  }
  return std::nullopt;
}

}  // namespace squall::fake::detail
