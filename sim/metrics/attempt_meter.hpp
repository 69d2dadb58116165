#pragma once
// Counts attempts on their way to the providers (the handler under the policy pipeline, above the
// transport), for the simulated and the live driver alike, and follows each to its end: which provider
// and model it went to, whether it was answered (and how, after how long, at what cost) or cancelled.
// That is the per-provider and per-model traffic of the report, and the attempts' side of its error
// table (traffic_tables.hpp). Per-attempt records come from a pool: nothing is allocated per attempt
// once the pool has grown to the most attempts in flight at once.

#include <string>
#include <string_view>
#include <utility>

#include "policies/core/call.hpp"
#include "policies/core/free_list_pool.hpp"
#include "policies/core/runtime.hpp"
#include "sim/metrics/run_metrics.hpp"

namespace squall::sim {

class attempt_meter final : public handler {
 public:
  // Follows every attempt to its end. `default_provider` names the route of a request that names none, as
  // the transport below resolves it.
  attempt_meter(handler& next, run_metrics& metrics, runtime& clock, std::string default_provider)
      : next_(next), metrics_(metrics), clock_(&clock), default_provider_(std::move(default_provider)) {
    metrics_.traffic().mark_measured();
  }
  // Counts calls only: for a handler that is not a transport to providers (a service under test, whose
  // own attempts to the providers are counted on the providers' side).
  attempt_meter(handler& next, run_metrics& metrics) : next_(next), metrics_(metrics) {}
  attempt_meter(const attempt_meter&) = delete;
  attempt_meter& operator=(const attempt_meter&) = delete;

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  std::size_t in_flight() const noexcept { return pool_.in_use(); }

 private:
  struct relay final : operation, outcome_receiver {
    void on_outcome(outcome&& result) override { owner->answered(*this, std::move(result)); }
    void cancel() noexcept override { owner->cancelled(*this); }

    attempt_meter* owner = nullptr;
    outcome_receiver* receiver = nullptr;
    operation* inner = nullptr;
    traffic_row* row = nullptr;  // the route the attempt took: (provider, the request's model)
    time_point started{};
    relay* next_free = nullptr;
  };

  void answered(relay& r, outcome&& result);
  void cancelled(relay& r) noexcept;

  handler& next_;
  run_metrics& metrics_;
  runtime* clock_ = nullptr;  // null: counting only
  std::string default_provider_;
  free_list_pool<relay> pool_;
};

}  // namespace squall::sim
