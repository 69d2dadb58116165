#pragma once
// Reading the Anthropic messages fields that shape an answer's content: "tools" and "tool_choice", and
// whether the conversation's last turn carries a tool's result. Works on the tree the tree reader parsed
// (its depth and value limits already applied) and answers with the 400 invalid_request_error the real
// API gives, worded like its messages ("tools.0.name: Field required").
#include <optional>
#include <string>

#include "fake_providers/content/answer_content.hpp"
#include "fake_providers/request_body.hpp"

namespace squall::fake {

// "tools": [{"name","description","input_schema"}] (client tools, "type" absent or "custom"); tools with
// another "type" (server tools such as "web_search_20250305", "bash_20250124") run on Anthropic's side
// and are accepted but never called. "tool_choice": {"type":"auto"|"any"|"tool"|"none", "name" (for
// "tool"), "disable_parallel_tool_use"}. Checked and kept in `out.shape` as sent; the last turn is a tool
// result when the last message is the user's and holds a {"type":"tool_result"} block.
std::optional<error_spec> read_messages_answer_shape(const json& body, const json& messages, parsed_request& out);

// The client tool's name of a checked tool, or nothing for a server tool.
std::optional<std::string> client_tool_name_of(const json& tool);

// The content generator's request for a checked messages shape: the client tools (input_schema as their
// parameters), the tool choice ("any" is `required`, "tool" is `named`), ids starting "toolu_".
content::answer_request messages_content_request_of(const answer_shape& shape);

}  // namespace squall::fake
