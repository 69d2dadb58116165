// Gemini's generateContent answer: POST /v1beta/models/{model}:generateContent, one
// GenerateContentResponse; and :streamGenerateContent, a stream of them. With ?alt=sse each is a
// server-sent event ("data: {...}"); without it Google streams one JSON array ("[{...},\r\n{...}]"), and so
// does this (job::stream_array). The last response carries finishReason and the whole usageMetadata; a
// stream has no terminator after it.
//
// What the model says comes from the API-neutral content generator (fake_providers/content/), asked in
// ai_requests.cpp with to_answer_request: its words; or, when the request offers functions and toolConfig
// lets the model call one (ANY; AUTO unless the last turn answered a call), one functionCall part whose
// args are an instance of the function's parameters schema; or, with responseMimeType application/json, JSON
// text (an instance of responseSchema, or a small object). A JSON answer streams in pieces that join
// into it; a call goes out whole in the first response.
#include "fake_providers/apis/answer_format.hpp"
#include "fake_providers/endpoint.hpp"
#include "policies/core/json_text.hpp"

namespace squall::fake::detail {
namespace {

enum class content_kind : std::uint8_t { text, function_call, json };

content_kind kind_of(const job& j) {
  if (!j.gemini_content) return content_kind::text;
  switch (j.gemini_content->kind) {
    case content::answer_kind::tool_calls: return j.gemini_content->tool_calls.empty() ? content_kind::text : content_kind::function_call;
    case content::answer_kind::json: return content_kind::json;
    case content::answer_kind::text: break;
  }
  return content_kind::text;
}

void append_function_call(std::string& b, const job& j) {
  const content::tool_call& call = j.gemini_content->tool_calls.front();
  b += R"({"functionCall":{"name":)";
  append_json_string(b, call.name);
  b += R"(,"args":)";
  b += call.arguments_json.empty() ? std::string("{}") : call.arguments_json;
  b += "}}";
}

// MAX_TOKENS when maxOutputTokens cut the answer short of its natural length (ai_requests.cpp).
const char* finish_reason(const job& j) { return j.cut ? "MAX_TOKENS" : "STOP"; }

// The bytes of the JSON text due once `tokens` of the answer's tokens are out: a share of it, never
// ending inside a UTF-8 character.
std::size_t json_bytes_at(const job& j, std::uint32_t tokens) {
  const std::string& text = j.gemini_content->json_text;
  if (j.req.output_tokens == 0 || tokens >= j.req.output_tokens) return text.size();
  std::size_t at = text.size() * tokens / j.req.output_tokens;
  while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
  return at;
}

void append_usage(std::string& b, const job& j, bool with_output) {
  const std::string in = std::to_string(j.req.input_tokens);
  b += R"("usageMetadata":{"promptTokenCount":)";
  b += in;
  if (with_output) {
    b += R"(,"candidatesTokenCount":)";
    b += std::to_string(j.req.output_tokens);
  }
  b += R"(,"totalTokenCount":)";
  b += std::to_string(j.req.input_tokens + (with_output ? j.req.output_tokens : 0));
  b += R"(,"promptTokensDetails":[{"modality":"TEXT","tokenCount":)";
  b += in;
  b += "}]}";
}

void append_tail(std::string& b, const job& j) {
  b += R"(,"modelVersion":)";
  append_json_string(b, j.req.model);
  b += R"(,"responseId":)";
  append_json_string(b, j.object_id);
  b += '}';
}

// One GenerateContentResponse whose candidate holds `parts` (a JSON array's inside), with finishReason and
// the whole usage when `last`.
std::string response(const job& j, std::string_view parts, bool last) {
  std::string b;
  b.reserve(parts.size() + j.req.model.size() + 320);
  b += R"({"candidates":[{"content":{"parts":[)";
  b += parts;
  b += R"(],"role":"model"})";
  if (last) {
    b += R"(,"finishReason":")";
    b += finish_reason(j);
    b += '"';
  }
  b += R"(,"index":0}],)";
  append_usage(b, j, last);
  append_tail(b, j);
  return b;
}

std::string text_part(std::string_view text) {
  std::string p = R"({"text":)";
  append_json_string(p, text);
  p += '}';
  return p;
}

std::string body(job& j) {
  const content_kind kind = kind_of(j);
  std::string part;
  if (kind == content_kind::function_call) {
    append_function_call(part, j);
  } else if (kind == content_kind::json) {
    part = text_part(j.gemini_content->json_text);
  } else {
    part = text_part(generate_words(j.text_rng, j.req.output_tokens));
  }
  return response(j, part, true);
}

// A stream's events: "data: ...\n\n" with alt=sse, else the elements of one JSON array.
std::string event(const job& j, std::string_view json_text, bool first, bool last) {
  if (!j.stream_array) return sse("", json_text);
  std::string e = first ? "" : ",\r\n";
  e += json_text;
  if (last) e += ']';
  return e;
}

std::string stream_open(const job& j) { return j.stream_array ? "[" : ""; }

std::string stream_text(const job& j, std::string_view text) {
  const bool first = j.tokens_sent == 0;
  switch (kind_of(j)) {
    case content_kind::function_call: {
      // The call goes out whole, in the first response; the later ones only keep time (an SSE comment, or
      // whitespace between the array's elements), since a chunk of no bytes would end the HTTP body.
      if (!first) return j.stream_array ? "\r\n" : ":\n\n";
      std::string part;
      append_function_call(part, j);
      return event(j, response(j, part, false), true, false);
    }
    case content_kind::json: {
      // The JSON text in shares that join into it, one per batch of tokens.
      const std::uint32_t upto = j.tokens_sent + count_words(text);
      const std::size_t from = json_bytes_at(j, j.tokens_sent);
      const std::size_t to = json_bytes_at(j, upto);
      return event(j, response(j, text_part(j.gemini_content->json_text.substr(from, to - from)), false), first, false);
    }
    case content_kind::text: break;
  }
  return event(j, response(j, text_part(text), false), first, false);
}

std::string stream_close(const job& j) {
  const bool first = j.tokens_sent == 0;
  const content_kind kind = kind_of(j);
  std::string part;
  if (kind == content_kind::json) {
    const std::size_t from = json_bytes_at(j, j.tokens_sent);
    part = text_part(j.gemini_content->json_text.substr(from));
  } else if (kind == content_kind::function_call && first) {
    append_function_call(part, j);  // no token was due before the end: the call goes out now
  } else {
    part = text_part("");
  }
  return event(j, response(j, part, true), first, true);
}

std::string stream_malformed(const job& j) {
  return event(j, R"({"candidates":[{"content":{"parts":[{"text":" tru)", j.tokens_sent == 0, false);
}

// Google reports a failure in the middle of a stream with an error object in place of a response (the
// SDKs raise it as an ApiError with its code).
std::string stream_error(const job& j) {
  const std::string e = error_body(api_style::gemini, error_spec{503, "", "", std::nullopt, std::nullopt}, "");
  return event(j, e, j.tokens_sent == 0, true);
}

}  // namespace

const answer_format gemini_generate_format{"", body, stream_open, stream_text, stream_close, stream_malformed,
                                           stream_error};

}  // namespace squall::fake::detail
