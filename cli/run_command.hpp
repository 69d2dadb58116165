#pragma once
// `squall run`: loads a scenario, runs every configuration, writes the outputs and turns the assertions
// into an exit code.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/terminal.hpp"

namespace squall::cli {

struct run_options {
  std::string scenario_path;
  std::optional<std::uint64_t> seed;  // default: the scenario's seed, else 1
  std::string out_dir;                // default: squall-out/<scenario name>
};

int run_command(const run_options& options, const terminal& term);

int validate_command(const std::vector<std::string>& files);

}  // namespace squall::cli
