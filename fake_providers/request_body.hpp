#pragma once
// What the fake providers read from the JSON body of a chat, messages or embeddings request: the model,
// the prompt's tokens, max_tokens, streaming and embedding options; or the 400 the real API gives.
//
// Two readers give one answer. The tree reader (an nlohmann tree) validates everything and words its
// errors like the providers. The plain reader (simdjson, a parser reused per thread, no tree of
// allocations) handles the bodies clients send every time, and declines anything else (an error to
// report, a duplicate key, a value of an unexpected type, embeddings), which then goes to the tree
// reader. The tree was an eighth of the server's time under 10,000 connections, and nlohmann's SAX
// lexer still a seventh (bench/README.md). Tests check that wherever the plain reader answers, its
// answer is the tree reader's.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fake_providers/wire_format.hpp"

namespace squall::fake {

enum class request_kind : std::uint8_t { chat, embeddings, messages };

struct request_limits {
  std::uint32_t output_tokens_max = 128'000;  // a larger max_tokens is a 400
  std::uint32_t embedding_dims_default = 1536;
};

struct parsed_request {
  std::string model;
  std::uint32_t input_tokens = 0;
  std::optional<std::uint32_t> max_tokens;
  bool stream = false;
  bool include_usage = false;
  std::size_t embed_inputs = 1;
  std::uint32_t embed_dims = 0;
  bool embed_base64 = false;

  bool operator==(const parsed_request&) const = default;
};

// A 400 invalid_request_error with the message (and, for OpenAI, the param and code).
error_spec invalid_request(std::string message, std::optional<std::string> param = std::nullopt,
                           std::optional<std::string> code = std::nullopt);

// The plain reader, then the tree reader if it declines. nullopt: `out` holds the request.
std::optional<error_spec> read_request_body(api_style api, request_kind kind, std::string_view body,
                                            const request_limits& limits, parsed_request& out);

// Each reader alone, for the tests. read_plain_request_body returns false when it declines; `out` is
// then unspecified.
std::optional<error_spec> read_request_body_tree(api_style api, request_kind kind, std::string_view body,
                                                 const request_limits& limits, parsed_request& out);
bool read_plain_request_body(api_style api, request_kind kind, std::string_view body, const request_limits& limits,
                             parsed_request& out);

}  // namespace squall::fake
