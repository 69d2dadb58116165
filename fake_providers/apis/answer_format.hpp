#pragma once
// What differs between the fake providers' wire APIs once a request has been admitted: how a served
// answer is written, whole or as a stream. One unit per API endpoint (openai_chat.cpp,
// openai_embeddings.cpp, anthropic_messages.cpp); the server core (ai_requests.cpp) runs a job's life
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
extern const answer_format anthropic_messages_format;

// The text of a served answer as its content fault has it (outage-free, whole-body answers): the job's
// output tokens as words; none for "empty"; for "invalid_json" the words inside JSON that never ends;
// "truncated" answers are words too, already cut to half their tokens with j.cut set.
std::string answer_text(job& j);
// The text of a stream's next `tokens` tokens, likewise (empty for "empty"; the first piece of an
// "invalid_json" answer opens the JSON that never ends).
std::string answer_piece(job& j, std::uint32_t tokens);

// The format of a request kind's answers.
const answer_format& answer_format_for(request_kind k) noexcept;

}  // namespace squall::fake::detail
