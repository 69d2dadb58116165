#pragma once
// `squall trace2scenario TRACE` writes the scenario reconstructed from a trace (traces/replay,
// docs/replay.md) to edit and commit; `squall replay TRACE` builds it in memory and runs it exactly as
// `squall run` runs a scenario file, with the same outputs and exit codes.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/run_command.hpp"
#include "cli/terminal.hpp"

namespace squall::cli {

struct replay_args {
  std::string trace_path;
  std::vector<std::string> policy_files;  // each a configuration named after the file's stem
  // A JSON file holding a scenario's "service" block: the incident is replayed against that service under
  // test (docs/black-box.md) instead of against policies. Its "cwd" is relative to the file.
  std::string service_file;
  std::optional<double> window_s;
  std::string name;                       // default: the trace file's stem
  std::string out;                        // trace2scenario: the scenario file; replay: the output directory
  run_options run;                        // replay: mode, seed and the live options, as `squall run`
  bool quiet = false;
  bool no_color = false;
};

CLI::App* add_trace2scenario_command(CLI::App& app, replay_args& args);
CLI::App* add_replay_command(CLI::App& app, replay_args& args);

// 0 written, 2 bad input (trace, policy file, flag), 3 the scenario could not be written.
int trace2scenario_command(const replay_args& args);
// Exit codes as `squall run`: 0, 1 an assertion failed, 2 bad input, 3 outputs not written.
int replay_command(const replay_args& args);

}  // namespace squall::cli
