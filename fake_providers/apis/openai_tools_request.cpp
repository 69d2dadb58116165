// The fields that shape an OpenAI answer's content, in chat completions and the Responses API: tools,
// tool_choice and the output format. Checked here, kept as sent; the content generator
// (fake_providers/content/) reads them when the answer is made.
#include "fake_providers/apis/openai_tools_request.hpp"

#include <string>

namespace squall::fake {
namespace {

error_spec missing(const std::string& param) {
  return invalid_request("Missing required parameter: '" + param + "'.", param, "missing_required_parameter");
}

error_spec wrong_type(const std::string& param, const char* expected) {
  return invalid_request("Invalid type for '" + param + "': expected " + expected + ".", param, "invalid_type");
}

bool is_named(const json& v) { return v.is_string() && !v.get_ref<const std::string&>().empty(); }

}  // namespace

std::optional<error_spec> check_tools(const json& tools, tool_shape shape) {
  if (!tools.is_array()) return wrong_type("tools", "an array");
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const std::string at = "tools[" + std::to_string(i) + "]";
    const json& t = tools[i];
    if (!t.is_object()) return wrong_type(at, "an object");
    const auto type = t.find("type");
    if (type == t.end()) return missing(at + ".type");
    if (!type->is_string()) return wrong_type(at + ".type", "a string");
    if (*type != "function") {
      // Chat completions know functions (and "custom" tools, which the fake never calls); the Responses
      // API's built-in tools (web_search, file_search, ...) run on OpenAI's side and are not called here.
      continue;
    }
    const json* fn = &t;
    std::string fn_at = at;
    if (shape == tool_shape::chat) {
      const auto f = t.find("function");
      if (f == t.end()) return missing(at + ".function");
      if (!f->is_object()) return wrong_type(at + ".function", "an object");
      fn = &*f;
      fn_at = at + ".function";
    }
    const auto name = fn->find("name");
    if (name == fn->end()) return missing(fn_at + ".name");
    if (!is_named(*name)) return wrong_type(fn_at + ".name", "a non-empty string");
    if (const auto p = fn->find("parameters"); p != fn->end() && !p->is_null() && !p->is_object()) {
      return wrong_type(fn_at + ".parameters", "an object");
    }
  }
  return std::nullopt;
}

std::optional<std::string> function_name_of(const json& tool, tool_shape shape) {
  if (!tool.is_object() || tool.value("type", "") != "function") return std::nullopt;
  const json& fn = shape == tool_shape::chat ? tool.at("function") : tool;
  return fn.at("name").get<std::string>();
}

std::optional<error_spec> check_tool_choice(const json& choice, const json& tools, tool_shape shape) {
  if (choice.is_string()) {
    if (choice != "none" && choice != "auto" && choice != "required") {
      return invalid_request("Invalid value: '" + choice.get<std::string>() +
                                 "'. Supported values are: 'none', 'auto', and 'required'.",
                             "tool_choice", "invalid_value");
    }
    if (choice == "required" && (tools.is_null() || tools.empty())) {
      return invalid_request("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                             "tool_choice");
    }
    return std::nullopt;
  }
  if (!choice.is_object()) return wrong_type("tool_choice", "a string or an object");
  const auto type = choice.find("type");
  if (type == choice.end()) return missing("tool_choice.type");
  if (*type != "function") {
    return invalid_request("squall's fake provider calls functions only: 'tool_choice.type' must be 'function'.",
                           "tool_choice.type", "invalid_value");
  }
  const json* fn = &choice;
  std::string at = "tool_choice";
  if (shape == tool_shape::chat) {
    const auto f = choice.find("function");
    if (f == choice.end()) return missing("tool_choice.function");
    if (!f->is_object()) return wrong_type("tool_choice.function", "an object");
    fn = &*f;
    at = "tool_choice.function";
  }
  const auto name = fn->find("name");
  if (name == fn->end()) return missing(at + ".name");
  if (!is_named(*name)) return wrong_type(at + ".name", "a non-empty string");
  if (tools.is_null() || tools.empty()) {
    return invalid_request("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                           "tool_choice");
  }
  for (const json& t : tools) {
    if (function_name_of(t, shape) == name->get<std::string>()) return std::nullopt;
  }
  return invalid_request("Tool choice 'function' with name '" + name->get<std::string>() +
                             "' not found in 'tools' parameter.",
                         "tool_choice");
}

std::optional<error_spec> check_output_format(const json& format, const std::string& param, tool_shape shape) {
  if (!format.is_object()) return wrong_type(param, "an object");
  const auto type = format.find("type");
  if (type == format.end()) return missing(param + ".type");
  if (*type == "text" || *type == "json_object") return std::nullopt;
  if (*type != "json_schema") {
    return invalid_request("Invalid value: '" + (type->is_string() ? type->get<std::string>() : type->dump()) +
                               "'. Supported values are: 'text', 'json_object', and 'json_schema'.",
                           param + ".type", "invalid_value");
  }
  // Chat nests the schema's description under "json_schema"; the Responses API puts it beside "type".
  const json* spec = &format;
  std::string at = param;
  if (shape == tool_shape::chat) {
    const auto s = format.find("json_schema");
    if (s == format.end()) return missing(param + ".json_schema");
    if (!s->is_object()) return wrong_type(param + ".json_schema", "an object");
    spec = &*s;
    at = param + ".json_schema";
  }
  const auto name = spec->find("name");
  if (name == spec->end()) return missing(at + ".name");
  if (!is_named(*name)) return wrong_type(at + ".name", "a non-empty string");
  if (const auto s = spec->find("schema"); s != spec->end() && !s->is_object() && !s->is_boolean()) {
    return wrong_type(at + ".schema", "an object");
  }
  if (const auto s = spec->find("strict"); s != spec->end() && !s->is_null() && !s->is_boolean()) {
    return wrong_type(at + ".strict", "a boolean");
  }
  return std::nullopt;
}

content::answer_request content_request_of(const answer_shape& shape, tool_shape form) {
  content::answer_request r;
  r.last_turn_is_tool_result = shape.last_turn_is_tool_result;
  if (shape.tools.is_array()) {
    for (std::size_t i = 0; i < shape.tools.size(); ++i) {
      const std::optional<std::string> name = function_name_of(shape.tools[i], form);
      if (!name) continue;
      const json& fn = form == tool_shape::chat ? shape.tools[i]["function"] : shape.tools[i];
      content::offered_tool t;
      t.name = *name;
      t.parameters = fn.value("parameters", json());
      t.parameters_path = "$.tools[" + std::to_string(i) + (form == tool_shape::chat ? "].function.parameters" : "].parameters");
      r.tools.push_back(std::move(t));
    }
  }
  const json& choice = shape.tool_choice;
  if (choice == "none") {
    r.choice.mode = content::tool_choice_mode::none;
  } else if (choice == "required") {
    r.choice.mode = content::tool_choice_mode::required;
  } else if (choice.is_object()) {
    r.choice.mode = content::tool_choice_mode::named;
    r.choice.name = (form == tool_shape::chat ? choice["function"] : choice)["name"].get<std::string>();
  }
  const json& format = shape.output_format;
  if (format.is_object() && format["type"] == "json_object") {
    r.format.kind = content::output_kind::json_object;
  } else if (format.is_object() && format["type"] == "json_schema") {
    r.format.kind = content::output_kind::json_schema;
    const json& spec = form == tool_shape::chat ? format["json_schema"] : format;
    r.format.schema = spec.value("schema", json::object());
    r.format.schema_path = form == tool_shape::chat ? "$.response_format.json_schema.schema" : "$.text.format.schema";
  }
  return r;
}

std::optional<error_spec> read_chat_answer_shape(const json& body, parsed_request& out) {
  if (const auto t = body.find("tools"); t != body.end() && !t->is_null()) {
    if (auto e = check_tools(*t, tool_shape::chat)) return e;
    out.shape.tools = *t;
  }
  if (const auto c = body.find("tool_choice"); c != body.end() && !c->is_null()) {
    if (auto e = check_tool_choice(*c, out.shape.tools, tool_shape::chat)) return e;
    out.shape.tool_choice = *c;
  }
  if (const auto f = body.find("response_format"); f != body.end() && !f->is_null()) {
    if (auto e = check_output_format(*f, "response_format", tool_shape::chat)) return e;
    out.shape.output_format = *f;
  }
  return std::nullopt;
}

}  // namespace squall::fake
