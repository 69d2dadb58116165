// Anthropic's messages answer: POST /v1/messages, as a message object or its event stream
// (message_start, content_block_start, ping, content_block_delta..., content_block_stop, message_delta,
// message_stop).
#include "fake_providers/apis/answer_format.hpp"
#include "fake_providers/endpoint.hpp"
#include "policies/core/json_text.hpp"

namespace squall::fake::detail {
namespace {

const char* stop_reason(const job& j) { return j.cut ? "max_tokens" : "end_turn"; }

std::string body(job& j) {
  const std::string text = answer_text(j);
  std::string b;
  b.reserve(text.size() + j.req.model.size() + 400);
  b += R"({"id":")";
  b += j.object_id;
  b += R"(","type":"message","role":"assistant","model":)";
  append_json_string(b, j.req.model);
  b += R"(,"content":[{"type":"text","text":)";
  append_json_string(b, text);
  b += R"(}],"stop_reason":")";
  b += stop_reason(j);
  b += R"(","stop_sequence":null,"usage":{"input_tokens":)";
  b += std::to_string(j.req.input_tokens);
  b += R"(,"output_tokens":)";
  b += std::to_string(j.req.output_tokens);
  b += R"(,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}})";
  return b;
}

std::string stream_open(const job& j) {
  std::string start = R"({"type":"message_start","message":{"id":")";
  start += j.object_id;
  start += R"(","type":"message","role":"assistant","content":[],"model":)";
  append_json_string(start, j.req.model);
  start += R"(,"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":)";
  start += std::to_string(j.req.input_tokens);
  start += R"(,"output_tokens":1}}})";
  return sse("message_start", start) +
         sse("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})") +
         sse("ping", R"({"type": "ping"})");
}

std::string stream_text(const job&, std::string_view text) {
  std::string event = R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":)";
  append_json_string(event, text);
  event += "}}";
  return sse("content_block_delta", event);
}

std::string stream_close(const job& j) {
  return sse("content_block_stop", R"({"type":"content_block_stop","index":0})") +
         sse("message_delta",
             R"({"type":"message_delta","delta":{"stop_reason":")" + std::string(stop_reason(j)) +
                 R"(","stop_sequence":null},"usage":{"output_tokens":)" +
                 std::to_string(j.req.output_tokens) + "}}") +
         sse("message_stop", R"({"type":"message_stop"})");
}

std::string stream_malformed(const job&) {
  return sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" tru)");
}

// Anthropic reports an overload in the middle of a stream with an "error" event.
std::string stream_error(const job&) {
  return sse("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
}

}  // namespace

const answer_format anthropic_messages_format{"msg_", body, stream_open, stream_text, stream_close, stream_malformed,
                                              stream_error};

}  // namespace squall::fake::detail
