// The fields that shape an Anthropic messages answer's content: tools, tool_choice, and a last turn that
// returns a tool's result. Checked here, kept as sent; the content generator (fake_providers/content/)
// reads them when the answer is made.
#include "fake_providers/apis/anthropic_tools_request.hpp"

#include <set>
#include <string>

namespace squall::fake {
namespace {

// Anthropic's errors name the field by its dotted path, list indexes included ("tools.0.name").
error_spec field_required(const std::string& at) { return invalid_request(at + ": Field required", at); }

error_spec wrong_type(const std::string& at, const char* expected) {
  return invalid_request(at + ": Input should be " + expected, at);
}

// The API's pattern for a client tool's name: ^[a-zA-Z0-9_-]{1,128}$.
bool valid_tool_name(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (const char c : name) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!word) return false;
  }
  return true;
}

bool is_client_tool(const json& tool) {
  const auto type = tool.find("type");
  return type == tool.end() || type->is_null() || *type == "custom";
}

std::optional<error_spec> check_tools(const json& tools) {
  if (!tools.is_array()) return wrong_type("tools", "a valid list");
  std::set<std::string> names;
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const std::string at = "tools." + std::to_string(i);
    const json& t = tools[i];
    if (!t.is_object()) return wrong_type(at, "a valid dictionary");
    if (const auto type = t.find("type"); type != t.end() && !type->is_null() && !type->is_string()) {
      return wrong_type(at + ".type", "a valid string");
    }
    const auto name = t.find("name");
    if (name == t.end()) return field_required(at + ".name");
    if (!name->is_string()) return wrong_type(at + ".name", "a valid string");
    // Server tools carry their own fixed names ("web_search", "bash"); they too must not repeat one.
    if (!names.insert(name->get<std::string>()).second) return invalid_request("tools: Tool names must be unique.", "tools");
    if (!is_client_tool(t)) continue;
    if (!valid_tool_name(name->get<std::string>())) {
      return invalid_request(at + ".name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'", at + ".name");
    }
    const auto schema = t.find("input_schema");
    if (schema == t.end()) return field_required(at + ".input_schema");
    if (!schema->is_object()) return wrong_type(at + ".input_schema", "a valid dictionary");
    if (const auto d = t.find("description"); d != t.end() && !d->is_null() && !d->is_string()) {
      return wrong_type(at + ".description", "a valid string");
    }
  }
  return std::nullopt;
}

std::optional<error_spec> check_tool_choice(const json& choice, const json& tools) {
  if (!choice.is_object()) return wrong_type("tool_choice", "a valid dictionary");
  const auto type = choice.find("type");
  if (type == choice.end()) return field_required("tool_choice.type");
  if (*type != "auto" && *type != "any" && *type != "tool" && *type != "none") {
    return invalid_request("tool_choice: Input tag '" + (type->is_string() ? type->get<std::string>() : type->dump()) +
                               "' found using 'type' does not match any of the expected tags: 'auto', 'any', "
                               "'tool', 'none'",
                           "tool_choice.type");
  }
  if (const auto d = choice.find("disable_parallel_tool_use"); d != choice.end() && !d->is_boolean()) {
    return wrong_type("tool_choice.disable_parallel_tool_use", "a valid boolean");
  }
  const bool offered = tools.is_array() && !tools.empty();
  if (*type == "any" && !offered) {
    return invalid_request("tool_choice may only be specified while providing tools.", "tool_choice");
  }
  if (*type != "tool") return std::nullopt;
  const auto name = choice.find("name");
  if (name == choice.end()) return field_required("tool_choice.tool.name");
  if (!name->is_string()) return wrong_type("tool_choice.tool.name", "a valid string");
  if (offered) {
    for (const json& t : tools) {
      if (client_tool_name_of(t) == name->get<std::string>()) return std::nullopt;
    }
  }
  // The real API's words when the named tool is missing from "tools" (or "tools" is absent).
  return invalid_request("Tool '" + name->get<std::string>() + "' not found in provided tools", "tool_choice.name");
}

// The last message is the user's and returns a tool's result: [{"type":"tool_result","tool_use_id",...}].
bool ends_with_tool_result(const json& messages) {
  if (!messages.is_array() || messages.empty()) return false;
  const json& last = messages.back();
  if (!last.is_object() || last.value("role", "") != "user") return false;
  const auto content = last.find("content");
  if (content == last.end() || !content->is_array()) return false;
  for (const json& block : *content) {
    if (block.is_object() && block.value("type", "") == "tool_result") return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> client_tool_name_of(const json& tool) {
  if (!tool.is_object() || !is_client_tool(tool)) return std::nullopt;
  const auto name = tool.find("name");
  if (name == tool.end() || !name->is_string()) return std::nullopt;
  return name->get<std::string>();
}

std::optional<error_spec> read_messages_answer_shape(const json& body, const json& messages, parsed_request& out) {
  if (const auto t = body.find("tools"); t != body.end() && !t->is_null()) {
    if (auto e = check_tools(*t)) return e;
    out.shape.tools = *t;
  }
  if (const auto c = body.find("tool_choice"); c != body.end() && !c->is_null()) {
    if (auto e = check_tool_choice(*c, out.shape.tools)) return e;
    out.shape.tool_choice = *c;
  }
  // Only a request that offers tools reads its last turn: without tools no call is made either way, and
  // the plain reader, which leaves tool-less bodies' content blocks unread, then agrees with this one.
  out.shape.last_turn_is_tool_result = !out.shape.tools.is_null() && ends_with_tool_result(messages);
  return std::nullopt;
}

content::answer_request messages_content_request_of(const answer_shape& shape) {
  content::answer_request r;
  r.id_prefix = "toolu_";
  r.last_turn_is_tool_result = shape.last_turn_is_tool_result;
  if (shape.tools.is_array()) {
    for (std::size_t i = 0; i < shape.tools.size(); ++i) {
      std::optional<std::string> name = client_tool_name_of(shape.tools[i]);
      if (!name) continue;
      content::offered_tool t;
      t.name = std::move(*name);
      t.parameters = shape.tools[i].value("input_schema", json());
      t.parameters_path = "$.tools[" + std::to_string(i) + "].input_schema";
      r.tools.push_back(std::move(t));
    }
  }
  const json& choice = shape.tool_choice;
  if (choice.is_object()) {
    const json& type = choice["type"];
    if (type == "none") {
      r.choice.mode = content::tool_choice_mode::none;
    } else if (type == "any") {
      r.choice.mode = content::tool_choice_mode::required;
    } else if (type == "tool") {
      r.choice.mode = content::tool_choice_mode::named;
      r.choice.name = choice["name"].get<std::string>();
    }
  }
  return r;
}

}  // namespace squall::fake
