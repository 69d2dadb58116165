#pragma once
// `squall run`: loads a scenario, turns the flags into a run setup, has runs/scenario_run.hpp run it, writes
// the outputs and turns the assertions into an exit code.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/terminal.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::cli {

struct run_options {
  // Scenario files and folders (a folder: the scenario files directly in it). Several run one after the
  // other, each into its own folder under --out, with one index and one exit code.
  std::vector<std::string> scenario_paths;
  std::vector<std::string> sets;  // --set PATH=VALUE, applied in order to every scenario
  std::vector<std::string> env;   // --env NAME=VALUE: ${NAME} in scenario files, before the environment
  // --summary-json FILE: the runs' verdicts and summaries as one JSON document; "-" writes it to standard
  // output (and nothing else goes there).
  std::string summary_json;
  std::optional<std::uint64_t> seed;  // default: the scenario's seed, else 1
  std::string out_dir;                // default: squall-out/<scenario name>
  std::uint32_t seeds = 1;            // > 1: run seed, seed+1, ... and report means with 95% intervals
  std::string mode = "sim";           // "sim" (virtual time) or "live" (real clock, real HTTP)
  // Live mode: "provider=URL" per provider; none means squall's own fake providers, started in-process.
  std::vector<std::string> targets;
  bool allow_remote = false;          // live load to a host that is not loopback
  bool live_stream = true;            // ask for server-sent events (measures time to first token)
  double live_run_s_max = 900;        // live runs are bounded in time ...
  std::uint64_t live_requests_max = 200000;  // ... and in requests
  std::uint32_t live_connections_max = 256;  // per target: the client's connection pool
  // Sim runs stop after this many seconds of real time (written what they finished, exit 4); far beyond
  // what a scenario within the run limits takes. Live runs are bounded by live_run_s_max instead.
  double wall_s_max = 3600;
  // --allow-large-run: raise the limits of sim::run_limits (requests, intervals, memory) to their large().
  bool allow_large_run = false;
  // --trace FILE: a trace of every attempt (docs/trace-format.md). One configuration writes FILE; several
  // write one trace each, FILE with ".<configuration>" inserted before its extension.
  std::string trace_path;
  // --shard I/N: of several scenarios, run those whose position (in the order they run) % N == I, each
  // into the folder it has in the whole run, and write run-shard-I-of-N.json for `squall merge`.
  std::string shard;
};

int run_command(const run_options& options, const terminal& term);

// `squall merge` of run shards (run-shard-I-of-N.json, each with the results of its scenarios): checks they
// are the N parts of one run, each once, and writes index.html and index.md into `out_dir` as the unsharded
// run does. Returns the exit code the unsharded run would have had (or 2 for shards that do not fit).
int merge_run_shards(const std::vector<std::pair<std::string, json>>& shards, const std::string& out_dir, bool quiet);

// The same for a scenario already parsed (`squall replay` builds one in memory): runs it as `squall run`
// does, with options.scenario_paths unused and `out_dir` for options.out_dir. `command` is the command line
// that rebuilds the scenario, to which the reproduce line adds "--seed N" and the mode flags. The results
// document, when one was made, is left in `results` (when given).
int run_scenario(const sim::scenario& s, const run_options& options, const std::string& command,
                 const terminal& term, json* results = nullptr);

// `squall compare BASE CANDIDATE`: the same outputs for two results side by side, failing (exit 1) when
// the candidate regresses beyond the tolerances or fails its own assertions.
struct compare_options {
  std::string base_path;
  std::string candidate_path;
  std::string tolerances_path;  // optional JSON file of tolerances (docs/results-format.md)
  std::string out_dir;          // default: squall-out/compare
};

int compare_command(const compare_options& options, const terminal& term);

// Checks each scenario as `squall run` would before running it: the files, and the run's estimated size
// against the run limits (raised with allow_large_run).
// Files and folders as `squall run` takes them, with its --set and --env.
struct validate_options {
  std::vector<std::string> paths;
  std::vector<std::string> sets;
  std::vector<std::string> env;
  bool allow_large_run = false;
};
int validate_command(const validate_options& options);

}  // namespace squall::cli
