#include "policies/retry/retry.hpp"

#include <optional>
#include <utility>

namespace squall {

// The state of one call through the retry: at most one inner attempt or one backoff timer at a time.
// It is the receiver of every attempt and the target of every backoff timer, and frees itself when it
// delivers or is cancelled.
class retry_call final : public operation, public outcome_receiver, public timer_target {
 public:
  retry_call(retry_handler& owner, const call_scope& scope, outcome_receiver& receiver)
      : owner_(owner), scope_(scope), receiver_(receiver), jitter_{owner.options_.delay_ms_base} {}

  void begin() {
    owner_.budget_.on_call(owner_.clock_.now());
    inner_ = &owner_.next_.start(scope_, *this);
  }

  void cancel() noexcept override {
    if (inner_ != nullptr) inner_->cancel();
    owner_.clock_.cancel_timer(timer_);
    owner_.calls_.destroy(this);
  }

  void on_outcome(outcome&& result) override {
    inner_ = nullptr;
    const retry_options& o = owner_.options_;
    retry_budget& budget = owner_.budget_;
    // A degraded answer is still an answer: retrying it could only replace it with the same fallback.
    if (result.kind == outcome_class::ok) {
      budget.on_attempt_ok();
      deliver(std::move(result));
      return;
    }
    if (!is_retryable(result)) {
      deliver(std::move(result));
      return;
    }
    budget.on_attempt_failed();
    const retry_class_settings& s = owner_.settings_[static_cast<std::size_t>(result.kind)];
    if (attempts_ >= s.attempts_max) {
      emit(policy_event_kind::retry_exhausted, duration{}, result.kind);
      deliver(std::move(result));
      return;
    }

    // A server hint replaces the backoff: Retry-After (or retry-after-ms) first, then, for a rate limit,
    // the time until the provider's window resets.
    std::optional<duration> hint;
    if (result.retry_after && o.retry_after == retry_after_mode::honor &&
        (!o.retry_after_on_status || o.retry_after_on_status->contains(result.http_status))) {
      hint = result.retry_after;
    } else if (result.kind == outcome_class::rate_limited && result.ratelimit_reset &&
               o.ratelimit_reset == hint_mode::honor) {
      hint = result.ratelimit_reset;
    }
    if (hint && *hint <= duration{} && o.retry_after_zero == retry_after_zero_mode::backoff) hint.reset();
    if (hint && *hint > owner_.retry_after_max_) {
      switch (o.retry_after_over_max) {
        case retry_after_over_max_mode::give_up:
          emit(policy_event_kind::retry_hint_too_long, *hint, result.kind);
          deliver(std::move(result));
          return;
        case retry_after_over_max_mode::cap: hint = owner_.retry_after_max_; break;
        case retry_after_over_max_mode::backoff: hint.reset(); break;
      }
    }
    duration delay{};
    if (hint) {
      delay = *hint;
      hint_honoured_ = true;
    } else if (hint_honoured_ && o.backoff_after_hint == backoff_after_hint_mode::none) {
      delay = duration{};  // Portkey's loop: after one honoured hint, the remaining retries do not wait
    } else {
      const double backoff_ms = backoff_delay_ms(s.backoff, s.delay_ms_base, s.multiplier, s.delay_ms_max, attempts_);
      if (s.jitter == jitter_kind::decorrelated && !decorrelated_started_) {
        // Decorrelated jitter grows from the base of the class that first used it.
        jitter_.delay_ms_previous = s.delay_ms_base;
        decorrelated_started_ = true;
      }
      delay = from_ms(
          apply_jitter_ms(s.jitter, backoff_ms, s.delay_ms_base, s.delay_ms_max, o.jitter_fraction, jitter_, owner_.random_));
    }

    // Waiting past the deadline only to be cut off wastes the wait and hides the real failure.
    const time_point now = owner_.clock_.now();
    if (scope_.deadline != time_never && (scope_.deadline - now) <= delay) {
      emit(policy_event_kind::retry_exhausted, delay, result.kind);
      deliver(std::move(result));
      return;
    }
    // Asked last, so that only a retry that would really be scheduled draws on the shared budget.
    if (!budget.try_acquire(now)) {
      emit(policy_event_kind::retry_budget_exhausted, delay, result.kind);
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
  // Whether a failure may be retried at all, before counting attempts. By status when retry_on_status is
  // set and the failure has one: never after a 2xx (the answer had begun: an SDK's loop is over by then),
  // else x-should-retry when honoured and sent, else the list, whatever the class. Otherwise never a
  // permanent class; else x-should-retry when honoured and sent; else retry_on.
  bool is_retryable(const outcome& result) const noexcept {
    const retry_options& o = owner_.options_;
    const bool header = result.should_retry.has_value() && o.should_retry_header == hint_mode::honor;
    if (o.retry_on_status && result.http_status != 0) {
      if (result.http_status >= 200 && result.http_status < 300) return false;
      if (header) return *result.should_retry;
      return o.retry_on_status->contains(result.http_status);
    }
    if (is_permanent(result.kind)) return false;
    if (header) return *result.should_retry;
    return o.retry_on.contains(result.kind);
  }

  void emit(policy_event_kind kind, duration delay, outcome_class cause) {
    owner_.events_.on_policy_event(policy_event{kind, owner_.name_, owner_.clock_.now(),
                                                scope_.call != nullptr ? scope_.call->req.id : 0, delay, cause, 0, {}});
  }

  void deliver(outcome&& result) {
    outcome_receiver& receiver = receiver_;
    owner_.calls_.destroy(this);
    receiver.on_outcome(std::move(result));
  }

  retry_handler& owner_;
  const call_scope scope_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
  timer_id timer_;
  std::uint32_t attempts_ = 1;  // attempts started, the running one included
  jitter_state jitter_;
  bool decorrelated_started_ = false;
  bool hint_honoured_ = false;  // a server hint set one of this call's waits
};

retry_handler::retry_handler(const retry_options& options, std::string name, const policy_environment& env,
                             handler& next)
    : options_(options),
      settings_(),
      name_(std::move(name)),
      retry_after_max_(from_ms(options.retry_after_ms_max)),
      clock_(env.clock),
      events_(env.events),
      next_(next),
      random_(env.seed),
      budget_(options.budget) {
  for (std::size_t i = 0; i < outcome_class_count; ++i) {
    settings_[i] = resolve_retry_settings(options_, static_cast<outcome_class>(i));
  }
}

operation& retry_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  retry_call* call = calls_.make(*this, scope, receiver);
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
                             "retries failed attempts with backoff and jitter, honouring server hints, within an optional retry budget"};
}

}  // namespace squall
