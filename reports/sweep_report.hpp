#pragma once
// The writers of a sweep (sweeps/sweep_results.hpp's "squall-sweep/1" document): sweep.md, sweep.csv and the
// few lines the terminal prints. Like every writer they read the document alone, so a merged sweep renders
// exactly as the unsharded one.

#include <string>

#include "policies/core/json_reader.hpp"

namespace squall::reports {

// "retry.attempts_max=3, circuit_breaker.failure_rate=0.5", or "as written" for a baseline cell.
std::string sweep_cell_label(const json& sweep, const json& cell);

// The recommendation, the frontier and a table of every cell, in Markdown (CI job summaries render it).
std::string sweep_markdown(const json& sweep);

// One row per cell: index, configuration, each parameter's value, the metrics, frontier, meets_constraints.
std::string sweep_csv(const json& sweep);

// What `squall sweep` and `squall merge` print at the end: the frontier and the recommendation.
std::string sweep_terminal(const json& sweep);

}  // namespace squall::reports
