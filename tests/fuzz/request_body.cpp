// The fake providers' request readers. The first byte picks the API style and endpoint (chat, embeddings,
// messages, count_tokens or responses, for OpenAI and Anthropic alike: a wrong pairing must be an error, not a crash);
// the rest is the body. request_body.hpp promises that wherever the plain reader answers, its answer is the tree
// reader's, so every input is read three ways and the answers compared. Error answers are rendered the way
// the server sends them (error_body), since their messages quote the body. A body that shapes the answer
// (tools, tool_choice, an output format; Anthropic's tools and tool_choice) is then answered by the content
// generator, as the server would, the cut-tool_use reader (complete_json_prefix) reads the body,
// and the body is also routed as a path and query (Azure's deployments and api-version).

#include <cstddef>
#include <cstdint>
#include <string>

#include "fake_providers/apis/anthropic_tools_request.hpp"
#include "fake_providers/apis/answer_format.hpp"
#include "fake_providers/apis/openai_tools_request.hpp"
#include "fake_providers/apis/routes.hpp"
#include "fake_providers/request_body.hpp"
#include "fake_providers/wire_format.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using squall::fake::api_style;
using squall::fake::parsed_request;
using squall::fake::request_kind;

std::string describe(const parsed_request& r) {
  return "model=" + r.model + " input_tokens=" + std::to_string(r.input_tokens) +
         " max_tokens=" + (r.max_tokens ? std::to_string(*r.max_tokens) : "none") + " stream=" +
         std::to_string(r.stream) + " include_usage=" + std::to_string(r.include_usage) +
         " embed_inputs=" + std::to_string(r.embed_inputs) + " embed_dims=" + std::to_string(r.embed_dims) +
         " embed_base64=" + std::to_string(r.embed_base64);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const api_style api = (data[0] & 1) != 0 ? api_style::anthropic : api_style::openai;
  const request_kind kind = static_cast<request_kind>((data[0] >> 1) % 5);
  const auto body = squall::fuzz::as_text(data + 1, size - 1);
  const squall::fake::request_limits limits;

  parsed_request plain;
  const bool answered = squall::fake::read_plain_request_body(api, kind, body, limits, plain);
  parsed_request tree;
  const auto tree_error = squall::fake::read_request_body_tree(api, kind, body, limits, tree);
  parsed_request both;
  const auto error = squall::fake::read_request_body(api, kind, body, limits, both);

  if (tree_error) (void)squall::fake::error_body(api, *tree_error, "req_fuzz");
  if (error) (void)squall::fake::error_body(api, *error, "req_fuzz");

  if (answered) {
    if (tree_error) {
      squall::fuzz::broken_promise("the plain reader took a body the tree reader refuses",
                                   tree_error->message + "\nplain: " + describe(plain));
    }
    if (!(plain == tree)) {
      squall::fuzz::broken_promise("the plain reader and the tree reader disagree",
                                   "plain: " + describe(plain) + "\ntree:  " + describe(tree));
    }
  }
  // read_request_body is the plain reader, then the tree reader: its answer is the tree reader's.
  if (error.has_value() != tree_error.has_value() || (!error && !(both == tree))) {
    squall::fuzz::broken_promise("read_request_body differs from the tree reader",
                                 "combined: " + (error ? error->message : describe(both)) +
                                     "\ntree:     " + (tree_error ? tree_error->message : describe(tree)));
  }
  const bool shaped_kind = kind == request_kind::chat || kind == request_kind::responses;
  if (!error && api == api_style::openai && shaped_kind) {
    const auto ask = squall::fake::content_request_of(
        both.shape, kind == request_kind::chat ? squall::fake::tool_shape::chat : squall::fake::tool_shape::responses);
    squall::rng r(size);
    (void)squall::fake::content::answer(ask, r);
  }
  if (!error && api == api_style::anthropic && kind == request_kind::messages) {
    const auto ask = squall::fake::messages_content_request_of(both.shape);
    squall::rng r(size);
    (void)squall::fake::content::answer(ask, r);
  }
  // What a tool_use cut by max_tokens keeps: text the generator made, but it must not trip on any prefix.
  (void)squall::fake::detail::complete_json_prefix(body);
  const std::size_t q = body.find('?');
  (void)squall::fake::detail::route_ai_request(api, body.substr(0, q),
                                               q == std::string_view::npos ? std::string_view{} : body.substr(q + 1));
  return 0;
}
