#include "fake_providers/content/answer_content.hpp"

#include <algorithm>

namespace squall::fake::content {

namespace {

using json = nlohmann::json;

// Strings in instances come from enum values and property names of a parsed request, so they are UTF-8;
// replacing rather than throwing keeps exceptions off the serving path all the same.
std::string compact(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

bool calls_a_tool(const answer_request& request) {
  if (request.tools.empty()) return false;
  switch (request.choice.mode) {
    case tool_choice_mode::none: return false;
    case tool_choice_mode::automatic: return !request.last_turn_is_tool_result;
    case tool_choice_mode::required:
    case tool_choice_mode::named: return true;
  }
  return false;
}

// The object of a json_object answer: what a model asked for "JSON" without a schema tends to give.
const json& json_object_schema() {
  static const json schema = json::parse(R"({
    "type": "object",
    "properties": {
      "answer": {"type": "string"},
      "confidence": {"type": "number", "minimum": 0, "maximum": 1},
      "tags": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 3}
    },
    "required": ["answer"]
  })");
  return schema;
}

}  // namespace

std::string call_id(std::string_view prefix, rng& r) {
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id(prefix);
  for (int i = 0; i < 24; ++i) id += alphabet[r.below(alphabet.size())];
  return id;
}

answer_result answer(const answer_request& request, rng& r, const schema_limits& limits) {
  if (request.tools.empty() && request.choice.mode == tool_choice_mode::required) {
    return schema_error{"$.tool_choice", "a tool call is required but no tools are offered"};
  }
  if (request.choice.mode == tool_choice_mode::named) {
    const bool offered = std::any_of(request.tools.begin(), request.tools.end(),
                                     [&](const offered_tool& t) { return t.name == request.choice.name; });
    if (!offered) return schema_error{"$.tool_choice", "the tool " + request.choice.name + " is not offered"};
  }
  answer_content content;
  if (calls_a_tool(request)) {
    const offered_tool* tool = nullptr;
    if (request.choice.mode == tool_choice_mode::named) {
      tool = &*std::find_if(request.tools.begin(), request.tools.end(),
                            [&](const offered_tool& t) { return t.name == request.choice.name; });
    } else {
      tool = &request.tools[r.below(request.tools.size())];
    }
    instance_result arguments = object_instance(tool->parameters, r, limits, tool->parameters_path);
    if (!arguments) return arguments.error();
    content.kind = answer_kind::tool_calls;
    content.tool_calls.push_back({call_id(request.id_prefix, r), tool->name, compact(arguments.value())});
    return content;
  }
  switch (request.format.kind) {
    case output_kind::text:
      return content;
    case output_kind::json_object: {
      instance_result object = schema_instance(json_object_schema(), r, limits);
      if (!object) return object.error();
      content.kind = answer_kind::json;
      content.json_text = compact(object.value());
      return content;
    }
    case output_kind::json_schema: {
      instance_result instance = schema_instance(request.format.schema, r, limits, request.format.schema_path);
      if (!instance) return instance.error();
      content.kind = answer_kind::json;
      content.json_text = compact(instance.value());
      return content;
    }
  }
  return content;
}

}  // namespace squall::fake::content
