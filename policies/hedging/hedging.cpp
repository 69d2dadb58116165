#include "policies/hedging/hedging.hpp"

#include <array>
#include <utility>

namespace squall {
namespace {

constexpr std::size_t attempts_most = 6;  // the first attempt and at most 5 hedges (hedges_max <= 5)

}  // namespace

// One call through the hedging: up to 1 + hedges_max attempts in parallel and one hedge timer. Each
// attempt has its own receiver slot inside this object (no allocation per attempt), so the call knows
// which attempt answered. Frees itself when it delivers or is cancelled.
class hedging_call final : public operation, public timer_target {
 public:
  hedging_call(hedging_handler& owner, const call_scope& scope, outcome_receiver& receiver)
      : owner_(owner),
        scope_(scope),
        receiver_(receiver),
        total_(1 + owner.options_.hedges_max),
        delay_(owner.hedge_delay()) {
    for (std::uint32_t i = 0; i < attempts_most; ++i) {
      attempts_[i].call = this;
      attempts_[i].number = i;
    }
  }

  void begin() {
    owner_.budget_.on_call(owner_.clock_.now());
    launch();
    arm_timer();
  }

  void cancel() noexcept override {
    for (auto& a : attempts_) {
      if (a.op == nullptr) continue;
      a.op->cancel();
      record_cancelled(a);
    }
    owner_.clock_.cancel_timer(timer_);
    delete this;
  }

  void on_timer(std::uint32_t) override {
    timer_ = {};
    if (try_hedge(outcome_class::ok, delay_)) arm_timer();
  }

 private:
  struct attempt final : outcome_receiver {
    void on_outcome(outcome&& result) override { call->on_attempt(*this, std::move(result)); }
    hedging_call* call = nullptr;
    operation* op = nullptr;
    time_point started{};
    std::uint32_t number = 0;  // 0 for the first attempt, n for hedge n
    bool alone = false;        // no other attempt of the call was running when this one started
  };

  // The delay should be the chosen percentile of a single attempt's latency, so the window takes only
  // samples of that distribution, or bounds that cannot move the percentile (issue 17). An attempt that
  // started alone (the first, or a hedge after every earlier attempt failed) gives one: its latency when
  // it answers ok, whether or not a hedge raced it, and its running time when it is cancelled. The latency
  // of a cancelled attempt is unknown but at least its running time, and another attempt ends one that
  // started alone only after the delay ran out, so this sample lies at or above the delay just as the true
  // latency does: the share of samples below the delay, from which the percentile is read, stays right.
  // A hedge gives none: it answers only when it wins the race, so its latencies are the fast ones (taking
  // them and not the slow first attempts they overtook doubled the hedges at p95), and a cancelled hedge's
  // running time is a bound that may lie below the delay. Failures and degraded answers say nothing about
  // how long a good answer takes.
  void record_answered(const attempt& a, const outcome& result) {
    if (!owner_.latencies_ || !a.alone || result.degraded) return;
    owner_.latencies_->record(owner_.clock_.now() - a.started);
  }
  void record_cancelled(const attempt& a) {
    if (!owner_.latencies_ || !a.alone) return;
    const duration ran = owner_.clock_.now() - a.started;
    // Only the caller can cancel an attempt that started alone before the delay; such a short bound
    // could lie below the percentile and is left out.
    if (ran >= delay_) owner_.latencies_->record(ran);
  }

  void on_attempt(attempt& a, outcome&& result) {
    a.op = nullptr;
    --in_flight_;
    const hedging_options& o = owner_.options_;
    if (result.kind == outcome_class::ok) {
      owner_.budget_.on_attempt_ok();
      record_answered(a, result);
      finish(std::move(result));
      return;
    }
    if (!o.hedge_on.contains(result.kind)) {
      finish(std::move(result));
      return;
    }
    owner_.budget_.on_attempt_failed();
    const outcome_class cause = result.kind;
    last_failure_ = std::move(result);
    if (launched_ < total_ && may_start_before_deadline(duration{})) {
      // A fast failure starts the next hedge now; the timer, if any, restarts from this hedge.
      const timer_id pending = timer_;
      if (try_hedge(cause, duration{})) {
        owner_.clock_.cancel_timer(pending);
        timer_ = {};
        arm_timer();
      }
    }
    if (in_flight_ == 0) {
      owner_.clock_.cancel_timer(timer_);
      // Moved out first: deliver() frees this object, and the member with it.
      outcome failure = std::move(*last_failure_);
      deliver(std::move(failure));
    }
  }

  void launch() {
    attempt& a = attempts_[launched_++];
    a.started = owner_.clock_.now();
    a.alone = in_flight_ == 0;
    ++in_flight_;
    a.op = &owner_.next_.start(scope_, a);
  }

  // Starts hedge number launched_ when the budget allows it; `cause` is the failure that triggered it
  // (ok for the timer), `waited` the delay that ran out.
  bool try_hedge(outcome_class cause, duration waited) {
    if (!owner_.budget_.try_acquire(owner_.clock_.now())) {
      emit(policy_event_kind::retry_budget_exhausted, duration{}, cause, launched_);
      return false;
    }
    emit(policy_event_kind::hedge_sent, waited, cause, launched_);
    launch();
    return true;
  }

  // A hedge that could only start at or after the deadline cannot help: no timer is left waiting for it.
  bool may_start_before_deadline(duration wait) const {
    return scope_.deadline == time_never || scope_.deadline - owner_.clock_.now() > wait;
  }

  void arm_timer() {
    if (launched_ < total_ && may_start_before_deadline(delay_)) timer_ = owner_.clock_.start_timer(delay_, *this, 0);
  }

  void finish(outcome&& result) {
    owner_.clock_.cancel_timer(timer_);
    for (auto& a : attempts_) {
      if (a.op == nullptr) continue;
      a.op->cancel();
      a.op = nullptr;
      record_cancelled(a);
      emit(policy_event_kind::hedge_cancelled, duration{}, result.kind, a.number);
    }
    deliver(std::move(result));
  }

  void emit(policy_event_kind kind, duration delay, outcome_class cause, std::uint64_t value) {
    owner_.events_.on_policy_event(policy_event{kind, owner_.name_, owner_.clock_.now(),
                                                scope_.call != nullptr ? scope_.call->req.id : 0, delay, cause,
                                                value, {}});
  }

  void deliver(outcome&& result) {
    outcome_receiver& receiver = receiver_;
    delete this;
    receiver.on_outcome(std::move(result));
  }

  hedging_handler& owner_;
  const call_scope scope_;
  outcome_receiver& receiver_;
  const std::uint32_t total_;
  const duration delay_;
  std::array<attempt, attempts_most> attempts_;
  std::uint32_t launched_ = 0;
  std::uint32_t in_flight_ = 0;
  timer_id timer_;
  std::optional<outcome> last_failure_;
};

hedging_handler::hedging_handler(const hedging_options& options, std::string name, const policy_environment& env,
                                 handler& next)
    : options_(options),
      name_(std::move(name)),
      delay_fixed_(from_ms(options.delay_ms)),
      clock_(env.clock),
      events_(env.events),
      next_(next),
      budget_(options.budget) {
  if (options.delay_percentile) {
    latencies_.emplace(options.latency_window, options.latency_samples_min, *options.delay_percentile);
  }
}

duration hedging_handler::hedge_delay() {
  if (latencies_) {
    if (const auto estimate = latencies_->estimate()) return *estimate;
  }
  return delay_fixed_;
}

operation& hedging_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  auto* call = new hedging_call(*this, scope, receiver);
  call->begin();
  return *call;
}

std::unique_ptr<handler> hedging_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<hedging_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_hedging(json_reader& reader) {
  hedging_options options;
  read_hedging_options(reader, options);
  return std::make_unique<hedging_spec>(options);
}

}  // namespace

policy_registration hedging_registration() {
  return policy_registration{"hedging", &parse_hedging,
                             "starts parallel attempts after a delay or a fast failure; the first answer wins"};
}

}  // namespace squall
