#pragma once
// sweep.html: a sweep's page (sweeps/sweep_results.hpp's document): the recommendation, the Pareto frontier
// drawn over every cell (success rate against p99 latency and against cost), and the table of cells. Self-
// contained like report.html: the data, the Vega-Lite specifications and the chart libraries are inside.

#include <string>

#include "policies/core/json_reader.hpp"

namespace squall::reports {

// Pure: the same document gives the same bytes.
std::string sweep_html(const json& sweep);

}  // namespace squall::reports
