// OpenAI's Responses API answer: POST /v1/responses, as a response object or its typed server-sent events
// (response.created, response.in_progress, response.output_item.added, response.content_part.added,
// response.output_text.delta..., response.output_text.done, response.content_part.done,
// response.output_item.done, then response.completed, or response.incomplete when max_output_tokens cut
// the answer). A tool call is a function_call item instead of the message, its arguments streamed by
// response.function_call_arguments.delta... and .done; structured output is the message's text. Every
// event carries its "type" and a "sequence_number" counted from 0.
#include "fake_providers/apis/answer_format.hpp"
#include "fake_providers/endpoint.hpp"
#include "policies/core/json_text.hpp"

namespace squall::fake::detail {
namespace {

// The id's 16 hex digits after "resp_": the answer's items take the same digits after their own prefix.
std::string_view id_digits(const job& j) { return std::string_view(j.object_id).substr(5); }

std::string message_id(const job& j) { return "msg_" + std::string(id_digits(j)); }

const char* status_of(const job& j) { return j.cut ? "incomplete" : "completed"; }

void append_usage(std::string& b, const job& j) {
  b += R"({"input_tokens":)";
  b += std::to_string(j.req.input_tokens);
  b += R"(,"input_tokens_details":{"cached_tokens":0},"output_tokens":)";
  b += std::to_string(j.req.output_tokens);
  b += R"(,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":)";
  b += std::to_string(j.req.input_tokens + j.req.output_tokens);
  b += '}';
}

void append_optional_string(std::string& b, const std::optional<std::string>& s) {
  if (s) {
    append_json_string(b, *s);
  } else {
    b += "null";
  }
}

// The response object with `status` and the output items `output` (a JSON array's text); with usage once
// the answer is done.
std::string response_object(const job& j, std::string_view status, std::string_view output, bool done) {
  std::string b;
  b.reserve(output.size() + j.req.model.size() + 900);
  b += R"({"id":")";
  b += j.object_id;
  b += R"(","object":"response","created_at":)";
  b += std::to_string(j.created_unix_s);
  b += R"(,"status":")";
  b += status;
  b += R"(","background":false,"error":null,"incomplete_details":)";
  b += status == "incomplete" ? R"({"reason":"max_output_tokens"})" : "null";
  b += R"(,"instructions":)";
  append_optional_string(b, j.echo.instructions);
  b += R"(,"max_output_tokens":)";
  b += j.echo.max_output_tokens ? std::to_string(*j.echo.max_output_tokens) : "null";
  b += R"(,"max_tool_calls":null,"model":)";
  append_json_string(b, j.req.model);
  b += R"(,"output":)";
  b += output;
  b += R"(,"parallel_tool_calls":)";
  b += j.echo.parallel_tool_calls ? "true" : "false";
  b += R"(,"previous_response_id":)";
  append_optional_string(b, j.echo.previous_response_id);
  b += R"(,"reasoning":{"effort":null,"summary":null},"service_tier":"default","store":)";
  b += j.echo.store ? "true" : "false";
  b += R"(,"temperature":1.0,"text":{"format":)";
  b += j.shape.output_format.is_null() ? R"({"type":"text"})" : j.shape.output_format.dump();
  b += R"(},"tool_choice":)";
  b += j.shape.tool_choice.is_null() ? R"("auto")" : j.shape.tool_choice.dump();
  b += R"(,"tools":)";
  b += j.shape.tools.is_null() ? "[]" : j.shape.tools.dump();
  b += R"(,"top_p":1.0,"truncation":"disabled","usage":)";
  if (done) {
    append_usage(b, j);
  } else {
    b += "null";
  }
  b += R"(,"user":null,"metadata":{}})";
  return b;
}

// The output_text part holding `text`.
std::string text_part(std::string_view text) {
  std::string p = R"({"type":"output_text","annotations":[],"logprobs":[],"text":)";
  append_json_string(p, text);
  p += '}';
  return p;
}

// The assistant's message item, `status` "in_progress" (no content yet), "completed" or "incomplete".
std::string message_item(const job& j, std::string_view status, std::optional<std::string_view> text) {
  std::string m = R"({"id":")";
  m += message_id(j);
  m += R"(","type":"message","status":")";
  m += status;
  m += R"(","content":[)";
  if (text) m += text_part(*text);
  m += R"(],"role":"assistant"})";
  return m;
}

bool calls_a_tool(const job& j) { return j.content.kind == content::answer_kind::tool_calls; }

std::string call_item_id(const job& j) { return "fc_" + std::string(id_digits(j)); }

// The function_call item of the answer's (one) call, with `arguments` so far.
std::string call_item(const job& j, std::string_view status, std::string_view arguments) {
  const content::tool_call& c = j.content.tool_calls.front();
  std::string m = R"({"id":")";
  m += call_item_id(j);
  m += R"(","type":"function_call","status":")";
  m += status;
  m += R"(","arguments":)";
  append_json_string(m, arguments);
  m += R"(,"call_id":)";
  append_json_string(m, c.id);
  m += R"(,"name":)";
  append_json_string(m, c.name);
  m += '}';
  return m;
}

// The answer's one output item, done, with its whole text (or arguments).
std::string done_item(const job& j, std::string_view text) {
  return calls_a_tool(j) ? call_item(j, status_of(j), text) : message_item(j, status_of(j), text);
}

std::string body(job& j) {
  const bool shaped = j.content.kind != content::answer_kind::text;
  const std::string text = shaped ? j.content_text : generate_words(j.text_rng, j.req.output_tokens);
  return response_object(j, status_of(j), "[" + done_item(j, text) + "]", true);
}

// An event of `type` whose other fields are `fields` (a JSON object's members, without braces, or empty).
std::string event(const job& j, std::string_view type, std::string_view fields) {
  std::string e = R"({"type":")";
  e += type;
  e += R"(","sequence_number":)";
  e += std::to_string(j.events_sent++);
  if (!fields.empty()) {
    e += ',';
    e += fields;
  }
  e += '}';
  return sse(type, e);
}

// "item_id", "output_index" and "content_index" of the message's text part.
std::string text_place(const job& j) {
  return R"("item_id":")" + message_id(j) + R"(","output_index":0,"content_index":0)";
}

// Each event takes the next sequence number: they are appended one statement at a time, since the
// operands of a chain of + may be evaluated in any order.
std::string stream_open(const job& j) {
  j.events_sent = 0;
  j.text_sent.clear();
  std::string events = event(j, "response.created", R"("response":)" + response_object(j, "in_progress", "[]", false));
  events += event(j, "response.in_progress", R"("response":)" + response_object(j, "in_progress", "[]", false));
  if (calls_a_tool(j)) {
    events += event(j, "response.output_item.added", R"("output_index":0,"item":)" + call_item(j, "in_progress", ""));
    return events;
  }
  events += event(j, "response.output_item.added",
                  R"("output_index":0,"item":)" + message_item(j, "in_progress", std::nullopt));
  events += event(j, "response.content_part.added", text_place(j) + R"(,"part":)" + text_part(""));
  return events;
}

// "item_id" and "output_index" of the function call.
std::string call_place(const job& j) { return R"("item_id":")" + call_item_id(j) + R"(","output_index":0)"; }

std::string stream_text(const job& j, std::string_view text) {
  j.text_sent += text;
  if (calls_a_tool(j)) {
    std::string fields = call_place(j);
    fields += R"(,"delta":)";
    append_json_string(fields, text);
    return event(j, "response.function_call_arguments.delta", fields);
  }
  std::string fields = text_place(j);
  fields += R"(,"delta":)";
  append_json_string(fields, text);
  fields += R"(,"logprobs":[])";
  return event(j, "response.output_text.delta", fields);
}

// The end of the response: its item done, then the response completed (or incomplete).
std::string close_response(const job& j, std::string events) {
  const std::string item = done_item(j, j.text_sent);
  events += event(j, "response.output_item.done", R"("output_index":0,"item":)" + item);
  events += event(j, j.cut ? "response.incomplete" : "response.completed",
                  R"("response":)" + response_object(j, status_of(j), "[" + item + "]", true));
  return events;
}

std::string stream_close(const job& j) {
  if (calls_a_tool(j)) {
    std::string done = call_place(j);
    done += R"(,"name":)";
    append_json_string(done, j.content.tool_calls.front().name);
    done += R"(,"arguments":)";
    append_json_string(done, j.text_sent);
    return close_response(j, event(j, "response.function_call_arguments.done", done));
  }
  std::string done = text_place(j);
  done += R"(,"text":)";
  append_json_string(done, j.text_sent);
  done += R"(,"logprobs":[])";
  std::string events = event(j, "response.output_text.done", done);
  events += event(j, "response.content_part.done", text_place(j) + R"(,"part":)" + text_part(j.text_sent));
  return close_response(j, std::move(events));
}

std::string stream_malformed(const job& j) {
  return sse("response.output_text.delta", R"({"type":"response.output_text.delta","sequence_number":)" +
                                               std::to_string(j.events_sent) + "," + text_place(j) +
                                               R"(,"delta":" tru)");
}

// The Responses API reports a failure in the middle of a stream with an "error" event, which the SDK
// raises as an APIError.
std::string stream_error(const job& j) {
  std::string fields = R"("code":"server_error","message":)";
  append_json_string(fields, default_error_message(api_style::openai, 503));
  fields += R"(,"param":null)";
  return event(j, "error", fields);
}

}  // namespace

const answer_format openai_responses_format{"resp_", body, stream_open, stream_text, stream_close, stream_malformed,
                                            stream_error};

}  // namespace squall::fake::detail
