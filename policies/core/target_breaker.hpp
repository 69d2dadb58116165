#pragma once
// A circuit breaker per target, with the semantics of Portkey's gateway (2.2.3, branch 2.0.0 of
// Portkey-AI/gateway: src/utils/circuitBreaker.ts checkCircuitBreakerStatus / handleCircuitBreakerResponse,
// and the cache providers' recordFailure / recordSuccess in src/services/cache/providers/). The fallback and
// loadbalance policies keep one per endpoint when their "breaker" key is given.
//
// Each target counts its failures and successes. Its first failure starts the clock: successes counted
// before it are dropped, and cooldown_ms after it (strictly after) everything is forgotten, open or not.
// Until then the target is open once its failures reach failures_to_open, or once requests_min answers
// are counted and failures make at least failure_percent_to_open percent of them. There is no half-open
// state and no probe: an open target closes by itself when the clock runs out, which is checked when a
// call starts (as Portkey checks its stored counts at the start of each request).
//
// What counts: an ok answer is a success; a failure is judged by its HTTP status (failure_on_status, by
// default every status from 500). A failure without a status stands for the status Portkey's gateway
// would have answered: 408 for a timeout (its request_timeout), 500 for a connection error, and the usual
// status of its class otherwise (503 overloaded, 500 server_error, 429 rate_limited or quota, 400
// invalid_request, 401 auth); a class with no status (a rejection by a policy inside) is not counted.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "policies/core/http_status_set.hpp"
#include "policies/core/json_reader.hpp"
#include "policies/core/outcome.hpp"
#include "policies/core/time.hpp"

namespace squall {

// The "breaker" object of the fallback and loadbalance policies (Portkey's strategy.cb_config). Each
// member is one JSON key; the member initialisers are the defaults. At least one of failures_to_open and
// failure_percent_to_open must be above 0.
//
//   "breaker": { "failures_to_open": 5, "cooldown_ms": 60000, "failure_on_status": [429, "5xx"] }
struct target_breaker_options {
  // Failures since the first one at or above which the target is open (Portkey's failure_threshold).
  // 0 opens it by share alone. From 0 to 100000. The default is 0.
  std::uint32_t failures_to_open = 0;

  // The percentage of failures among the answers counted since the first failure at or above which the
  // target is open, judged once requests_min answers are counted (Portkey's failure_threshold_percentage;
  // a percentage, not a rate, so that the comparison is Portkey's to the last bit). 0 opens it by count
  // alone. From 0 to 100. The default is 0.
  double failure_percent_to_open = 0.0;

  // Answers counted before the share is judged (Portkey's minimum_requests). From 1 to 100000. The
  // default is 5 answers (Portkey's).
  std::uint32_t requests_min = 5;

  // How long after its first failure a target's counts are forgotten (and an open target closes), in
  // milliseconds (Portkey's cooldown_interval, which Portkey raises to at least 30000; the importer does
  // the same). From 1 to 86400000. The default is 30000 ms.
  double cooldown_ms = 30000.0;

  // The statuses that count as failures (Portkey's failure_status_codes). Items are statuses from 100 to
  // 599 or classes "1xx" to "5xx". The default is unset: every status from 500.
  std::optional<http_status_set> failure_on_status;
};

// Reads the keys above from `reader` (the "breaker" object), checking ranges.
void read_target_breaker_options(json_reader& reader, target_breaker_options& options);

// Reads `key` (when present) as a breaker object into `out`. Mistakes name the JSON path.
void read_target_breaker(json_reader& reader, std::string_view key, std::optional<target_breaker_options>& out);

// The status a breaker judges an outcome by (see above); 0 for an ok answer or a class without one.
int breaker_status(const outcome& result) noexcept;

// The breakers of up to 32 targets, as bit masks (the policies hold at most 16).
class target_breakers {
 public:
  static constexpr std::size_t targets_max = 32;

  target_breakers(const target_breaker_options& options, std::size_t targets);

  struct check {
    std::uint32_t open = 0;       // bit i: target i is open now
    std::uint32_t recovered = 0;  // bit i: target i was open and its cooldown has just run out
  };
  // At the start of a call: forgets the counts of every target whose cooldown since its first failure has
  // passed, then tells which are open.
  check start_call(time_point now);

  // An answer from target `index` at `now`. Returns true when it made the target open (it was not).
  bool record(std::size_t index, const outcome& result, time_point now);

  std::uint64_t failures(std::size_t index) const noexcept { return states_[index].failures; }
  std::uint64_t successes(std::size_t index) const noexcept { return states_[index].successes; }

 private:
  struct state {
    std::uint64_t failures = 0;
    std::uint64_t successes = 0;
    bool failing = false;      // a first failure is recorded
    time_point first_failure{};
  };
  bool is_open(const state& s) const noexcept;

  target_breaker_options options_;
  duration cooldown_;
  std::vector<state> states_;
};

}  // namespace squall
