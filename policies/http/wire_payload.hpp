#pragma once
// The wire formats of production calls: a caller's payload written as the endpoint's request body, and
// the provider's answer (text, finish reason, id) or error (type and message) read back into an
// answer_payload. Pure functions, tested without a network (tests/policies/http/wire_payload_test.cpp).
//
//   OpenAI     {"model", "messages": [{"role", "content"}...], "max_tokens"?, "temperature"?, "stream",
//              "stream_options"?}; the answer's text is choices[0].message.content, its finish reason
//              choices[0].finish_reason, its id "id".
//   Anthropic  {"model", "max_tokens", "system"?, "messages": [...], "temperature"?, "stream"}: system
//              messages become the top-level "system" (joined by blank lines); the answer's text is its
//              "text" content blocks joined, its finish reason "stop_reason", its id "id".
//   Gemini     {"systemInstruction"?: {"parts": [{"text"}]}, "contents": [{"role": "user" | "model", "parts":
//              [{"text"}]}...], "generationConfig"?: {"maxOutputTokens", "temperature"}}: system messages
//              become the systemInstruction, "assistant" turns the "model" role; the answer's text is the
//              first candidate's text parts joined, its finish reason "finishReason", its id "responseId".
//   Errors     OpenAI {"error": {"type", "code", "message"}}; Anthropic {"type":"error","error":{"type","message"}};
//              Gemini {"error": {"code", "message", "status"}} (the status is the error type)

#include <cstdint>
#include <string>
#include <string_view>

#include "policies/core/payload.hpp"
#include "policies/http/wire.hpp"

namespace squall {

// The body of a chat call. `max_tokens_default` is used when the payload names no limit and the API
// requires one (Anthropic); OpenAI and Gemini then get none (the model's own limit applies).
std::string encode_payload_request(api_kind api, std::string_view model, const call_payload& payload,
                                   std::uint32_t max_tokens_default, bool stream);

// Fills text, finish_reason and response_id from a complete answer. Returns false when the body is not
// the expected JSON.
bool read_answer_text(api_kind api, std::string_view body, answer_payload& out);
// The same by an nlohmann tree alone (policies/core/json_parse.hpp's rules: a repeated key or deep
// nesting refuses the body): what read_answer_text falls back to, and what tests compare it with.
bool read_answer_text_by_tree_rules(api_kind api, std::string_view body, answer_payload& out);

// Fills error_type and error_message from an error body; leaves them empty when it has none.
void read_error_text(std::string_view body, answer_payload& out);

}  // namespace squall
