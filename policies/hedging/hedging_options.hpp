#pragma once
// Options of the hedging policy (type "hedging"). Each member is one JSON key of the policy file, with
// the same name; the member initialisers are the defaults.
//
//   { "type": "hedging", "delay_percentile": 0.95, "delay_ms": 2000, "hedges_max": 1,
//     "hedge_on": ["overloaded", "server_error", "connection_error"],
//     "budget": { "kind": "percent", "percent": 10, "window_s": 10, "retries_min_per_s": 1 } }

#include <cstdint>
#include <optional>

#include "policies/core/json_reader.hpp"
#include "policies/core/outcome.hpp"
#include "policies/core/outcome_class_set.hpp"
#include "policies/retry/retry_budget.hpp"

namespace squall {

struct hedging_options {
  // How long an attempt runs before the next hedge starts, in milliseconds. From 0 to 3600000. With
  // delay_percentile, the delay used until enough latencies are known. The default is 1000 ms.
  double delay_ms = 1000.0;

  // When set, the hedge delay is this percentile of the recent latencies of single attempts, so that the
  // timer starts a hedge in about 1 - delay_percentile of the calls (0.95 = p95: about 5%). A first
  // attempt counts whether or not a hedge raced it (one a hedge overtook, by the time it ran, a lower
  // bound above the delay); a hedge does not (it answers only when it wins: the fast ones), nor do
  // failures and degraded answers. Greater than 0 and less than 1. The default is unset: always delay_ms.
  std::optional<double> delay_percentile;

  // How many recent latencies of single attempts the percentile is taken over. From 1 to 100000.
  // The default is 1000.
  std::uint32_t latency_window = 1000;

  // Below this many recorded latencies, delay_ms is used. From 1 to 100000, and at most latency_window.
  // The default is 20.
  std::uint32_t latency_samples_min = 20;

  // Extra attempts a call may start beyond the first. From 1 to 5. The default is 1.
  std::uint32_t hedges_max = 1;

  // Failure classes that start the next hedge at once instead of ending the call; a failure of another
  // class is delivered and the other attempts are cancelled. ok, invalid_request, auth and quota may not
  // be listed. The default is ["overloaded", "server_error", "connection_error"].
  outcome_class_set hedge_on{outcome_class::overloaded, outcome_class::server_error,
                             outcome_class::connection_error};

  // The budget shared by every call through this policy instance that each hedge must fit in (the same
  // schema as the retry budget; a failure counted by a token bucket is a hedge_on failure). The default
  // is no budget.
  retry_budget_options budget;
};

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_hedging_options(json_reader& reader, hedging_options& options);

}  // namespace squall
