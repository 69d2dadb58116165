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

// count_tokens: Anthropic's /v1/messages/count_tokens, a messages body without max_tokens, answered at
// once with the input tokens a messages request with that body is billed for.
enum class request_kind : std::uint8_t { chat, embeddings, messages, count_tokens };

// Objects and arrays nested deeper than this in a body are a 400 (json_parse_limits::depth_max): both
// readers refuse them while parsing, so no deep body is walked recursively or overflows the stack.
inline constexpr std::size_t json_depth_max = 64;

struct request_limits {
  std::uint32_t output_tokens_max = 128'000;  // a larger max_tokens is a 400
  std::uint32_t embedding_dims_default = 1536;
  std::size_t embedding_inputs_max = 2048;    // OpenAI's limit on the items of an embeddings "input"
  // A body with more JSON values (numbers, strings, arrays, ...) is a 400 before any tree is built: a
  // 4 MiB body of two million tokens made a tree of 100 MB. OpenAI takes 300,000 tokens per embeddings
  // request at most, so no real request comes near.
  std::size_t json_values_max = 500'000;
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
  // The texts of a string or array-of-strings "input", in order; empty for token arrays (their vectors
  // are then drawn at random). Each answer vector is a function of its text (wire_format.hpp).
  std::vector<std::string> embed_texts;

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
