#include "fake_providers/apis/gemini_request.hpp"

#include <cstdint>

#include "policies/core/json_parse.hpp"

namespace squall::fake {
namespace {

// Google's request validation names the field in snake_case after "GenerateContentRequest."; its JSON
// reader takes either spelling of a name.
const json* field(const json& object, const char* camel, const char* snake) {
  if (!object.is_object()) return nullptr;
  if (const auto it = object.find(camel); it != object.end() && !it->is_null()) return &*it;
  if (const auto it = object.find(snake); it != object.end() && !it->is_null()) return &*it;
  return nullptr;
}

error_spec invalid(const std::string& field_path, const std::string& what) {
  return invalid_request("* GenerateContentRequest." + field_path + ": " + what + "\n", field_path);
}

error_spec invalid_value(const std::string& field_path, const std::string& type, const json& value) {
  return invalid_request("Invalid value at '" + field_path + "' (" + type + "), " + dump_json(value), field_path);
}

std::uint32_t count_part_words(const json& parts) {
  std::uint32_t words = 0;
  if (parts.is_string()) return count_words(parts.get_ref<const std::string&>());
  if (!parts.is_array()) return 0;
  for (const json& part : parts) {
    if (const json* text = field(part, "text", "text"); text && text->is_string()) {
      words += count_words(text->get_ref<const std::string&>());
    }
  }
  return words;
}

std::optional<error_spec> read_contents(const json& contents, bool may_be_empty, parsed_request& out,
                                        gemini_request& extra) {
  if (!contents.is_array()) return invalid_value("contents", "type.googleapis.com/google.ai.generativelanguage.v1beta.Content", contents);
  if (contents.empty() && !may_be_empty) return invalid("contents", "contents is not specified");
  for (std::size_t i = 0; i < contents.size(); ++i) {
    const json& c = contents[i];
    const std::string where = "contents[" + std::to_string(i) + "]";
    if (!c.is_object()) return invalid_value(where, "type.googleapis.com/google.ai.generativelanguage.v1beta.Content", c);
    if (const json* role = field(c, "role", "role")) {
      if (!role->is_string()) return invalid_value(where + ".role", "TYPE_STRING", *role);
      const std::string& r = role->get_ref<const std::string&>();
      if (r != "user" && r != "model" && r != "function" && r != "tool" && !r.empty()) {
        return invalid_request("Please use a valid role: user, model.", where + ".role");
      }
    }
    const json* parts = field(c, "parts", "parts");
    if (parts == nullptr || !parts->is_array() || parts->empty()) {
      return invalid(where + ".parts", "contents.parts must not be empty.");
    }
    bool function_response = false;
    for (std::size_t k = 0; k < parts->size(); ++k) {
      const json& part = (*parts)[k];
      if (!part.is_object()) return invalid_value(where + ".parts[" + std::to_string(k) + "]", "type.googleapis.com/google.ai.generativelanguage.v1beta.Part", part);
      if (const json* text = field(part, "text", "text"); text && !text->is_string()) {
        return invalid_value(where + ".parts[" + std::to_string(k) + "].text", "TYPE_STRING", *text);
      }
      if (field(part, "functionResponse", "function_response")) function_response = true;
    }
    out.input_tokens += count_part_words(*parts);
    extra.last_turn_is_function_response = function_response;
  }
  return std::nullopt;
}

std::optional<error_spec> read_generation_config(const json& config, const request_limits& limits, parsed_request& out,
                                                 gemini_request& extra) {
  if (!config.is_object()) {
    return invalid_value("generation_config", "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig", config);
  }
  if (const json* max = field(config, "maxOutputTokens", "max_output_tokens")) {
    // int32 fields may come as JSON numbers or as decimal strings.
    std::int64_t v = 0;
    if (max->is_number_integer()) {
      v = max->get<std::int64_t>();
    } else if (max->is_string() && !max->get_ref<const std::string&>().empty() &&
               max->get_ref<const std::string&>().size() < 12 &&
               max->get_ref<const std::string&>().find_first_not_of("0123456789") == std::string::npos) {
      v = std::stoll(max->get_ref<const std::string&>());
    } else {
      return invalid_value("generation_config.max_output_tokens", "TYPE_INT32", *max);
    }
    if (v < 1) return invalid("generation_config.max_output_tokens", "max_output_tokens must be positive.");
    if (v > limits.output_tokens_max) {
      return invalid("generation_config.max_output_tokens",
                     "The maximum number of tokens allowed (" + std::to_string(limits.output_tokens_max) +
                         ") is less than max_output_tokens (" + std::to_string(v) + ").");
    }
    out.max_tokens = static_cast<std::uint32_t>(v);
  }
  if (const json* n = field(config, "candidateCount", "candidate_count"); n && *n != 1) {
    return invalid("generation_config.candidate_count", "squall's fake provider answers candidate_count = 1 only.");
  }
  if (const json* mime = field(config, "responseMimeType", "response_mime_type")) {
    const std::string m = mime->is_string() ? mime->get<std::string>() : std::string();
    if (m != "text/plain" && m != "application/json" && m != "text/x.enum") {
      return invalid("generation_config.response_mime_type",
                     "allowed mimetypes are `text/plain`, `application/json`, `application/xml`, `application/yaml` "
                     "and `text/x.enum`.");
    }
    extra.response_mime_type = m;
  }
  const json* schema = field(config, "responseSchema", "response_schema");
  if (schema == nullptr) schema = field(config, "responseJsonSchema", "response_json_schema");
  if (schema != nullptr) {
    if (!schema->is_object()) return invalid_value("generation_config.response_schema", "type.googleapis.com/google.ai.generativelanguage.v1beta.Schema", *schema);
    if (extra.response_mime_type == "text/plain") {
      return invalid("generation_config.response_mime_type",
                     "response_mime_type must be set to one of [application/json, text/x.enum] when response_schema is set.");
    }
    extra.response_schema = *schema;
  }
  return std::nullopt;
}

std::optional<error_spec> read_tools(const json& tools, gemini_request& extra) {
  if (!tools.is_array()) return invalid_value("tools", "type.googleapis.com/google.ai.generativelanguage.v1beta.Tool", tools);
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const json* declarations = field(tools[i], "functionDeclarations", "function_declarations");
    if (declarations == nullptr) continue;  // googleSearch, codeExecution, ...: nothing the fake answers with
    const std::string where = "tools[" + std::to_string(i) + "].function_declarations";
    if (!declarations->is_array()) return invalid_value(where, "type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionDeclaration", *declarations);
    for (std::size_t k = 0; k < declarations->size(); ++k) {
      const json& d = (*declarations)[k];
      const json* name = field(d, "name", "name");
      if (name == nullptr || !name->is_string() || name->get_ref<const std::string&>().empty()) {
        return invalid(where + "[" + std::to_string(k) + "].name", "Name cannot be empty.");
      }
      gemini_function f{name->get<std::string>(), nullptr};
      if (const json* p = field(d, "parameters", "parameters")) f.parameters = *p;
      else if (const json* pj = field(d, "parametersJsonSchema", "parameters_json_schema")) f.parameters = *pj;
      extra.functions.push_back(std::move(f));
    }
  }
  return std::nullopt;
}

std::optional<error_spec> read_tool_config(const json& config, gemini_request& extra) {
  const json* calling = field(config, "functionCallingConfig", "function_calling_config");
  if (calling == nullptr) return std::nullopt;
  if (const json* mode = field(*calling, "mode", "mode")) {
    const std::string m = mode->is_string() ? mode->get<std::string>() : std::string();
    if (m != "AUTO" && m != "ANY" && m != "NONE" && m != "VALIDATED" && m != "MODE_UNSPECIFIED") {
      return invalid_value("tool_config.function_calling_config.mode", "TYPE_ENUM", *mode);
    }
    extra.calling_mode = m == "MODE_UNSPECIFIED" ? "AUTO" : m;
  }
  if (const json* allowed = field(*calling, "allowedFunctionNames", "allowed_function_names")) {
    if (!allowed->is_array()) return invalid_value("tool_config.function_calling_config.allowed_function_names", "TYPE_STRING", *allowed);
    for (const json& name : *allowed) {
      if (name.is_string()) extra.allowed_functions.push_back(name.get<std::string>());
    }
  }
  return std::nullopt;
}

std::optional<error_spec> read_tree(const json& top, bool count_tokens, const request_limits& limits,
                                    parsed_request& out, gemini_request& extra) {
  if (!top.is_object()) {
    return invalid_request("Invalid JSON payload received. Expected an object for GenerateContentRequest.");
  }
  const json* body = &top;
  if (count_tokens) {
    // countTokens takes its contents, or a whole generateContent request.
    if (const json* inner = field(top, "generateContentRequest", "generate_content_request")) body = inner;
    if (!body->is_object()) return invalid_value("generate_content_request", "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentRequest", *body);
  }
  const json* contents = field(*body, "contents", "contents");
  if (contents == nullptr) {
    if (!count_tokens) return invalid("contents", "contents is not specified");
  } else if (auto e = read_contents(*contents, count_tokens, out, extra)) {
    return e;
  }
  if (const json* system = field(*body, "systemInstruction", "system_instruction")) {
    if (system->is_string()) {
      out.input_tokens += count_words(system->get_ref<const std::string&>());
    } else if (const json* parts = field(*system, "parts", "parts")) {
      out.input_tokens += count_part_words(*parts);
    } else if (!system->is_object()) {
      return invalid_value("system_instruction", "type.googleapis.com/google.ai.generativelanguage.v1beta.Content", *system);
    }
  }
  if (const json* config = field(*body, "generationConfig", "generation_config")) {
    if (auto e = read_generation_config(*config, limits, out, extra)) return e;
  }
  if (const json* tools = field(*body, "tools", "tools")) {
    if (auto e = read_tools(*tools, extra)) return e;
  }
  if (const json* config = field(*body, "toolConfig", "tool_config")) {
    if (auto e = read_tool_config(*config, extra)) return e;
  }
  return std::nullopt;
}

}  // namespace

content::answer_request to_answer_request(const gemini_request& g) {
  content::answer_request a;
  for (std::size_t i = 0; i < g.functions.size(); ++i) {
    const gemini_function& f = g.functions[i];
    bool allowed = g.allowed_functions.empty();
    for (const std::string& name : g.allowed_functions) allowed = allowed || name == f.name;
    if (allowed) a.tools.push_back(content::offered_tool{f.name, f.parameters, "$.tools[].functionDeclarations[" + std::to_string(i) + "].parameters"});
  }
  if (g.calling_mode == "NONE") a.choice.mode = content::tool_choice_mode::none;
  if (g.calling_mode == "ANY") a.choice.mode = content::tool_choice_mode::required;
  a.last_turn_is_tool_result = g.last_turn_is_function_response;
  if (g.response_mime_type == "application/json") {
    a.format.kind = g.response_schema.is_null() ? content::output_kind::json_object : content::output_kind::json_schema;
    a.format.schema = g.response_schema;
    a.format.schema_path = "$.generationConfig.responseSchema";
  }
  return a;
}

std::optional<error_spec> read_gemini_request_body(std::string_view body, std::string_view model, bool stream,
                                                   bool count_tokens, const request_limits& limits,
                                                   parsed_request& out, gemini_request& extra) {
  out = parsed_request{};
  extra = gemini_request{};
  out.model = std::string(model);
  out.stream = stream;
  // The SDKs send "models/NAME" when told so; the path then reads /v1beta/models/NAME (routes.cpp).
  if (out.model.empty()) return invalid_request("* GenerateContentRequest.model: unexpected model name format\n", "model");
  if (auto e = too_many_values(body, limits)) return e;
  json_parse_limits parse_limits;
  parse_limits.depth_max = json_depth_max;
  auto parsed = parse_json_as<json>(body, parse_limits);
  if (!parsed) {
    return invalid_request("Invalid JSON payload received. " + parsed.error().describe());
  }
  return read_tree(*parsed, count_tokens, limits, out, extra);
}

}  // namespace squall::fake
