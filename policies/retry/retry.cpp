#include "policies/retry/retry.hpp"

#include <utility>

namespace squall {

// The state of one call through the retry: at most one inner attempt or one backoff timer at a time.
// It is the receiver of every attempt and the target of every backoff timer, and frees itself when it
// delivers or is cancelled.
class retry_call final : public operation, public outcome_receiver, public timer_target {
 public:
  retry_call(retry_handler& owner, const call_scope& scope, outcome_receiver& receiver)
      : owner_(owner), scope_(scope), receiver_(receiver), jitter_{owner.options_.delay_ms_base} {}

  void begin() { inner_ = &owner_.next_.start(scope_, *this); }

  void cancel() noexcept override {
    if (inner_ != nullptr) inner_->cancel();
    owner_.clock_.cancel_timer(timer_);
    delete this;
  }

  void on_outcome(outcome&& result) override {
    inner_ = nullptr;
    const retry_options& o = owner_.options_;
    // A degraded answer is still an answer: retrying it could only replace it with the same fallback.
    if (result.kind == outcome_class::ok || !o.retry_on.contains(result.kind) || is_permanent(result.kind)) {
      deliver(std::move(result));
      return;
    }
    if (attempts_ >= o.attempts_max) {
      emit(policy_event_kind::retry_exhausted, duration{}, result.kind);
      deliver(std::move(result));
      return;
    }

    duration delay{};
    if (result.retry_after && o.retry_after == retry_after_mode::honor) {
      delay = *result.retry_after;
      if (delay > owner_.retry_after_max_) {
        if (o.retry_after_over_max == retry_after_over_max_mode::give_up) {
          emit(policy_event_kind::retry_hint_too_long, delay, result.kind);
          deliver(std::move(result));
          return;
        }
        delay = owner_.retry_after_max_;
      }
    } else {
      const double backoff_ms = backoff_delay_ms(o.backoff, o.delay_ms_base, o.multiplier, o.delay_ms_max, attempts_);
      delay = from_ms(apply_jitter_ms(o.jitter, backoff_ms, o.delay_ms_base, o.delay_ms_max, jitter_, owner_.random_));
    }

    // Waiting past the deadline only to be cut off wastes the wait and hides the real failure.
    const time_point now = owner_.clock_.now();
    if (scope_.deadline != time_never && (scope_.deadline - now) <= delay) {
      emit(policy_event_kind::retry_exhausted, delay, result.kind);
      deliver(std::move(result));
      return;
    }
    emit(policy_event_kind::retry_scheduled, delay, result.kind);
    timer_ = owner_.clock_.start_timer(delay, *this, 0);
  }

  void on_timer(std::uint32_t) override {
    timer_ = {};
    ++attempts_;
    inner_ = &owner_.next_.start(scope_, *this);
  }

 private:
  void emit(policy_event_kind kind, duration delay, outcome_class cause) {
    owner_.events_.on_policy_event(policy_event{kind, owner_.name_, owner_.clock_.now(),
                                                scope_.call != nullptr ? scope_.call->req.id : 0, delay, cause, 0, {}});
  }

  void deliver(outcome&& result) {
    outcome_receiver& receiver = receiver_;
    delete this;
    receiver.on_outcome(std::move(result));
  }

  retry_handler& owner_;
  const call_scope scope_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
  timer_id timer_;
  std::uint32_t attempts_ = 1;  // attempts started, the running one included
  jitter_state jitter_;
};

retry_handler::retry_handler(const retry_options& options, std::string name, const policy_environment& env,
                             handler& next)
    : options_(options),
      name_(std::move(name)),
      retry_after_max_(from_ms(options.retry_after_ms_max)),
      clock_(env.clock),
      events_(env.events),
      next_(next),
      random_(env.seed) {}

operation& retry_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  auto* call = new retry_call(*this, scope, receiver);
  call->begin();
  return *call;
}

std::unique_ptr<handler> retry_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<retry_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_retry(json_reader& reader) {
  retry_options options;
  read_retry_options(reader, options);
  return std::make_unique<retry_spec>(options);
}

}  // namespace

policy_registration retry_registration() {
  return policy_registration{"retry", &parse_retry,
                             "retries failed attempts with backoff and jitter, honouring Retry-After hints"};
}

}  // namespace squall
