#pragma once
// Where a run's failures came from and where its traffic went, in memory that does not grow with the run:
//  - the error table: one row per way of failing (class, HTTP status, provider, model, deciding policy,
//    provider message), counting the requests whose final outcome failed that way (what the caller saw)
//    and, separately, the attempts that failed that way (whether a policy then recovered or not), with
//    the first and last time either was seen;
//  - the traffic table: one row per (provider, model) that attempts went to, with attempts, successes,
//    failures, cancelled attempts, cost and the latency of the answered attempts.
// Both have a fixed number of rows; what comes after the last row is summed in an "other" row, so a run
// with a million distinct provider messages still holds 50 rows.

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "policies/core/outcome.hpp"
#include "sim/metrics/histogram.hpp"

namespace squall::sim {

struct error_row {
  outcome_class kind = outcome_class::ok;
  int http_status = 0;    // 0: no HTTP answer (a timeout, a refused connection, a policy's own decision)
  std::string provider;   // empty when no provider answered (a breaker, a limiter, a timeout above it)
  std::string model;
  std::string policy;     // the policy that produced the outcome (outcome::decided_by); empty: the transport
  std::string message;    // the provider's error type and message, cut; empty without a payload (sim, load)
  bool other = false;     // the row that sums every failure that found the table full
  std::uint64_t requests = 0;  // requests whose final outcome failed this way
  std::uint64_t attempts = 0;  // attempts that failed this way
  double first_s = 0;     // scenario time of the first and the last request or attempt seen failing so
  double last_s = 0;
};

class error_table {
 public:
  static constexpr std::size_t rows_max = 50;
  static constexpr std::size_t message_bytes_max = 160;

  // A request's final outcome (a failure; degraded answers are not errors here), at `at_s`.
  void record_request(const outcome& o, double at_s);
  // A failed attempt to `provider`/`model` (the route it took), answered at `at_s`.
  void record_attempt(const outcome& o, std::string_view provider, std::string_view model, double at_s);

  // The rows in report order: requests, then attempts, descending; ties by the key's fields; the
  // "other" row last, when anything went to it.
  std::vector<error_row> rows() const;

 private:
  void record(const outcome& o, std::string_view provider, std::string_view model, bool request, double at_s);

  std::vector<error_row> rows_;
  error_row other_;
};

struct traffic_row {
  std::string provider;
  std::string model;
  bool other = false;          // the row that sums every (provider, model) past rows_max
  std::uint64_t attempts = 0;  // = successes + failures + cancelled
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;
  std::uint64_t cancelled = 0;  // abandoned by a policy or the run's end before the answer
  double cost_usd = 0;          // billed for the answered attempts
  histogram latency;            // of the answered attempts, success or failure, in microseconds
};

class traffic_table {
 public:
  static constexpr std::size_t rows_max = 32;

  // The row of (provider, model), made when new; stable for the table's life (a deque never moves).
  traffic_row& row(std::string_view provider, std::string_view model);
  // An attempt answered with `o` after `latency`, or cancelled before any answer (`o` null).
  static void record(traffic_row& row, const outcome* o, duration latency) noexcept;

  // In the order first seen (the order traffic reached them), the "other" row last when used.
  std::vector<const traffic_row*> rows() const;

  // Whether anything followed the attempts to the providers at all (a run of a service under test does
  // not: its providers' side is counted elsewhere); an empty table of a measured run means no attempts.
  void mark_measured() noexcept { measured_ = true; }
  bool measured() const noexcept { return measured_; }

 private:
  bool measured_ = false;
  std::deque<traffic_row> rows_;
  traffic_row* other_ = nullptr;
};

}  // namespace squall::sim
