#include "policies/token_budget/token_budget.hpp"

#include "policies/core/deferred_answer.hpp"

#include <algorithm>
#include <utility>

namespace squall {

// One call let through: holds its reservation until the answer settles it.
class budget_call final : public operation, public outcome_receiver {
 public:
  budget_call(token_budget_handler& owner, outcome_receiver& receiver, token_budget_handler::reservation r)
      : owner_(owner), receiver_(receiver), reservation_(r) {}

  void begin(const call_scope& scope) { inner_ = &owner_.next_.start(scope, *this); }

  void cancel() noexcept override {
    inner_->cancel();
    owner_.charge_estimate(reservation_);
    delete this;
  }

  void on_outcome(outcome&& result) override {
    owner_.settle(reservation_, result);
    outcome_receiver& receiver = receiver_;
    delete this;
    receiver.on_outcome(std::move(result));
  }

 private:
  token_budget_handler& owner_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
  token_budget_handler::reservation reservation_;
};

token_budget_handler::token_budget_handler(const token_budget_options& options, std::string name,
                                           const policy_environment& env, handler& next)
    : options_(options),
      name_(std::move(name)),
      period_length_(from_s(options.period_s)),
      clock_(env.clock),
      events_(env.events),
      next_(next),
      origin_(env.clock.now()) {}

void token_budget_handler::roll(time_point now) noexcept {
  const std::int64_t period = (now - origin_) / period_length_;
  if (period == period_) return;
  period_ = period;
  spent_tokens_ = spent_usd_ = reserved_tokens_ = reserved_usd_ = 0.0;
}

operation& token_budget_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  roll(clock_.now());
  reservation r{period_, 0.0, 0.0};
  if (scope.call != nullptr) {
    r.tokens = static_cast<double>(scope.call->req.input_tokens) + static_cast<double>(scope.call->req.output_tokens);
  }
  r.usd = seen_tokens_ > 0.0 ? r.tokens * (seen_usd_ / seen_tokens_) : 0.0;

  const bool fits = (!options_.tokens_max || spent_tokens_ + reserved_tokens_ + r.tokens <= *options_.tokens_max) &&
                    (!options_.usd_max || spent_usd_ + reserved_usd_ + r.usd <= *options_.usd_max);
  if (!fits) {
    const std::uint64_t id = scope.call != nullptr ? scope.call->req.id : 0;
    if (options_.on_exceeded == budget_exceeded_mode::reject || scope.call == nullptr) {
      events_.on_policy_event(policy_event{policy_event_kind::budget_rejected, name_, clock_.now(), id, duration{},
                                           outcome_class::rejected, 0, {}});
      return deferred_answer::start(clock_, outcome::failure(outcome_class::rejected, name_), duration{}, receiver);
    }
    scope.call->req.model = options_.downgrade_model;
    events_.on_policy_event(policy_event{policy_event_kind::budget_rerouted, name_, clock_.now(), id, duration{},
                                         outcome_class::ok, 0, options_.downgrade_model});
    // Not reserved: a downgraded call is never refused, so its estimate would only block calls that fit.
    r.tokens = r.usd = 0.0;
  }
  reserved_tokens_ += r.tokens;
  reserved_usd_ += r.usd;
  auto* call = new budget_call(*this, receiver, r);
  call->begin(scope);
  return *call;
}

void token_budget_handler::release(const reservation& r) noexcept {
  if (r.period != period_) return;  // dropped with its period
  // Clamped: sums of doubles need not cancel exactly.
  reserved_tokens_ = std::max(0.0, reserved_tokens_ - r.tokens);
  reserved_usd_ = std::max(0.0, reserved_usd_ - r.usd);
}

void token_budget_handler::settle(const reservation& r, const outcome& result) noexcept {
  roll(clock_.now());
  release(r);
  const double tokens = static_cast<double>(result.input_tokens) + static_cast<double>(result.output_tokens);
  spent_tokens_ += tokens;
  spent_usd_ += result.cost_usd;
  if (tokens > 0.0) {
    seen_tokens_ += tokens;
    seen_usd_ += result.cost_usd;
  }
}

void token_budget_handler::charge_estimate(const reservation& r) noexcept {
  roll(clock_.now());
  if (r.period != period_) return;
  release(r);
  spent_tokens_ += r.tokens;
  spent_usd_ += r.usd;
}

std::unique_ptr<handler> token_budget_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<token_budget_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_token_budget(json_reader& reader) {
  token_budget_options options;
  read_token_budget_options(reader, options);
  return std::make_unique<token_budget_spec>(options);
}

}  // namespace

policy_registration token_budget_registration() {
  return policy_registration{"token_budget", &parse_token_budget,
                             "refuses or downgrades calls once a period's token or dollar budget is spent"};
}

}  // namespace squall
