#pragma once
// What one `squall run` (or `squall validate`) is given besides its flags: scenario files and folders, each
// --set PATH=VALUE and --env NAME=VALUE. Everything is read and checked before the first run starts, so a
// mistake in the fifth file of a folder does not surface after four runs.
#include <string>
#include <vector>

#include "policies/core/config_error.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::cli {

// --set and --env as the scenario reader takes them; --env values come before the process environment.
config_result<sim::scenario_inputs> command_line_inputs(const std::vector<std::string>& sets,
                                                        const std::vector<std::string>& env);

// The scenario files the paths name: a file as it is, a folder as the .json, .yaml and .yml files directly
// in it (not its subfolders, where policy files live), sorted by name. `from_folder` tells whether any path
// was a folder. An empty folder or a missing path is an error.
config_result<std::vector<std::string>> scenario_files(const std::vector<std::string>& paths, bool& from_folder);

// Loads every file (all of them, so that every mistake is reported at once); prints each error to stderr
// and returns false when any was found.
bool load_scenarios(const std::vector<std::string>& files, const sim::scenario_inputs& inputs,
                    std::vector<sim::scenario>& out);

// "squall run FILE --set ... --env NAME=VALUE": the command that rebuilds one scenario as this run read it.
// A variable whose name says it is a secret (documents::looks_secret) is left to the environment.
std::string scenario_command(const std::string& file, const sim::scenario& s);

}  // namespace squall::cli
