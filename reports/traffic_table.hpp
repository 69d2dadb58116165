#pragma once
// Where failures came from and where the traffic went (configurations[].errors, .providers and .models
// of results.json) as tables of text cells, so that summary.md and the HTML report show the same rows in
// the same words. Documents without those keys (an older squall's, a run of a service under test) give
// empty tables: the writers then leave the section out.

#include "policies/core/json_reader.hpp"
#include "reports/provider_table.hpp"

namespace squall::reports {

// One row per configuration and way of failing: configuration, class, status, provider, model, policy,
// message, requests (final outcomes), attempts, first, last. "-" for a field the row does not have.
provider_table error_figures(const json& results);

// One row per configuration and provider that attempts went to (the model column names its model when
// it served one, "all" when several, each then on a row of its own below): attempts, successes,
// failures, cancelled, cost, attempt latency p50 and p95.
provider_table traffic_figures(const json& results);

}  // namespace squall::reports
