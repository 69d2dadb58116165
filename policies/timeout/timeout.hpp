#pragma once
// The timeout policy: abandon the inner work when it takes longer than timeout_ms, cancelling it, and
// answer with a `timeout` failure.
//
// There is one timeout type; where it sits in the pipeline decides what it bounds:
//  - outside a retry, it is the overall deadline of the call: attempts and backoff waits included, and
//    the retry inside sees the tightened deadline and stops scheduling retries that could not finish;
//  - inside a retry, it is a per-attempt timeout: each attempt gets its own timeout_ms, and the
//    `timeout` failure it produces is what the retry sees (and retries, by default).
// The inner layers also get the tighter deadline in their scope: min(outer deadline, now + timeout_ms).

#include <memory>
#include <string>

#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/object_pool.hpp"
#include "policies/core/runtime.hpp"
#include "policies/pipeline/policy_spec.hpp"
#include "policies/timeout/timeout_options.hpp"

namespace squall {

class timeout_call;

class timeout_handler final : public handler {
 public:
  timeout_handler(const timeout_options& options, std::string name, const policy_environment& env, handler& next);
  ~timeout_handler() override;

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  duration timeout() const noexcept { return timeout_; }

 private:
  friend class timeout_call;

  const duration timeout_;
  const std::string name_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  object_pool<timeout_call> calls_;  // one per call in flight, reused
};

class timeout_spec final : public policy_spec {
 public:
  explicit timeout_spec(const timeout_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "timeout"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  timeout_options options;
};

policy_registration timeout_registration();

}  // namespace squall
