#pragma once
// The flat summary of one configuration's run: every metric a report shows and an assertion may bound,
// by the names listed in scenario.hpp's summary_metric_names().

#include <string>
#include <utility>
#include <vector>

#include "sim/run/simulation.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::sim {

using summary = std::vector<std::pair<std::string, double>>;

summary summarize(const configuration_result& result);
double summary_value(const summary& s, const std::string& metric);

struct assertion_result {
  assertion bound;
  double measured = 0;
  bool passed = false;
};

std::vector<assertion_result> check_assertions(const scenario& s, const std::vector<configuration_result>& results,
                                               const std::vector<summary>& summaries);

}  // namespace squall::sim
