#pragma once
// The per-provider figures of every configuration (configurations[].providers of results.json) as one
// table of text cells, so that the Markdown summary and the HTML report show the same rows in the same
// words.

#include <string>
#include <vector>

#include "policies/core/json_reader.hpp"

namespace squall::reports {

struct provider_table {
  std::vector<std::string> header;              // "configuration", "provider", "peak busy", ...
  std::vector<std::vector<std::string>> rows;   // one per (configuration, provider), in document order
};

// Empty (no rows) when no provider of any configuration has queue wait figures: a live run or a service
// under test measures none, and a table of peaks alone would only repeat what the charts show.
provider_table provider_figures(const json& results);

}  // namespace squall::reports
