#pragma once
// What differs between the fake providers' wire APIs once a request has been admitted: how a served
// answer is written, whole or as a stream. One unit per API endpoint (openai_chat.cpp,
// openai_embeddings.cpp, openai_responses.cpp, anthropic_messages.cpp, gemini_generate.cpp); the server core
// (ai_requests.cpp) runs a job's life
// (admission, slots, queue, timing, wire faults) the same way for all of them and asks the job's
// answer_format for the bytes.
//
// A table of plain functions rather than an interface: the formats have no state, a job points at one
// for its whole life, and a call costs an indirect jump, as a virtual one would, without an object.

#include <string>
#include <string_view>

#include "fake_providers/request_body.hpp"

namespace squall::fake::detail {

struct job;

struct answer_format {
  // The start of the answer's id ("chatcmpl-", "msg_"), before 16 hex digits.
  const char* id_prefix;
  // The whole body of a served (200) answer. May draw the answer's text from the job's generator.
  std::string (*body)(job& j);
  // Events sent right after a stream's head, before any token (may be empty).
  std::string (*stream_open)(const job& j);
  // The event carrying `text`, the next output tokens; j.tokens_sent counts the tokens sent before them.
  std::string (*stream_text)(const job& j, std::string_view text);
  // Events that end a stream that ran to the end.
  std::string (*stream_close)(const job& j);
  // A content event whose JSON does not parse: the malformed wire fault in a stream.
  std::string (*stream_malformed)(const job& j);
  // The event with which a provider reports an overload in the middle of a stream (the error_event fault).
  std::string (*stream_error)(const job& j);
};

extern const answer_format openai_chat_format;
extern const answer_format openai_embeddings_format;
extern const answer_format openai_responses_format;
extern const answer_format anthropic_messages_format;
extern const answer_format gemini_generate_format;

// The text of a served answer as its content fault has it (outage-free, whole-body answers): the job's
// output tokens as words; none for "empty"; for "invalid_json" the words inside JSON that never ends;
// "truncated" answers are words too, already cut to half their tokens with j.cut set.
std::string answer_text(job& j);
// The text of a stream's next `tokens` tokens, likewise (empty for "empty"; the first piece of an
// "invalid_json" answer opens the JSON that never ends).
std::string answer_piece(job& j, std::uint32_t tokens);

// The format of a request kind's answers.
const answer_format& answer_format_for(request_kind k) noexcept;

// The JSON object that the cut text of one keeps: the members (and items) complete in it, the open
// containers closed; "{}" when none is. Anthropic answers a tool_use that max_tokens cut with an `input`
// object, not with text as OpenAI's `arguments` are, and documents only that such a call is incomplete:
// the fake keeps what the model finished, which is what a client's partial-JSON parser makes of the
// streamed pieces, less the last unfinished value. Text that was not cut comes back unchanged.
std::string complete_json_prefix(std::string_view cut);

}  // namespace squall::fake::detail
