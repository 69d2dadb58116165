#pragma once
// Options of the circuit breaker (type "circuit_breaker"), with resilience4j's semantics. Each member is
// one JSON key of the policy file, with the same name; the member initialisers are the defaults.
//
//   { "type": "circuit_breaker", "window": "count", "window_size": 50, "calls_min": 20,
//     "failure_rate_threshold": 0.5, "open_ms": 30000, "half_open_calls": 5 }

#include <cstdint>

#include "policies/core/json_reader.hpp"
#include "policies/core/outcome.hpp"
#include "policies/core/outcome_class_set.hpp"

namespace squall {

enum class breaker_window_kind : std::uint8_t { count, time };

struct circuit_breaker_options {
  // What the sliding window holds: the last window_size calls ("count") or the calls of the last
  // window_size seconds ("time"). The default is "count".
  breaker_window_kind window = breaker_window_kind::count;

  // The window's length: calls for a count window (from 1 to 100000), seconds for a time window
  // (from 1 to 3600). The default is 100.
  std::uint32_t window_size = 100;

  // The share of failed calls in the window at or above which the breaker opens. Greater than 0, at
  // most 1. The default is 0.5.
  double failure_rate_threshold = 0.5;

  // The share of slow calls (see slow_call_ms) in the window at or above which the breaker opens.
  // Greater than 0, at most 1. The default is 1.0, so slowness alone opens it only when every call is slow.
  double slow_call_rate_threshold = 1.0;

  // A call taking at least this long, in milliseconds, counts as slow (whatever its outcome). From 1 to
  // 86400000. The default is 60000 ms.
  double slow_call_ms = 60000.0;

  // How many calls the window must hold before its rates are judged, so that two failures out of three
  // calls do not open the breaker. From 1 to 100000; a count window judges at the latest when it is full.
  // The default is 100 calls.
  std::uint32_t calls_min = 100;

  // How long the breaker stays open (rejecting every call) before it lets probes through, in
  // milliseconds. From 1 to 86400000. The default is 60000 ms.
  double open_ms = 60000.0;

  // How many probe calls half-open lets through; the breaker decides once all of them have completed,
  // rejecting further calls meanwhile. From 1 to 1000. The default is 10 calls.
  std::uint32_t half_open_calls = 10;

  // The outcome classes counted as failures; every other outcome counts as a success. rate_limited is
  // not in the default because a 429 says the provider is healthy and we are simply too fast: opening
  // the breaker would turn a rate limit into an outage. The default is
  // ["overloaded", "server_error", "timeout", "connection_error"].
  outcome_class_set failure_on{outcome_class::overloaded, outcome_class::server_error, outcome_class::timeout,
                               outcome_class::connection_error};
};

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_circuit_breaker_options(json_reader& reader, circuit_breaker_options& options);

}  // namespace squall
