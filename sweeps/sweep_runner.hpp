#pragma once
// Runs a sweep's units (cell x seed) in virtual time on several threads. Each unit is one configuration of
// the cell's scenario run alone on one seed (sim/run/simulation.hpp); a unit shares nothing with another
// but the read-only scenario file, so the threads need no lock but the one around progress. Memory is
// bounded by the threads: a unit keeps only its record (counts and a sparse histogram) once it is done.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "policies/core/config_error.hpp"
#include "sim/run/run_budget.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/scenario/scenario_document.hpp"
#include "sweeps/sweep_plan.hpp"
#include "sweeps/sweep_results.hpp"

namespace squall::sweeps {

// The scenario of one cell: `file` read with the command line's inputs and then the cell's --set changes,
// and the index of its configuration. An error names the cell and its changes.
struct cell_scenario {
  sim::scenario scenario;
  std::size_t configuration = 0;
};
config_result<cell_scenario> load_cell(const std::string& file, const sim::scenario_inputs& inputs, const sweep_plan& plan,
                                       std::size_t cell);

// Reads every cell once and checks it, and the whole sweep (requests over all units; `jobs` runs at once
// in memory), against the limits, before anything runs; the first mistake is returned.
std::optional<config_error> check_sweep(const std::string& file, const sim::scenario_inputs& inputs, const sweep_plan& plan,
                                        const sim::run_limits& limits, std::uint32_t jobs, const char* raise_hint);

struct sweep_run_options {
  std::uint32_t jobs = 1;
  shard_spec shard;                        // the units this process runs
  const std::atomic<bool>* stop = nullptr;  // set from another thread: runs under way end, no new one starts
  // After each unit: how many of this shard's are done, of how many. Called under a lock, on any thread.
  std::function<void(std::size_t done, std::size_t total)> progress;
};

// One record per unit of the plan: those the shard owns and ran, nullopt for the rest.
std::vector<std::optional<unit_record>> run_units(const std::string& file, const sim::scenario_inputs& inputs,
                                                  const sweep_plan& plan, const sweep_run_options& options);

}  // namespace squall::sweeps
