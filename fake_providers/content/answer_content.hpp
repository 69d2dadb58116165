#pragma once
// What the fake model answers with, before any wire format: plain text, a tool call, or JSON text for
// structured outputs. Each API's wire code turns its request into an `answer_request` (OpenAI chat
// `tools`/`tool_choice`/`response_format`, the Responses API's `tools`/`text.format`, Anthropic's `tools`/
// `tool_choice`, Gemini's `functionDeclarations`/`toolConfig`/`responseSchema`) and the `answer_content`
// back into its own shapes.
//
// The rule, chosen so that a client's agent loop (call a tool -> send its result -> get an answer) runs to
// its end against the fake:
//   - no tools offered, or mode `none`: no tool call;
//   - mode `auto` (the default): one tool call, unless the conversation's last turn is a tool result, then
//     no tool call (the model "answers with what the tool returned");
//   - mode `required` (OpenAI "required", Anthropic and Gemini "any"): one tool call, always;
//   - mode `named`: one call of that tool, always (an error when it is not offered).
// Which tool (auto, required): drawn from `r` among the offered ones. A call's id is `id_prefix` followed by
// 24 letters and digits from `r`; its arguments are an instance of the tool's parameters schema (an
// object; a tool without parameters gets `{}`), serialised compactly.
// Without a tool call the answer follows the output format: `text` (the wire code writes the words, as it
// always did), `json_object` (a small object: {"answer": "<words>", ...}), or `json_schema` (an instance
// of the schema, serialised compactly).
// Everything is drawn from `r` in a fixed order, so the same request and seed give the same answer.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_providers/content/schema_instance.hpp"
#include "policies/core/rng.hpp"

namespace squall::fake::content {

struct offered_tool {
  std::string name;
  nlohmann::json parameters;   // its JSON schema; null when the tool declares none
  std::string parameters_path = "$";  // where the schema sits in the request body, for error messages
};

enum class tool_choice_mode : std::uint8_t { automatic, none, required, named };

struct tool_choice {
  tool_choice_mode mode = tool_choice_mode::automatic;
  std::string name;  // for `named`
};

enum class output_kind : std::uint8_t { text, json_object, json_schema };

struct output_format {
  output_kind kind = output_kind::text;
  nlohmann::json schema;              // for json_schema
  std::string schema_path = "$";      // where it sits in the request body, for error messages
};

struct answer_request {
  std::vector<offered_tool> tools;
  tool_choice choice;
  bool last_turn_is_tool_result = false;
  output_format format;
  std::string id_prefix = "call_";  // OpenAI's; Anthropic's ids start "toolu_"
};

struct tool_call {
  std::string id;
  std::string name;
  std::string arguments_json;  // compact JSON text of an object
};

enum class answer_kind : std::uint8_t { text, tool_calls, json };

struct answer_content {
  answer_kind kind = answer_kind::text;
  std::vector<tool_call> tool_calls;  // for tool_calls: one call today; a vector because the wire has one
  std::string json_text;              // for json: compact JSON text
};

// The content, or why the request cannot be answered (a named tool not offered, `required` without tools,
// a schema that cannot be satisfied or is not a schema): the wire code answers that with its 400.
class answer_result {
 public:
  answer_result(answer_content value) : state_(std::move(value)) {}  // NOLINT: implicit, like expected
  answer_result(schema_error error) : state_(std::move(error)) {}    // NOLINT

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  const answer_content& value() const& { return std::get<0>(state_); }
  answer_content&& value() && { return std::get<0>(std::move(state_)); }
  const schema_error& error() const& { return std::get<1>(state_); }

 private:
  std::variant<answer_content, schema_error> state_;
};

answer_result answer(const answer_request& request, rng& r, const schema_limits& limits = {});

// `prefix` followed by 24 letters and digits drawn from `r`.
std::string call_id(std::string_view prefix, rng& r);

}  // namespace squall::fake::content
