#pragma once
// --set PATH=VALUE: one change to a scenario document before it is read, as k6's -e, Helm's --set and
// Gatling's -D give for their scripts. CI sweeps a rate or an option without a copy of the file per case,
// and issue-sized experiments ("what if the breaker opened at 30%?") need no edit.
//
//   workload.rate_rps=200                               a number (VALUE is read as JSON when it is JSON)
//   workload.model=gpt-4o                               a string (VALUE that is not JSON is a string)
//   providers.openai.timeline[0].error_rate=0.5         [N] indexes an array
//   policies.retry-breaker.retry.attempts_max=2         into a policy file: see below
//   'policies["a.b"].fleet.instances=10'                ["..."] for a key with a dot in it
//
// A path may start with "$." (as squall's error messages write paths). Missing keys are created. Two
// steps make paths into policies short, each taken only when the key is not there:
// - a string where an object is needed (a configuration naming its policy file) is opened by the caller's
//   `reference_opener` and replaced by the file's document (the configuration becomes inline);
// - in a policy document (an object with a "policies" list) or a configuration written {"policy": ...},
//   a key names a layer of the list: the one with that "name", else the only one of that "type".

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"  // json

namespace squall::documents {

struct path_step {
  std::string key;                   // an object key or a layer's name or type
  std::optional<std::size_t> index;  // [N] instead of a key
};

struct set_override {
  std::string text;  // as given, for messages and the reproduce line
  std::vector<path_step> path;
  json value;
};

// Parses "PATH=VALUE"; the error says what is wrong with the text.
config_result<set_override> parse_set_override(std::string_view text);

// The document a string stands for (a policy file named in the scenario), or an error. `json_path` is where
// the string is. An empty function refuses every string.
using reference_opener = std::function<config_result<json>(const std::string& json_path, const std::string& text)>;

// Applies one override; an error names the override and the JSON path where it could not go on.
std::optional<config_error> apply_set_override(json& document, const set_override& override_,
                                               const reference_opener& open);

}  // namespace squall::documents
