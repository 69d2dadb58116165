#pragma once
// What a production caller sends and what the provider answered: the payloads a call carries besides the
// numbers every policy reasons about. The simulation and the load generator run without them (the
// transport then synthesizes a prompt of request.input_tokens words); a production service always has them.
//
// Both are immutable once built and shared by pointer: every attempt, hedge, coalesced follower, cache
// entry and idempotency record holds the same bytes, so a stored answer comes back byte-identical, and no
// policy ever keeps a view of the caller's memory past the call.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace squall {

struct chat_message {
  std::string role;     // "system", "user", "assistant" (or any role the API takes)
  std::string content;  // plain text
};

struct call_payload {
  // A chat call: the transport writes the messages in the endpoint's wire format (an Anthropic endpoint
  // gets the system messages as its top-level "system").
  std::vector<chat_message> messages;
  std::optional<std::uint32_t> max_tokens;  // the caller's limit; none = the API's default (Anthropic, which
                                            // requires one: http_endpoint::max_tokens_default)
  std::optional<double> temperature;
  // Any other call: a JSON body sent exactly as given (the messages above are then ignored) to `path`
  // under the base URL ("/embeddings"); an empty path is the API's chat path.
  std::string raw_body;
  std::string path;
  // The text policies compare (exact-match keys, semantic-cache embeddings, trimming estimates): every
  // message's content joined by '\n', or the raw body. Filled by the builders below.
  std::string prompt;
};

using payload_ptr = std::shared_ptr<const call_payload>;

// Builders that fill `prompt` and return an immutable, shareable payload.
payload_ptr make_chat_payload(std::vector<chat_message> messages, std::optional<std::uint32_t> max_tokens = {},
                              std::optional<double> temperature = {});
payload_ptr make_raw_payload(std::string body, std::string path = {});
// The same payload with other messages (prompt trimming): everything else is kept.
payload_ptr with_messages(const call_payload& from, std::vector<chat_message> messages);

// What the provider answered, or why it failed. For a failure, error_type and error_message say what the
// provider (or the transport: "tls: certificate verify failed") said.
struct answer_payload {
  std::string text;           // the assistant's text: content blocks or stream deltas joined in order
  std::string finish_reason;  // "stop", "length", "end_turn", "max_tokens", ... as the provider named it
  std::string response_id;    // the provider's id of the answer ("chatcmpl-...", "msg_...")
  std::string error_type;
  std::string error_message;
  std::string body;           // the raw answer body; for a stream, the event bytes as received
};

using answer_ptr = std::shared_ptr<const answer_payload>;

// Rough token count of a text by the common rule of thumb (four characters a token, at least one token
// for non-empty text): what prompt trimming and budgets use when no tokenizer is at hand.
std::uint32_t estimate_tokens(std::string_view text) noexcept;

}  // namespace squall
