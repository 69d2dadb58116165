#pragma once
// The OpenAI, Anthropic and Gemini wire formats as the fake providers speak them: response heads, JSON bodies,
// error bodies, server-sent events, rate-limit headers, and the fake's token counting and text.
// Plain functions of their arguments (no clock, no sockets), so they are tested on their own.
//
// Token counting: one token is one whitespace-separated word. A load generator that wants N input
// tokens sends N words; a response of N output tokens is N words. Real tokenisers differ, but this rule
// is exact and invertible, which is what a test harness needs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "policies/core/rng.hpp"
#include "sim/provider/provider_config.hpp"

namespace squall::fake {

using json = nlohmann::json;

enum class api_style : std::uint8_t { openai, anthropic, gemini };

api_style api_of(std::string_view api) noexcept;

using header_list = std::vector<std::pair<std::string, std::string>>;

std::string_view status_reason(int status) noexcept;

// "HTTP/1.1 <status> <reason>\r\n<headers>\r\n". With content_length, a Content-Length header; without,
// Transfer-Encoding: chunked.
std::string response_head(int status, const header_list& headers, std::optional<std::size_t> content_length,
                          bool keep_alive);
// The same head appended to `out`, after a Content-Type header unless `content_type` is empty: an answer
// is then one string, head and body, without a copy of either.
void append_response_head(std::string& out, int status, std::string_view content_type, const header_list& headers,
                          std::optional<std::size_t> content_length, bool keep_alive);
// One chunk of a chunked body; the empty string ends the body.
std::string chunk(std::string_view data);

// Error bodies. OpenAI: {"error":{"message","type","param","code"}}. Anthropic:
// {"type":"error","error":{"type","message"},"request_id"}. Gemini (Google's API error):
// {"error":{"code":<status>,"message","status":"RESOURCE_EXHAUSTED"...,"details":[...]}}.
struct error_spec {
  int status = 500;
  std::string message;
  std::string type;                  // empty: the provider's usual type for the status (Gemini: its "status")
  std::optional<std::string> param;  // OpenAI only
  std::optional<std::string> code;   // OpenAI only; empty: the usual code for the status, if any
};
// `retry_delay_s`: Gemini carries the wait in the body (a google.rpc.RetryInfo detail, "retryDelay": "2s"),
// not in a header; the other APIs ignore it.
std::string error_body(api_style api, const error_spec& e, std::string_view request_id,
                       std::optional<double> retry_delay_s = std::nullopt);
// The error a real provider writes for a named kind (sim::error_kinds): its status, type, message and
// (OpenAI) code, so that squall's classifier gives it the class the simulation gives it.
error_spec error_for_kind(api_style api, sim::error_kind kind);
// The usual error type and message for an injected status.
std::string default_error_type(api_style api, int status);
std::string default_error_message(api_style api, int status);

// Counts words in every string a request carries as prompt text (message contents as strings or as
// text parts, Anthropic's system prompt, embedding inputs).
std::uint32_t count_words(std::string_view text) noexcept;
std::uint32_t count_prompt_tokens(const json& value) noexcept;

// `tokens` words from a small vocabulary, each with a leading space, drawn from `r`.
std::string generate_words(rng& r, std::uint32_t tokens);

// Embedding vector of `dims` floats, deterministic in `r`, unit length.
std::vector<float> embedding_vector(rng& r, std::uint32_t dims);
// The embedding of `text`, `dims` floats of unit length: texts with the same words (case and punctuation
// aside) give the same vector, and texts that share words and character trigrams are close. 95% of its
// energy is squall's lexical embedding (policies/core/text_embedding.hpp) spread over `dims` with
// pseudo-random signs, 5% a dense random part seeded by the normalised text (so every component has
// digits and an answer is as large as a real one): cosine similarities are about 0.95 times the lexical
// ones. Real models capture meaning; this fake one is what lets a test see a semantic cache hit a reworded
// prompt and miss an unrelated one through a real embeddings endpoint.
std::vector<float> text_embedding_vector(std::string_view text, std::uint32_t dims);
// Little-endian float32 array in base64, as OpenAI's encoding_format "base64".
std::string base64_floats(const std::vector<float>& v);
// `v` as a JSON array of numbers, each in the shortest text that reads back as the same float ("0.0123",
// "-1.5e-05"), as the real API writes them; a float written through a double took 17 digits.
void append_float_array(std::string& out, const std::vector<float>& v);
// At most how many bytes an embeddings answer of `inputs` vectors of `dims` takes, model name aside:
// checked against the answer limit before anything is built.
std::size_t embeddings_answer_bytes_bound(std::size_t inputs, std::uint32_t dims, bool base64) noexcept;

// "2s", "0.250s": a google.protobuf.Duration in JSON, as Gemini's RetryInfo.retryDelay (whole
// milliseconds, rounded up).
std::string protobuf_duration(double seconds);

// "6m0s", "1.5s", "20ms": the duration format of OpenAI's x-ratelimit-reset-* headers.
std::string go_duration(double seconds);

// A server-sent event: "event: <name>\ndata: <data>\n\n", or "data: <data>\n\n" without a name.
std::string sse(std::string_view event, std::string_view data);

}  // namespace squall::fake
