// Anthropic's messages answer: POST /v1/messages, as a message object or its event stream
// (message_start, content_block_start, ping, content_block_delta..., content_block_stop, message_delta,
// message_stop). A tool call is a tool_use block (stop_reason "tool_use"), streamed as a content_block_start
// naming it and its input in input_json_delta pieces.
#include <string>
#include <vector>

#include "fake_providers/apis/answer_format.hpp"
#include "fake_providers/endpoint.hpp"
#include "policies/core/json_text.hpp"

namespace squall::fake::detail {
namespace {

bool calls_a_tool(const job& j) { return j.content.kind == content::answer_kind::tool_calls; }

const char* stop_reason(const job& j) {
  if (j.cut) return "max_tokens";
  return calls_a_tool(j) ? "tool_use" : "end_turn";
}

}  // namespace

std::string complete_json_prefix(std::string_view cut) {
  // Where the text last stood after a complete value (or just inside a new container), and the
  // containers then open: cutting there and closing them gives valid JSON.
  std::size_t safe = 0;
  std::string open_at_safe;
  std::string open;                // '{' or '[' per open container
  std::vector<bool> expects_key;   // per open container: an object awaiting a key
  bool in_string = false, escaped = false, string_is_key = false;
  const auto mark = [&](std::size_t at) {
    safe = at;
    open_at_safe = open;
  };
  for (std::size_t i = 0; i < cut.size(); ++i) {
    const char c = cut[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
        if (!string_is_key) mark(i + 1);
      }
      continue;
    }
    switch (c) {
      case '{':
      case '[':
        open += c;
        expects_key.push_back(c == '{');
        mark(i + 1);
        break;
      case '}':
      case ']':
        if (open.empty()) return "{}";
        open.pop_back();
        expects_key.pop_back();
        mark(i + 1);
        break;
      case '"':
        in_string = true;
        string_is_key = !open.empty() && open.back() == '{' && expects_key.back();
        break;
      case ':':
        if (!expects_key.empty()) expects_key.back() = false;
        break;
      case ',':
        // The value before a comma is complete (a number or literal ends only here or at a bracket).
        mark(i);
        if (!open.empty() && open.back() == '{') expects_key.back() = true;
        break;
      default:
        break;
    }
  }
  if (open.empty() && !in_string && safe == cut.size() && !cut.empty() && cut.front() == '{') {
    return std::string(cut);  // not cut at all
  }
  if (open_at_safe.empty() || open_at_safe.front() != '{') return "{}";
  std::string out(cut.substr(0, safe));
  for (auto it = open_at_safe.rbegin(); it != open_at_safe.rend(); ++it) out += *it == '{' ? '}' : ']';
  return out;
}

namespace {

// A tool_use block: its id, name and `input`, an object's JSON text.
void append_tool_use(std::string& b, const content::tool_call& call, std::string_view input) {
  b += R"({"type":"tool_use","id":)";
  append_json_string(b, call.id);
  b += R"(,"name":)";
  append_json_string(b, call.name);
  b += R"(,"input":)";
  b += input;
  b += '}';
}

std::string body(job& j) {
  const bool tool = calls_a_tool(j);
  const std::string text = tool ? std::string() : answer_text(j);
  std::string b;
  b.reserve(text.size() + j.content_text.size() + j.req.model.size() + 500);
  b += R"({"id":")";
  b += j.object_id;
  b += R"(","type":"message","role":"assistant","model":)";
  append_json_string(b, j.req.model);
  b += R"(,"content":[)";
  if (tool) {
    // The first call carries the answer's (perhaps cut) text; a cut one keeps the members it completed.
    for (std::size_t i = 0; i < j.content.tool_calls.size(); ++i) {
      if (i > 0) b += ',';
      const content::tool_call& call = j.content.tool_calls[i];
      append_tool_use(b, call, i > 0 ? call.arguments_json : j.cut ? complete_json_prefix(j.content_text) : j.content_text);
    }
  } else {
    b += R"({"type":"text","text":)";
    append_json_string(b, text);
    b += '}';
  }
  b += R"(],"stop_reason":")";
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
  std::string block = R"({"type":"content_block_start","index":0,"content_block":)";
  if (calls_a_tool(j)) {
    // The input starts empty; its JSON text follows in input_json_delta pieces.
    append_tool_use(block, j.content.tool_calls.front(), "{}");
    block += '}';
  } else {
    block += R"({"type":"text","text":""}})";
  }
  return sse("message_start", start) + sse("content_block_start", block) + sse("ping", R"({"type": "ping"})");
}

std::string stream_text(const job& j, std::string_view text) {
  std::string event = R"({"type":"content_block_delta","index":0,"delta":)";
  event += calls_a_tool(j) ? R"({"type":"input_json_delta","partial_json":)" : R"({"type":"text_delta","text":)";
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

std::string stream_malformed(const job& j) {
  if (calls_a_tool(j)) {
    return sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\")");
  }
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
