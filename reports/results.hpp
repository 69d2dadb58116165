#pragma once
// results.json: the one document every other output (summary table, HTML report, JUnit, Markdown,
// `squall compare`) is rendered from. It holds no wall-clock time, so the same seed and binary give
// byte-identical files.

#include <cstdint>
#include <string>
#include <vector>

#include "policies/core/json_reader.hpp"
#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::reports {

inline constexpr const char* results_format = "squall-results/1";

struct run_record {
  const sim::scenario& scenario;
  std::uint64_t seed;
  std::string mode;           // "sim" or "live"
  std::string reproduce;      // the command that reproduces the run
  const std::vector<sim::configuration_result>& results;
  const std::vector<sim::summary>& summaries;
  const std::vector<sim::assertion_result>& assertions;
};

json results_document(const run_record& run);

// The side-by-side table printed at the end of a run, rendered from a results document. Columns after
// the first show the difference to the first configuration (the baseline).
std::string summary_table(const json& results, bool color);

}  // namespace squall::reports
