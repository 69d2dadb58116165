#pragma once
// The loadbalance policy: each call goes to ONE target drawn at random with probability weight / (sum of
// the weights), as Portkey's gateway does for strategy.mode "loadbalance" (src/handlers/handlerUtils.ts,
// tryTargetsRecursively, 1.15.2 and 2.2.3): u = uniform[0, 1) * total, then the first target whose weight
// is above what is left of u, taking each weight off u in turn. A target of weight 0 is never drawn. The
// call is not moved to another target when the drawn one fails: put a retry inside to retry the target,
// or a fallback outside to try something else.
//
// With "breaker", each target has a Portkey circuit breaker (policies/core/target_breaker.hpp), checked
// when a call starts: open targets are left out and the draw is over the others' weights. When every
// target is open none is left out (Portkey bypasses its breakers then). When the targets left all weigh
// 0, the call fails at once with server_error, where Portkey's gateway answers an error because it
// selected nothing.
//
// Randomness: one draw per call from the policy's own stream (env.seed), in call order.
//
// Routing rewrites call->req.provider / call->req.model while the inner call runs and puts the request's
// own values back before delivering (or when cancelled), so outer layers see the request as the caller
// made it. Placement: OUTSIDE any hedging policy, whose parallel attempts share one call_context.

#include <memory>
#include <optional>
#include <string>

#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/rng.hpp"
#include "policies/core/runtime.hpp"
#include "policies/core/target_breaker.hpp"
#include "policies/loadbalance/loadbalance_options.hpp"
#include "policies/pipeline/policy_spec.hpp"

namespace squall {

class loadbalance_handler final : public handler {
 public:
  loadbalance_handler(const loadbalance_options& options, std::string name, const policy_environment& env,
                      handler& next);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  const loadbalance_options& options() const noexcept { return options_; }
  // The breakers' counts (nullptr without "breaker").
  const target_breakers* breakers() const noexcept { return breakers_ ? &*breakers_ : nullptr; }

 private:
  friend class loadbalance_call;

  // The target a call goes to, or nullopt when the targets left all weigh 0.
  std::optional<std::size_t> draw(std::uint32_t left_out);
  void record(std::size_t index, const outcome& result, std::uint64_t request_id);
  void emit(policy_event_kind kind, std::uint64_t request_id, outcome_class cause, std::uint64_t value,
            std::string_view detail);

  const loadbalance_options options_;
  const std::string name_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  rng random_;
  std::optional<target_breakers> breakers_;
};

class loadbalance_spec final : public policy_spec {
 public:
  explicit loadbalance_spec(const loadbalance_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "loadbalance"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  loadbalance_options options;
};

policy_registration loadbalance_registration();

}  // namespace squall
