#pragma once
// What the fake providers saw of a service under test, per configuration: every upstream attempt,
// attributed to the user request that caused it (fake_providers/upstream_attempt.hpp), joined with what
// the service's users saw (runs/service_handler.hpp). Written to results.json as the configuration's
// "upstream" object (docs/results-format.md) and summarised in the upstream_* summary metrics.
//
// Definitions, so that the figures can be checked by hand from the attempt list:
//   attempts_per_request   attributed attempts / user requests answered (a request the service failed
//                          fast, without calling a provider, counts with 0)
//   attempts_request_peak  the most attempts any one user request caused
//   retries                attributed attempts beyond each request's first
//   retry delay            from the end of an attempt to the arrival of the same request's next one (the
//                          pause a client's backoff makes, plus its own time to send again)
//   cost_wasted_usd        billed cost that gave the user nothing: every attempt of a request the user saw
//                          fail, and every attempt but the last billed one of a request that succeeded;
//                          unattributed attempts are counted in cost_usd only

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fake_providers/upstream_attempt.hpp"
#include "policies/core/json_reader.hpp"
#include "runs/service_handler.hpp"

namespace squall::runs {

struct upstream_view {
  json document;                                    // the configuration's "upstream"
  std::vector<std::pair<std::string, double>> summary;  // the upstream_* metrics, in upstream_metric_names order
};

// `attempts` in arrival order; `not_recorded`: attempts the server served but did not keep (its cap);
// `interval_s` and `end_s`: the time series' step and end, as the user side's.
upstream_view make_upstream_view(const std::vector<fake::upstream_attempt>& attempts, std::uint64_t not_recorded,
                                 const service_side& users, double interval_s, double end_s);

}  // namespace squall::runs
