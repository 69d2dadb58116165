#pragma once
// A scenario file as the document that sim/scenario/scenario.hpp reads: JSON, or YAML by the file's name
// (.yaml, .yml), then ${NAME} from the environment (documents/environment.hpp), then each --set in the
// order given (documents/set_override.hpp). What went in is kept for the outputs and the reproduce line.

#include <filesystem>
#include <string>
#include <vector>

#include "documents/environment.hpp"
#include "documents/set_override.hpp"
#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"

namespace squall::sim {

// What the command line adds to a scenario file.
struct scenario_inputs {
  std::vector<documents::set_override> sets;
  // Where ${NAME} looks; empty means the process environment.
  documents::environment_lookup environment;
};

struct scenario_document {
  json document;
  std::vector<documents::used_variable> variables;  // the ${NAME}s the file used
};

// Whether a file is read as YAML (by its name).
bool is_yaml_file(const std::filesystem::path& file);

// Reads, expands and overrides; errors name the file and the JSON path. A --set that walks into a
// configuration's policy file name opens that file (relative to the scenario) and inlines it.
config_result<scenario_document> read_scenario_document(const std::filesystem::path& file, const scenario_inputs& inputs);

}  // namespace squall::sim
