#pragma once
// ${NAME} in a scenario file: the value of an environment variable, put in when the file is read, as k6's
// -e and __ENV do for its scripts. One CI job runs the same scenario at several rates or against several
// policies without a copy of the file per case.
//
//   "rate_rps": "${RATE:-50}"    the variable RATE, or 50 when it is unset
//   "model": "${MODEL}"          an unset MODEL is an error naming this JSON path
//
// Names are upper case, digits and underscores (POSIX's portable names as shells use them); a lower-case
// ${name} is left alone, since a service block's own placeholders (${port}, ${providers.openai.base_url},
// ${request_id}, ...) are lower case and are expanded later, per start and per request. "$${" is left as
// it is for the same reason: the service block's reader turns it into a literal "${".
//
// A string that is exactly one ${NAME} becomes a number or a boolean when its value is one ("50", "0.2",
// "true"), so that numeric options can come from the environment; anything else stays a string. Values are
// put in as they are: a value that holds "${X}" is not expanded again.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"  // json

namespace squall::documents {

// The value of a variable, or nullopt when it is not set. Injected: the process environment in the
// command line (with --env NAME=VALUE in front of it), a map in tests.
using environment_lookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment.
environment_lookup process_environment();

// One variable a document used, with the value put in.
struct used_variable {
  std::string name;
  std::string value;
  bool defaulted = false;  // unset: the ${NAME:-default}'s default was used
};

// Replaces every ${NAME} and ${NAME:-default} in the document's string values (not its keys). Returns the
// variables used, in the order first met (each once), or the first error, naming its JSON path: an unset
// variable without a default, an unclosed "${", a name that is not a name.
config_result<std::vector<used_variable>> expand_environment(json& document, const environment_lookup& lookup);

// Whether a variable's value should be kept out of logs and outputs: its name says it is a secret (KEY,
// TOKEN, SECRET, PASSWORD, CREDENTIAL). The reproduce line then names it without its value.
bool looks_secret(std::string_view name);

}  // namespace squall::documents
