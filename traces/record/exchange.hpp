#pragma once
// What the recording proxy learns from one exchange, as pure functions of the bytes it relays, so that
// they are tested without a network and the proxy only moves bytes and reads the clock.
//
//  - From the request: the API (by path), the model, stream flag and prompt text (from the JSON body),
//    the request id and attempt number (x-squall-request-id / x-squall-attempt, else the official SDKs'
//    x-stainless-retry-count).
//  - From the answer: the status, kept headers (traces::is_kept_header), and from the body as it passes
//    (answer_watcher) the usage tokens, the first content token of a stream and the provider's error type.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/http/wire.hpp"
#include "traces/trace.hpp"

namespace squall::traces::record {

// The API a request path speaks: ".../messages" is Anthropic's, "...:generateContent" and
// "...:streamGenerateContent" Gemini's, everything else OpenAI's (chat/completions, completions,
// embeddings, responses).
api_kind api_for_path(std::string_view path) noexcept;

// The request path without its query string.
std::string_view path_of(std::string_view target) noexcept;

struct request_facts {
  std::string model;
  bool stream = false;
  std::optional<std::string> prompt;  // the prompt text; absent when the body names none
};

// What a Gemini path says that its body does not: the model ("/v1beta/models/gemini-2.0-flash:generateContent")
// and whether the answer streams (":streamGenerateContent"). Leaves `facts` alone for any other path.
void read_gemini_path(std::string_view path, request_facts& facts);

// Reads the JSON request body. The prompt text is every text the request sends as input, joined with
// '\n' in order: Anthropic's "system" (a string or text blocks), then each message's "content" (a
// string, or the "text" of its text parts); for /embeddings and /completions, "input" / "prompt" when
// it is a string or an array of strings. A single user message of plain text is thus the text itself,
// so its hash is the same one squall's live load generator writes. Not JSON: everything absent.
request_facts read_request_body(std::string_view body);

// The attempt identity a request carries, from its headers (names are case-insensitive in HTTP, values
// as sent). x-squall-attempt must be an integer from 1; x-stainless-retry-count (the number of retries
// before this one) gives attempt = count + 1. Values that are not numbers are ignored.
struct attempt_identity {
  std::string request_id;
  std::uint32_t attempt = 0;
};
attempt_identity read_identity(std::string_view squall_request_id, std::string_view squall_attempt,
                               std::string_view stainless_retry_count);

// Watches an answer's body as it is relayed. Streams (2xx, text/event-stream) go through the SSE reader
// and the API's stream decoder; other answers keep at most `body_bytes_max` bytes to decode (usage, error
// type) once they end. Memory is bounded by the SSE reader's line limit and `body_bytes_max`.
class answer_watcher {
 public:
  answer_watcher(api_kind api, int status, bool event_stream, std::size_t body_bytes_max = 1 << 20);

  // Bytes of the body as they pass. Returns true when these bytes carried the stream's first content
  // token (the caller reads its clock then).
  bool feed(std::string_view bytes);

  // The answer ended: `complete` when its body arrived whole (the framing said so), false when it was
  // cut (reset, EOF before the end). Fills status-dependent fields of `out`: tokens, error_type, outcome.
  void finish(bool complete, trace_attempt& out) const;

  bool streaming() const noexcept { return streaming_; }

 private:
  api_kind api_;
  int status_;
  bool streaming_;
  std::size_t body_bytes_max_;
  std::string body_;  // of a non-stream answer, at most body_bytes_max_
  bool body_overflow_ = false;
  sse_reader sse_;
  stream_decoder decoder_;
  bool malformed_ = false;  // a line too long or an event that was not the API's JSON
  bool first_content_seen_ = false;
};

}  // namespace squall::traces::record
