#pragma once
// `squall sweep SCENARIO --param PATH=VALUES...`: one scenario over a grid (or random draws) of its options,
// every cell on identical workload and fault draws, run on every core; writes sweep.json, sweep.md,
// sweep.csv and sweep.html with the Pareto frontier and a recommendation under stated constraints.
// `--shard I/N` runs the units with index % N == I and writes shard-I-of-N.json instead; `squall merge`
// turns the N shard files into the very files the unsharded sweep writes (sweeps/sweep_results.hpp).

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/terminal.hpp"

namespace squall::cli {

struct sweep_args {
  std::string scenario;
  std::vector<std::string> params;
  std::vector<std::string> configurations;
  std::vector<std::string> constraints;
  std::string objective = "success_rate";
  std::vector<std::string> sets;
  std::vector<std::string> env;
  std::uint32_t draws = 20;
  std::optional<std::uint64_t> seed;
  std::uint32_t seeds = 1;
  std::uint32_t jobs = 0;  // 0: every core
  std::string shard;       // "I/N", or "" for the whole sweep
  std::string out_dir;
  double wall_s_max = 3600;
  bool allow_large_run = false;
  bool quiet = false;
  bool no_color = false;
};

struct merge_args {
  std::vector<std::string> paths;
  std::string out_dir;
  bool quiet = false;
};

CLI::App* add_sweep_command(CLI::App& app, sweep_args& args);
CLI::App* add_merge_command(CLI::App& app, merge_args& args);

// Exit codes as README.md documents them: 0, 1 when constraints were given and no cell meets them, 2 bad
// input, 3 outputs not written, 4 stopped early (outputs written, marked incomplete).
int sweep_command(const sweep_args& args);
int merge_command(const merge_args& args);

}  // namespace squall::cli
