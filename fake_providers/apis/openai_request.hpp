#pragma once
// Reading the OpenAI request fields that the chat reader (request_body.cpp) does not: what shapes the
// answer's content (tools, tool_choice, response_format / text.format), and the whole body of a Responses
// API request (POST /v1/responses). Both work on the tree the tree reader parsed (its depth and value
// limits already applied) and answer with the 400 the real API gives, naming the parameter.
#include <optional>
#include <string_view>

#include "fake_providers/request_body.hpp"

namespace squall::fake {

// Chat completions: "tools" ([{"type":"function","function":{"name","parameters"}}]), "tool_choice"
// ("none", "auto", "required" or {"type":"function","function":{"name"}}) and "response_format"
// ({"type":"text"}, {"type":"json_object"}, {"type":"json_schema","json_schema":{"name","schema","strict"}}),
// checked and kept in `out` as sent.
std::optional<error_spec> read_chat_answer_shape(const json& body, parsed_request& out);

// The Responses API: model, input (a string, or a list of items: messages with string or part contents,
// function_call and function_call_output items), instructions, max_output_tokens (at least 16, as the
// real API's minimum), stream, tools ([{"type":"function","name","parameters","strict"}]; other tool types
// are accepted and never called), tool_choice ("none", "auto", "required", {"type":"function","name"}),
// text.format ({"type":"text"|"json_object"} or {"type":"json_schema","name","schema","strict"}),
// parallel_tool_calls, store, previous_response_id. Other fields are accepted and ignored.
// `model_default`: the model when the body names none (Azure's deployment); empty: "model" is required.
std::optional<error_spec> read_responses_request(const json& body, const request_limits& limits, parsed_request& out,
                                                 std::string_view model_default = {});

}  // namespace squall::fake
