#pragma once
// Reading results.json back (for `squall compare`, multi-seed aggregation and re-rendering): a file
// that cannot be read, is not JSON, or is not a "squall-results/1" document gives an error value naming
// the file, the JSON path and what was expected. Nothing here throws on bad input.

#include <optional>
#include <string>

#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"

namespace squall::reports {

// Checks the parts of a results document that the writers, compare_results() and aggregate_seeds()
// rely on: format, scenario name and digest, seed, reproduce, a non-empty configurations array (each with
// a unique name and a summary of numbers; series, when present, an object of arrays), and assertions.
// `file` only labels the error.
std::optional<config_error> check_results(const json& doc, const std::string& file);

// Reads and checks one results.json.
config_result<json> load_results(const std::string& path);

}  // namespace squall::reports
