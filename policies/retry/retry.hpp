#pragma once
// The retry policy: when an attempt fails with a class worth retrying, wait (backoff with jitter, or the
// server's Retry-After hint) and try again, within attempts_max and the call's deadline.
//
// Every attempt gets the same scope, so a timeout placed inside the retry is a per-attempt timeout and
// one placed outside bounds the whole call, retries and waits included. The outcome delivered is the
// last attempt's, unchanged.
//
// Server hints steer it (Retry-After, retry-after-ms, x-should-retry, the rate-limit reset), per-class
// settings tune it per failure class, and an optional budget shared by all its calls stops retry storms.

#include <array>
#include <memory>
#include <string>

#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/object_pool.hpp"
#include "policies/core/rng.hpp"
#include "policies/core/runtime.hpp"
#include "policies/pipeline/policy_spec.hpp"
#include "policies/retry/retry_budget.hpp"
#include "policies/retry/retry_options.hpp"

namespace squall {

class retry_call;

class retry_handler final : public handler {
 public:
  // `name` is what events carry. `env.seed` seeds this instance's jitter draws.
  retry_handler(const retry_options& options, std::string name, const policy_environment& env, handler& next);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  const retry_options& options() const noexcept { return options_; }
  const retry_budget& budget() const noexcept { return budget_; }

 private:
  friend class retry_call;

  const retry_options options_;
  // The per-class settings resolved once, so that the call path indexes instead of merging.
  std::array<retry_class_settings, outcome_class_count> settings_;
  const std::string name_;
  const duration retry_after_max_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  rng random_;
  retry_budget budget_;
  object_pool<retry_call> calls_;  // one per call in flight, reused
};

class retry_spec final : public policy_spec {
 public:
  explicit retry_spec(const retry_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "retry"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  retry_options options;
};

policy_registration retry_registration();

}  // namespace squall
