#pragma once
// The hedging policy (Polly v8 hedging semantics): start the first attempt; when it has not answered
// after the hedge delay, or as soon as an attempt fails with a class in hedge_on, start another one in
// parallel, up to hedges_max extra attempts. The first acceptable answer wins (ok, or a failure of a
// class not in hedge_on) and the other attempts are cancelled; when every attempt failed with a hedge_on
// class, the last of those failures is delivered.
//
// Every attempt runs through the same next handler with the same scope (so a timeout placed inside the
// hedging bounds each attempt). The hedge delay is fixed (delay_ms) or the chosen percentile of the recent
// latencies of single attempts (first attempts, raced or not, but not hedges); an optional budget shared by
// all calls gates every hedge.

#include <memory>
#include <optional>
#include <string>

#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/runtime.hpp"
#include "policies/hedging/hedging_options.hpp"
#include "policies/hedging/latency_percentile.hpp"
#include "policies/pipeline/policy_spec.hpp"
#include "policies/retry/retry_budget.hpp"

namespace squall {

class hedging_handler final : public handler {
 public:
  // `name` is what events carry.
  hedging_handler(const hedging_options& options, std::string name, const policy_environment& env, handler& next);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  const hedging_options& options() const noexcept { return options_; }
  const retry_budget& budget() const noexcept { return budget_; }
  // The delay the next call would wait before its first hedge.
  duration hedge_delay();

 private:
  friend class hedging_call;

  const hedging_options options_;
  const std::string name_;
  const duration delay_fixed_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  retry_budget budget_;
  std::optional<latency_percentile> latencies_;  // only with delay_percentile
};

class hedging_spec final : public policy_spec {
 public:
  explicit hedging_spec(const hedging_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "hedging"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  hedging_options options;
};

policy_registration hedging_registration();

}  // namespace squall
