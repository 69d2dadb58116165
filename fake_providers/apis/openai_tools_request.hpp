#pragma once
// Checks of the OpenAI fields that shape an answer's content, shared by the chat completions and the
// Responses API readers, which spell them slightly differently (tool_shape).
#include <optional>
#include <string>

#include "fake_providers/apis/openai_request.hpp"
#include "fake_providers/content/answer_content.hpp"

namespace squall::fake {

// Chat nests a function's name and parameters under "function" and a JSON schema under "json_schema";
// the Responses API puts them beside "type".
enum class tool_shape : std::uint8_t { chat, responses };

std::optional<error_spec> check_tools(const json& tools, tool_shape shape);
// `tools` as checked by check_tools, or null.
std::optional<error_spec> check_tool_choice(const json& choice, const json& tools, tool_shape shape);
// `param`: where the format sits ("response_format", "text.format").
std::optional<error_spec> check_output_format(const json& format, const std::string& param, tool_shape shape);
// The function's name of a checked tool, or nothing for a tool that is not a function.
std::optional<std::string> function_name_of(const json& tool, tool_shape shape);

// The content generator's request for a checked shape: the functions offered (other tool types are not
// called), the tool choice and the output format, with where each schema sits in the body for its errors.
content::answer_request content_request_of(const answer_shape& shape, tool_shape form);

}  // namespace squall::fake
