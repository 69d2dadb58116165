#pragma once
// The token and spend budget: each fixed period of period_s seconds (aligned to the runtime's clock
// when the policy is built) may use at most tokens_max tokens and/or usd_max dollars. A call that would
// not fit is refused with `rejected`, or sent on to a cheaper model ("downgrade").
//
// Spend is counted from the answers (their input plus output tokens and cost_usd), and every call
// reserves an estimate when it starts: its request's input plus expected output tokens, and those tokens
// at the average price per token of the answers seen so far. A call fits when the period's spend, the
// reservations of the calls in flight and its own estimate stay within every limit, so concurrent
// calls cannot overshoot by more than the estimates are wrong (and, for usd_max, before the first
// answer has taught the policy a price, by the calls then in flight).
//
// When the answer arrives, the reservation is released and the real usage charged to the period the
// answer arrives in; a reservation made in an earlier period has already been dropped by the reset. A
// call cancelled by its caller is charged its estimate: the provider may well have done the work.
// Downgraded calls are not refused, but their answers are charged too.

#include <cstdint>
#include <memory>
#include <string>

#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/runtime.hpp"
#include "policies/pipeline/policy_spec.hpp"
#include "policies/token_budget/token_budget_options.hpp"

namespace squall {

class token_budget_handler final : public handler {
 public:
  token_budget_handler(const token_budget_options& options, std::string name, const policy_environment& env,
                       handler& next);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  // The current period's figures, as of the last call or answer.
  double spent_tokens() const noexcept { return spent_tokens_; }
  double spent_usd() const noexcept { return spent_usd_; }
  double reserved_tokens() const noexcept { return reserved_tokens_; }
  double reserved_usd() const noexcept { return reserved_usd_; }
  std::int64_t period() const noexcept { return period_; }

 private:
  friend class budget_call;

  struct reservation {
    std::int64_t period = 0;
    double tokens = 0.0;
    double usd = 0.0;
  };

  // Moves to the period of `now`, forgetting the previous one's spend and reservations.
  void roll(time_point now) noexcept;
  void settle(const reservation& r, const outcome& result) noexcept;
  void charge_estimate(const reservation& r) noexcept;
  void release(const reservation& r) noexcept;

  const token_budget_options options_;
  const std::string name_;
  const duration period_length_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;

  const time_point origin_;
  std::int64_t period_ = 0;
  double spent_tokens_ = 0.0;
  double spent_usd_ = 0.0;
  double reserved_tokens_ = 0.0;
  double reserved_usd_ = 0.0;
  // Every answer ever seen, for the price estimate (dollars per token).
  double seen_tokens_ = 0.0;
  double seen_usd_ = 0.0;
};

class token_budget_spec final : public policy_spec {
 public:
  explicit token_budget_spec(const token_budget_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "token_budget"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  token_budget_options options;
};

policy_registration token_budget_registration();

}  // namespace squall
