#pragma once
// The writers of a sweep (sweeps/sweep_results.hpp's "squall-sweep/1" document): sweep.md, sweep.csv and the
// few lines the terminal prints. Like every writer they read the document alone, so a merged sweep renders
// exactly as the unsharded one.

#include <string>

#include "policies/core/json_reader.hpp"

namespace squall::reports {

// A member of a sweep document's object, or null when `j` is no object or has no such key: the writers read
// whatever the document holds without throwing.
const json& sweep_member(const json& j, const char* key);
// A cell's metric, 0 when the cell has none (it did not run).
double sweep_metric(const json& cell, const char* key);

// "retry.attempts_max=3, circuit_breaker.failure_rate_threshold=0.5", or "as written" for a baseline cell.
std::string sweep_cell_label(const json& sweep, const json& cell);

// The recommendation, the frontier and a table of every cell, in Markdown (CI job summaries render it).
std::string sweep_markdown(const json& sweep);

// One row per cell: index, configuration, each parameter's value, the metrics, frontier, meets_constraints.
std::string sweep_csv(const json& sweep);

// What `squall sweep` and `squall merge` print at the end: the frontier and the recommendation.
std::string sweep_terminal(const json& sweep);

}  // namespace squall::reports
