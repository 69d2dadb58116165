// Anthropic's POST /v1/messages/count_tokens: the body of a messages request (max_tokens not needed),
// answered at once with {"input_tokens": N}, the count a messages request with that body is billed for
// (the same reader counts both). It is not an AI attempt: no slot, no fault draw, no bill, no attempt log
// record; a provider that is down (a refuse outage) has no listener for it either.
#include "fake_providers/endpoint.hpp"

namespace squall::fake::detail {

void provider_endpoint::count_tokens(const std::shared_ptr<session>& s, http::request<http::string_body>& req) {
  const bool keep_alive = req.keep_alive();
  parsed_request pr;
  const request_limits limits{options.output_tokens_max, options.embedding_dims_default, options.embedding_inputs_max};
  if (auto e = read_request_body(api_, request_kind::count_tokens, req.body(), limits, pr)) {
    return send_error(s, keep_alive, *e);
  }
  if (!model_->find_model(pr.model)) {
    return send_error(s, keep_alive, error_spec{404, "model: " + pr.model, "not_found_error", std::nullopt, std::nullopt});
  }
  send_json(s, 200, R"({"input_tokens":)" + std::to_string(pr.input_tokens) + "}", keep_alive,
            api_headers(next_request_id(), false));
}

}  // namespace squall::fake::detail
