// OpenAI's chat completions answer: POST /v1/chat/completions, as a chat.completion object or a stream of
// chat.completion.chunk events ending in "data: [DONE]" (with stream_options.include_usage, a last chunk
// with no choices carries the usage). A tool call is message.tool_calls (finish_reason "tool_calls"),
// streamed as a chunk naming the call and then its arguments in pieces; structured output is the content.
#include "fake_providers/apis/answer_format.hpp"
#include "fake_providers/endpoint.hpp"
#include "policies/core/json_text.hpp"

namespace squall::fake::detail {
namespace {

bool calls_a_tool(const job& j) { return j.content.kind == content::answer_kind::tool_calls; }

const char* finish_reason(const job& j) {
  if (j.cut) return "length";
  return calls_a_tool(j) ? "tool_calls" : "stop";
}

// The message's tool calls: each with its id, type and function; `arguments` for the first (the one
// call the content generator makes today).
void append_tool_calls(std::string& b, const job& j, std::string_view arguments) {
  b += '[';
  for (std::size_t i = 0; i < j.content.tool_calls.size(); ++i) {
    const content::tool_call& c = j.content.tool_calls[i];
    if (i > 0) b += ',';
    b += R"({"id":)";
    append_json_string(b, c.id);
    b += R"(,"type":"function","function":{"name":)";
    append_json_string(b, c.name);
    b += R"(,"arguments":)";
    append_json_string(b, i == 0 ? arguments : std::string_view(c.arguments_json));
    b += "}}";
  }
  b += ']';
}

std::string body(job& j) {
  const std::uint32_t in = j.req.input_tokens;
  const std::uint32_t out = j.req.output_tokens;
  const bool shaped = j.content.kind != content::answer_kind::text;
  const std::string text = shaped ? std::string() : answer_text(j);
  std::string b;
  b.reserve(text.size() + j.content_text.size() + j.req.model.size() + 500);
  b += R"({"id":")";
  b += j.object_id;
  b += R"(","object":"chat.completion","created":)";
  b += std::to_string(j.created_unix_s);
  b += R"(,"model":)";
  append_json_string(b, j.req.model);
  b += R"(,"choices":[{"index":0,"message":{"role":"assistant","content":)";
  if (calls_a_tool(j)) {
    b += R"(null,"tool_calls":)";
    append_tool_calls(b, j, j.content_text);
  } else {
    append_json_string(b, shaped ? std::string_view(j.content_text) : std::string_view(text));
  }
  b += R"(,"refusal":null},"logprobs":null,"finish_reason":")";
  b += finish_reason(j);
  b += R"("}],"usage":{"prompt_tokens":)";
  b += std::to_string(in);
  b += R"(,"completion_tokens":)";
  b += std::to_string(out);
  b += R"(,"total_tokens":)";
  b += std::to_string(in + out);
  b += R"(},"system_fingerprint":"fp_squall"})";
  return b;
}

// The head of a stream chunk, up to and including `"choices":`.
std::string chunk_head(const job& j) {
  std::string c = R"({"id":")";
  c += j.object_id;
  c += R"(","object":"chat.completion.chunk","created":)";
  c += std::to_string(j.created_unix_s);
  c += R"(,"model":)";
  append_json_string(c, j.req.model);
  c += R"(,"system_fingerprint":"fp_squall","choices":)";
  return c;
}

// A tool call's stream opens with a chunk naming the call (id, type, function name, empty arguments);
// its arguments follow in pieces, as OpenAI streams them.
std::string stream_open(const job& j) {
  if (!calls_a_tool(j)) return {};
  std::string event = chunk_head(j);
  event += R"([{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":)";
  append_json_string(event, j.content.tool_calls.front().id);
  event += R"(,"type":"function","function":{"name":)";
  append_json_string(event, j.content.tool_calls.front().name);
  event += R"(,"arguments":""}}]},"logprobs":null,"finish_reason":null}])";
  event += j.include_usage ? R"(,"usage":null})" : "}";
  return sse("", event);
}

std::string stream_text(const job& j, std::string_view text) {
  std::string event = chunk_head(j);
  if (calls_a_tool(j)) {
    event += R"([{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":)";
    append_json_string(event, text);
    event += "}}]}";
  } else {
    event += j.tokens_sent == 0 ? R"([{"index":0,"delta":{"role":"assistant","content":)"
                                : R"([{"index":0,"delta":{"content":)";
    append_json_string(event, text);
    event += '}';
  }
  event += R"(,"logprobs":null,"finish_reason":null}])";
  event += j.include_usage ? R"(,"usage":null})" : "}";
  return sse("", event);
}

std::string stream_close(const job& j) {
  const std::uint32_t in = j.req.input_tokens;
  const std::uint32_t out = j.req.output_tokens;
  std::string last = chunk_head(j);
  last += j.tokens_sent == 0 && !calls_a_tool(j) ? R"([{"index":0,"delta":{"role":"assistant","content":""},)"
                                                 : R"([{"index":0,"delta":{},)";
  last += R"("logprobs":null,"finish_reason":")";
  last += finish_reason(j);
  last += R"("}])";
  last += j.include_usage ? R"(,"usage":null})" : "}";
  std::string events = sse("", last);
  if (j.include_usage) {
    std::string usage = chunk_head(j);
    usage += R"([],"usage":{"prompt_tokens":)" + std::to_string(in) + R"(,"completion_tokens":)" + std::to_string(out) +
             R"(,"total_tokens":)" + std::to_string(in + out) + "}}";
    events += sse("", usage);
  }
  events += sse("", "[DONE]");
  return events;
}

std::string stream_malformed(const job& j) {
  return sse("", R"({"id":")" + j.object_id +
                     R"(","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" tru)");
}

// OpenAI sends a chunk holding an "error" object, the shape its SDK raises as an APIError.
std::string stream_error(const job&) {
  std::string e = R"({"error":{"message":)";
  append_json_string(e, default_error_message(api_style::openai, 503));
  e += R"(,"type":"server_error","param":null,"code":null}})";
  return sse("", e);
}

}  // namespace

const answer_format openai_chat_format{"chatcmpl-", body, stream_open, stream_text, stream_close, stream_malformed,
                                       stream_error};

}  // namespace squall::fake::detail
