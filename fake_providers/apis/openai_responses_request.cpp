// The body of a Responses API request (POST /v1/responses), read from the tree the tree reader parsed,
// with the real API's messages for what it refuses.
#include <cstdint>
#include <string>

#include "fake_providers/apis/openai_request.hpp"
#include "fake_providers/apis/openai_tools_request.hpp"

namespace squall::fake {
namespace {

// The real API refuses a max_output_tokens below 16.
constexpr std::int64_t max_output_tokens_min = 16;

error_spec wrong_type(const std::string& param, const char* expected) {
  return invalid_request("Invalid type for '" + param + "': expected " + expected + ".", param, "invalid_type");
}

// A list of input items: each an object. Messages ({"role","content"}, "type" optional) count their
// content's words; function_call and function_call_output items count nothing (count_prompt_tokens's
// rule: only "content" and "text" carry prompt words).
std::optional<error_spec> check_input_items(const json& input) {
  for (std::size_t i = 0; i < input.size(); ++i) {
    const json& item = input[i];
    const std::string at = "input[" + std::to_string(i) + "]";
    if (!item.is_object()) return wrong_type(at, "an object");
    const auto type = item.find("type");
    if (type != item.end() && !type->is_string()) return wrong_type(at + ".type", "a string");
    const bool message = type == item.end() || *type == "message";
    if (message) {
      const auto role = item.find("role");
      if (role == item.end()) {
        return invalid_request("Missing required parameter: '" + at + ".role'.", at + ".role",
                               "missing_required_parameter");
      }
      if (!role->is_string()) return wrong_type(at + ".role", "a string");
      const auto content = item.find("content");
      if (content == item.end()) {
        return invalid_request("Missing required parameter: '" + at + ".content'.", at + ".content",
                               "missing_required_parameter");
      }
      if (!content->is_string() && !content->is_array()) return wrong_type(at + ".content", "a string or an array");
    } else if (*type == "function_call_output") {
      if (const auto id = item.find("call_id"); id == item.end() || !id->is_string()) {
        return wrong_type(at + ".call_id", "a string");
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<error_spec> read_responses_request(const json& body, const request_limits& limits, parsed_request& out,
                                                 std::string_view model_default) {
  if (!body.is_object()) return invalid_request("Invalid type for request body: expected an object.");
  const auto model = body.find("model");
  if (model == body.end() && model_default.empty()) {
    return invalid_request("Missing required parameter: 'model'.", "model", "missing_required_parameter");
  }
  if (model == body.end()) {
    out.model = model_default;
  } else if (!model->is_string() || model->get_ref<const std::string&>().empty()) {
    return wrong_type("model", "a non-empty string");
  } else {
    out.model = model->get<std::string>();
  }

  if (const auto input = body.find("input"); input != body.end() && !input->is_null()) {
    if (input->is_array()) {
      if (auto e = check_input_items(*input)) return e;
      out.shape.last_turn_is_tool_result = !input->empty() && input->back().value("type", "") == "function_call_output";
    } else if (!input->is_string()) {
      return wrong_type("input", "a string or an array");
    }
    out.input_tokens = count_prompt_tokens(*input);
  }
  if (const auto ins = body.find("instructions"); ins != body.end() && !ins->is_null()) {
    if (!ins->is_string()) return wrong_type("instructions", "a string");
    out.echo.instructions = ins->get<std::string>();
    out.input_tokens += count_words(*out.echo.instructions);
  }
  if (const auto max = body.find("max_output_tokens"); max != body.end() && !max->is_null()) {
    if (!max->is_number_integer()) return wrong_type("max_output_tokens", "an integer");
    const std::int64_t v = max->get<std::int64_t>();
    if (v < max_output_tokens_min) {
      return invalid_request("Invalid 'max_output_tokens': integer below minimum value. Expected a value >= " +
                                 std::to_string(max_output_tokens_min) + ", but got " + std::to_string(v) + " instead.",
                             "max_output_tokens", "integer_below_min_value");
    }
    if (v > limits.output_tokens_max) {
      return invalid_request("max_output_tokens is too large: " + std::to_string(v) + ". This model supports at most " +
                                 std::to_string(limits.output_tokens_max) + " output tokens.",
                             "max_output_tokens", "invalid_value");
    }
    out.max_tokens = static_cast<std::uint32_t>(v);
    out.echo.max_output_tokens = out.max_tokens;
  }
  auto read_bool = [&](const char* key, bool& flag) -> std::optional<error_spec> {
    const auto it = body.find(key);
    if (it == body.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean()) return wrong_type(key, "a boolean");
    flag = it->get<bool>();
    return std::nullopt;
  };
  if (auto e = read_bool("stream", out.stream)) return e;
  if (auto e = read_bool("store", out.echo.store)) return e;
  if (auto e = read_bool("parallel_tool_calls", out.echo.parallel_tool_calls)) return e;
  if (const auto prev = body.find("previous_response_id"); prev != body.end() && !prev->is_null()) {
    if (!prev->is_string()) return wrong_type("previous_response_id", "a string");
    out.echo.previous_response_id = prev->get<std::string>();
  }

  if (const auto t = body.find("tools"); t != body.end() && !t->is_null()) {
    if (auto e = check_tools(*t, tool_shape::responses)) return e;
    out.shape.tools = *t;
  }
  if (const auto c = body.find("tool_choice"); c != body.end() && !c->is_null()) {
    if (auto e = check_tool_choice(*c, out.shape.tools, tool_shape::responses)) return e;
    out.shape.tool_choice = *c;
  }
  if (const auto text = body.find("text"); text != body.end() && !text->is_null()) {
    if (!text->is_object()) return wrong_type("text", "an object");
    if (const auto f = text->find("format"); f != text->end() && !f->is_null()) {
      if (auto e = check_output_format(*f, "text.format", tool_shape::responses)) return e;
      out.shape.output_format = *f;
    }
  }
  return std::nullopt;
}

}  // namespace squall::fake
