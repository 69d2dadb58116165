#pragma once
// The coalesce policy ("single flight"): identical calls in flight at the same time share one inner
// call. Identical means the same request.cache_key (0 = not coalescable: the call passes straight
// through), model and provider. The first call starts the inner call (it is the leader); later ones
// attach to it as waiters, up to waiters_max (a caller beyond that starts its own, uncoalesced call);
// each attaching waiter emits `coalesced`. When the inner call answers, every attached caller gets the
// answer, success or failure.
//
// Cost and attempts are counted once. The inner call runs on a call_context of its own (a copy of the
// leader's request), so that it survives its leader; when it answers, its attempts and bill are added
// to the payer's call, the payer's outcome keeps cost_usd, and every other copy has cost_usd = 0 and
// a latency measured from when that caller attached. The payer is the leader, or, when the leader has
// cancelled, the caller that attached earliest among those still waiting.
//
// Cancellation: a cancelled waiter just detaches. A cancelled leader detaches too, and the inner call
// goes on for the waiters (still bounded by the leader's deadline, which it started with). When the last
// caller is gone, the inner call is cancelled. Memory is bounded by in_flight_max tracked calls (a new
// key beyond that passes through) and waiters_max callers per call.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "policies/coalesce/coalesce_options.hpp"
#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/runtime.hpp"
#include "policies/pipeline/policy_spec.hpp"

namespace squall {

class coalesce_flight;

class coalesce_handler final : public handler {
 public:
  coalesce_handler(const coalesce_options& options, std::string name, const policy_environment& env, handler& next);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  std::size_t in_flight() const noexcept { return flights_.size(); }

 private:
  friend class coalesce_flight;

  const coalesce_options options_;
  const std::string name_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  std::unordered_map<std::uint64_t, coalesce_flight*> flights_;  // bounded by in_flight_max
};

class coalesce_spec final : public policy_spec {
 public:
  explicit coalesce_spec(const coalesce_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "coalesce"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  coalesce_options options;
};

policy_registration coalesce_registration();

}  // namespace squall
