#pragma once
// Every run (and every comparison) writes the same set of files, all rendered from one results document:
// results.json, report.html, summary.md, junit.xml and timeseries.csv. The set is written all or nothing
// (cli/output_files.hpp), so a reader (or a CI step that archives the folder) never sees half of it.
#include <string>

#include "policies/core/json_reader.hpp"
#include "cli/terminal.hpp"

namespace squall::cli {

// Writes the files into `out_dir` (created if needed). On failure returns false with `error` set and
// none of the files written (earlier outputs in `out_dir` stay as they were).
bool write_run_outputs(const std::string& out_dir, const json& doc, std::string& error);

// Prints the assertion verdicts of a results document: passes to stdout (unless quiet), failures to
// stderr with the measured value and the bound. Returns true when every assertion held.
bool print_assertions(const json& doc, const terminal& term);

}  // namespace squall::cli
