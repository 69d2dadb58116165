#pragma once
// One invocation that ran several scenarios (`squall run scenarios/` in CI): an index of their reports
// (index.html, index.md), and the one JSON summary (--summary-json) a CI step reads instead of scraping
// the terminal. A single run writes the same summary with one entry, so a script needs one parser.

#include <string>
#include <vector>

#include "policies/core/json_reader.hpp"  // json

namespace squall::reports {

struct suite_run {
  std::string file;     // the scenario file as given
  std::string out_dir;  // where its outputs went (relative to the index for the index pages)
  int exit_code = 0;    // what `squall run` alone would have returned for it
  json results;         // its results document; null when it wrote none (its outputs could not be written)
  std::string error;    // why it has no results, when it has none
};

// The --summary-json document: {"format", "squall_version", "verdict", "exit_code", "runs": [{"scenario",
// "file", "out_dir", "exit_code", "verdict", "seed", "reproduce", "configurations": [{"name", "reference",
// "summary"}], "assertions"}]}. docs/results-format.md describes it.
json suite_summary(const std::vector<suite_run>& runs, int exit_code);

// index.md: one row per scenario with its verdict and assertions, then one row per configuration.
std::string suite_markdown(const std::vector<suite_run>& runs, int exit_code);

}  // namespace squall::reports
