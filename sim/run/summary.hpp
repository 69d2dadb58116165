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

// What an assertion's check came to. An assertion on a configuration that never ran (the run was
// interrupted before it) is not_run; one on a configuration that ran only in part (interrupted, or cut by
// a live cap) is incomplete: its measured value describes the part that ran, and it is not a pass.
enum class assertion_state { passed, failed, incomplete, not_run };

struct assertion_result {
  assertion bound;
  double measured = 0;  // meaningless when not_run or when note says there is no value
  bool passed = false;  // state == passed
  assertion_state state = assertion_state::failed;
  // Why the metric has no value ("no samples: no request succeeded", "not recovered before the run
  // ended"): such an assertion fails, whatever its bound. Empty when measured holds the value.
  std::string note;
};

// Why `metric` of a configuration's whole run has no samples (a latency percentile of no request, a rate
// over nothing), or empty when it has a value. A bound on a metric without samples fails: a percentile of
// nothing reads as 0 and would pass any _max bound (k6#4283).
std::string no_samples(const configuration_result& result, const summary& s, const std::string& metric);

// "pass", "fail", "incomplete", "not run": the words results.json and every report use.
const char* to_string(assertion_state state) noexcept;

// One result per assertion of the scenario, in the scenario's order. `results` are the configurations
// that ran, in the scenario's order (an interrupted run has fewer than the scenario names).
std::vector<assertion_result> check_assertions(const scenario& s, const std::vector<configuration_result>& results,
                                               const std::vector<summary>& summaries);

}  // namespace squall::sim
