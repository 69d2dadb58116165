#pragma once
// Counts attempts on their way to the providers (the handler under the policy pipeline, above the
// transport), for the simulated and the live driver alike; costs nothing per call beyond a virtual call.

#include "policies/core/call.hpp"
#include "sim/metrics/run_metrics.hpp"

namespace squall::sim {

class attempt_meter final : public handler {
 public:
  attempt_meter(handler& next, run_metrics& metrics) : next_(next), metrics_(metrics) {}
  operation& start(const call_scope& scope, outcome_receiver& receiver) override {
    metrics_.on_attempt();
    return next_.start(scope, receiver);
  }

 private:
  handler& next_;
  run_metrics& metrics_;
};

}  // namespace squall::sim
