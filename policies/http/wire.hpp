#pragma once
// The OpenAI, Anthropic and Gemini wire formats, as pure functions and a small incremental SSE reader, so that
// they are tested without a network and the transport only moves bytes.
//
//   OpenAI     POST {base}/chat/completions  {"model", "messages": [{"role":"user","content":...}],
//              "max_tokens", "stream", "stream_options": {"include_usage": true}}
//              answer: {"choices":[{"message":{"content":...}}], "usage":{"prompt_tokens","completion_tokens"}}
//              stream: data: {"choices":[{"delta":{"content":"..."}}]} ... data: {usage} ... data: [DONE]
//   Anthropic  POST {base}/messages  {"model", "max_tokens", "messages": [...], "stream"}
//              answer: {"content":[{"type":"text","text":...}], "usage":{"input_tokens","output_tokens"}}
//              stream: event: message_start / content_block_delta / message_delta / message_stop / error
//   Gemini     POST {base}/v1beta/models/{model}:generateContent  {"contents": [{"role":"user","parts":[{"text":...}]}],
//              "generationConfig": {"maxOutputTokens"}}; streams at :streamGenerateContent?alt=sse
//              answer: {"candidates":[{"content":{"parts":[{"text"}]},"finishReason"}],
//                       "usageMetadata":{"promptTokenCount","candidatesTokenCount"},"modelVersion","responseId"}
//              stream: data: {one such answer} ...; the one with a finishReason is the last (no terminator)
//   Errors     {"error": {"type": ..., "code": ...}} (OpenAI), {"type":"error","error":{"type": ...}}, or
//              Google's {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [RetryInfo...]}}

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace squall {

enum class api_kind : std::uint8_t { openai, anthropic, gemini };

std::string_view to_string(api_kind api) noexcept;
std::optional<api_kind> api_kind_from_string(std::string_view name) noexcept;

// The path appended to an endpoint's base URL. Gemini's names the model and the method after it
// (gemini_request_path).
std::string_view request_path(api_kind api) noexcept;
// "/v1beta/models/{model}:generateContent", or ":streamGenerateContent?alt=sse" when `stream`; the model's
// name percent-encoded where it holds characters a path segment may not.
std::string gemini_request_path(std::string_view model, bool stream);

// Deterministic prompt text of about `tokens` tokens: common four-letter English words (one token each in
// the OpenAI and Anthropic tokenizers), chosen from `seed` so that different requests differ.
std::string prompt_text(std::uint32_t tokens, std::uint64_t seed);

// The JSON body of one attempt.
std::string encode_request(api_kind api, std::string_view model, std::uint32_t input_tokens,
                           std::uint32_t output_tokens, bool stream, std::uint64_t seed);

// What a complete (non-streaming) answer said. `valid` is false when the body is not the expected JSON
// (a chat answer: an object with "choices" or "content"); `object` says whether it is a JSON object at all,
// which is all a raw call to another endpoint (embeddings) needs. Usage is read either way.
struct decoded_answer {
  bool valid = false;
  bool object = false;
  std::optional<std::uint32_t> input_tokens;
  std::optional<std::uint32_t> output_tokens;
  std::string model;
};
decoded_answer decode_answer(api_kind api, std::string_view body);
// The same by nlohmann's SAX reader alone: what decode_answer falls back to, and what tests compare it with.
decoded_answer decode_answer_by_tree_rules(api_kind api, std::string_view body);

// The provider's error type from an error body ("rate_limit_error", "insufficient_quota", Gemini's status
// "RESOURCE_EXHAUSTED", ...), else empty. OpenAI's `code` wins over its `type` when it names a quota or
// billing problem.
std::string decode_error_type(std::string_view body);

// The wait a Gemini error asks for before a retry: its RetryInfo detail's retryDelay ("43s", "1.500s"),
// in seconds; nothing when the body has none.
std::optional<double> decode_retry_delay_s(std::string_view body);

// The HTTP status a provider uses for an error type, for errors that arrive inside a 200 stream (so that
// they classify like the same error sent as a status). Unknown types count as 500.
int status_for_error_type(std::string_view error_type) noexcept;

// Splits a text/event-stream into events. Feed it bytes as they come; lines longer than `line_max`
// make it fail (a stream that never ends a line must not grow memory).
class sse_reader {
 public:
  struct event {
    std::string name;  // "" when the stream named none ("message")
    std::string data;  // data lines joined by '\n'
  };

  explicit sse_reader(std::size_t line_max = 1 << 20) : line_max_(line_max) {}

  // Appends bytes; returns false once the stream is malformed (too long a line).
  bool feed(std::string_view bytes);
  // The next complete event, if one is ready.
  std::optional<event> next();

 private:
  void take_line(std::string_view line);

  std::size_t line_max_;
  std::string pending_;  // bytes of the line being read
  event building_;
  bool has_data_ = false;
  bool after_cr_ = false;  // a '\r' ended the last line: a '\n' right after it ends nothing
  bool failed_ = false;
  std::deque<event> ready_;  // complete events; bounded by what one feed() holds
};

// Interprets the events of one streamed answer.
class stream_decoder {
 public:
  // With `collect_text`, it also keeps the answer's text, finish reason, id and error message (a
  // production call that carries a payload); without, it keeps only what the numbers need.
  explicit stream_decoder(api_kind api, bool collect_text = false) : api_(api), collect_(collect_text) {}

  // Returns false when an event's data is not the expected JSON (a malformed stream).
  bool on_event(const sse_reader::event& e);

  bool saw_content() const noexcept { return content_; }   // a non-empty content delta arrived
  bool done() const noexcept { return done_; }              // [DONE], message_stop, or Gemini's finishReason
  const std::string& error_type() const noexcept { return error_type_; }  // an error event's type
  bool errored() const noexcept { return errored_; }
  std::optional<std::uint32_t> input_tokens() const noexcept { return input_tokens_; }
  std::optional<std::uint32_t> output_tokens() const noexcept { return output_tokens_; }
  const std::string& model() const noexcept { return model_; }
  // Only with collect_text:
  const std::string& text() const noexcept { return text_; }
  const std::string& finish_reason() const noexcept { return finish_reason_; }
  const std::string& response_id() const noexcept { return response_id_; }
  const std::string& error_message() const noexcept { return error_message_; }

 private:
  bool on_gemini_event(const sse_reader::event& e);

  api_kind api_;
  bool collect_ = false;
  std::string text_, finish_reason_, response_id_, error_message_;
  bool content_ = false;
  bool done_ = false;
  bool errored_ = false;
  std::string error_type_;
  std::optional<std::uint32_t> input_tokens_;
  std::optional<std::uint32_t> output_tokens_;
  std::string model_;
};

}  // namespace squall
