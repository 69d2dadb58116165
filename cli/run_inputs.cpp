#include "cli/run_inputs.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <system_error>

#include "cli/output_files.hpp"

namespace fs = std::filesystem;

namespace squall::cli {

namespace {

bool is_variable_name(const std::string& name) {
  if (name.empty() || !((name[0] >= 'A' && name[0] <= 'Z') || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
}

}  // namespace

config_result<sim::scenario_inputs> command_line_inputs(const std::vector<std::string>& sets,
                                                        const std::vector<std::string>& env) {
  sim::scenario_inputs inputs;
  for (const auto& text : sets) {
    auto parsed = documents::parse_set_override(text);
    if (!parsed) return std::move(parsed).error();
    inputs.sets.push_back(std::move(*parsed));
  }
  std::map<std::string, std::string, std::less<>> given;
  for (const auto& text : env) {
    const auto eq = text.find('=');
    const std::string name = text.substr(0, eq);
    if (eq == std::string::npos || !is_variable_name(name)) {
      return config_error{{}, {}, "--env " + cut_utf8(text, 120) +
                                      ": expected NAME=VALUE with NAME in upper-case letters, digits and _ "
                                      "(e.g. --env RATE=200), as the scenario writes ${RATE}"};
    }
    given[name] = text.substr(eq + 1);
  }
  const documents::environment_lookup process = documents::process_environment();
  inputs.environment = [given = std::move(given), process](std::string_view name) -> std::optional<std::string> {
    if (const auto it = given.find(name); it != given.end()) return it->second;
    return process(name);
  };
  return inputs;
}

config_result<std::vector<std::string>> scenario_files(const std::vector<std::string>& paths, bool& from_folder) {
  std::vector<std::string> files;
  from_folder = false;
  for (const auto& path : paths) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return config_error{path, {}, "no such file or folder"};
    if (!fs::is_directory(path, ec)) {
      files.push_back(path);
      continue;
    }
    from_folder = true;
    std::vector<std::string> found;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string extension = it->path().extension().string();
      if (!it->is_regular_file(ec)) continue;
      if (extension == ".json" || extension == ".yaml" || extension == ".yml") found.push_back(it->path().string());
    }
    if (ec) return config_error{path, {}, "cannot list the folder: " + ec.message()};
    if (found.empty()) {
      return config_error{path, {}, "is a folder without scenario files (.json, .yaml or .yml directly in it)"};
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

bool load_scenarios(const std::vector<std::string>& files, const sim::scenario_inputs& inputs,
                    std::vector<sim::scenario>& out) {
  bool ok = true;
  for (const auto& f : files) {
    auto loaded = sim::load_scenario(f, inputs);
    if (!loaded) {
      std::cerr << "squall: error: " << loaded.error().describe() << "\n";
      ok = false;
      continue;
    }
    out.push_back(std::move(*loaded));
  }
  return ok;
}

std::string scenario_command(const std::string& file, const sim::scenario& s) {
  std::string command = "squall run " + shell_quote(file);
  for (const auto& set : s.overrides) command += " --set " + shell_quote(set);
  for (const auto& v : s.variables) {
    if (documents::looks_secret(v.name)) continue;  // a default is pinned too: the environment may differ next time
    command += " --env " + shell_quote(v.name + "=" + v.value);
  }
  return command;
}

}  // namespace squall::cli
