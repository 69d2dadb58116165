#pragma once
// The ${...} placeholders of a service block (sim/scenario/service_spec.hpp) and the small JSON path its
// success rule names. Checked when the scenario is read; expanded for each service start and each request.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"

namespace squall::sim {

// The names a text may use inside ${...}.
struct placeholder_rules {
  std::vector<std::string> names;
  std::string where;  // "in a command or environment", for messages
};

// command, cwd and env: ${port}, ${providers.<name>.base_url}, ${providers.<name>.origin}.
placeholder_rules start_placeholders(const std::vector<std::string>& providers);
// the request template: ${request_id}, ${prompt}, ${model}, ${provider}, ${input_tokens}, ${output_tokens}.
placeholder_rules request_placeholders();

// An unknown name or an unclosed "${" is an error at `path`. "$${" writes a literal "${".
std::optional<config_error> check_placeholders(std::string_view text, const placeholder_rules& rules,
                                               const std::string& path);

// Replaces every ${name} with value(name); the text must have passed check_placeholders.
std::string expand_placeholders(std::string_view text, const std::function<std::string(std::string_view)>& value);
// When `text` is exactly one placeholder, its name; else empty (a body value that may become a number).
std::string_view sole_placeholder(std::string_view text) noexcept;

// "$", then any of .name, ["name"] or [index]: an error message when `path` is not of that form.
std::optional<std::string> check_json_path(std::string_view path);
// The value at `path` in `document`, or null when any step is missing.
const json* find_json_path(const json& document, std::string_view path);

}  // namespace squall::sim
