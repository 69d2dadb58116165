#include "policies/rate_limiter/rate_limiter.hpp"

#include "policies/core/deferred_answer.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace squall {
namespace {

// Refills are computed in floating point; a level this close below what is needed counts as enough,
// so a timer set for the exact ready time never finds the bucket a rounding error short.
constexpr double level_slack = 1e-9;

std::uint64_t rounded(double rpm) { return static_cast<std::uint64_t>(std::llround(rpm)); }

}  // namespace

// One call through the limiter: waiting (linked into the handler's queue) until the buckets take it,
// then running until its answer, which settles its reservation. Frees itself when it delivers, is
// refused from the queue, or is cancelled.
class limiter_call final : public operation, public outcome_receiver {
 public:
  limiter_call(rate_limiter_handler& owner, const call_scope& scope, outcome_receiver& receiver, double estimate)
      : tokens(estimate), owner_(owner), scope_(scope), receiver_(receiver), enqueued_at_(owner.clock_.now()) {}

  void run() {
    running_ = true;
    inner_ = &owner_.next_.start(scope_, *this);
  }

  // Admitted from the queue: report the wait, then run.
  void run_after_wait(time_point now) {
    const duration waited = now - enqueued_at_;
    if (waited > duration{}) {
      owner_.emit(policy_event_kind::limiter_waited, request_id(), waited, outcome_class::ok);
    }
    run();
  }

  void cancel() noexcept override {
    if (running_) {
      inner_->cancel();  // the reservation stays: the provider may have counted the request
      owner_.calls_.destroy(this);
      return;
    }
    rate_limiter_handler& owner = owner_;
    const bool was_head = owner.queue_.front() == this;
    owner.unlink(*this);
    owner.calls_.destroy(this);
    if (was_head) owner.rearm();
  }

  void on_outcome(outcome&& result) override {
    rate_limiter_handler& owner = owner_;
    outcome_receiver& receiver = receiver_;
    const double reserved = tokens;
    owner.calls_.destroy(this);
    owner.on_answer(reserved, result);
    receiver.on_outcome(std::move(result));
  }

  // The wait ran out: called from the handler's timer, so delivering here is allowed.
  void reject_from_queue(time_point now) {
    const duration waited = now - enqueued_at_;
    owner_.emit(policy_event_kind::limiter_rejected, request_id(), waited, outcome_class::rejected);
    outcome result = outcome::failure(outcome_class::rejected, owner_.name_);
    result.latency = waited;
    outcome_receiver& receiver = receiver_;
    owner_.calls_.destroy(this);
    receiver.on_outcome(std::move(result));
  }

  std::uint64_t request_id() const noexcept { return scope_.call != nullptr ? scope_.call->req.id : 0; }
  time_point deadline() const noexcept { return enqueued_at_ + owner_.wait_max_; }

  limiter_call* prev = nullptr;
  limiter_call* next = nullptr;
  const double tokens;  // the reservation's token estimate

 private:
  rate_limiter_handler& owner_;
  const call_scope scope_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
  time_point enqueued_at_;
  bool running_ = false;
};

rate_limiter_handler::rate_limiter_handler(const rate_limiter_options& options, std::string name,
                                           const policy_environment& env, handler& next)
    : options_(options),
      name_(std::move(name)),
      wait_max_(from_ms(options.wait_ms_max)),
      cooldown_(from_ms(options.adaptive ? options.adaptive->cooldown_ms : 0.0)),
      rpm_max_(options.adaptive && options.adaptive->rpm_max ? *options.adaptive->rpm_max : options.rpm.value_or(0.0)),
      clock_(env.clock),
      events_(env.events),
      next_(next),
      refilled_at_(env.clock.now()),
      increased_at_(env.clock.now()),
      reported_rpm_(rounded(options.rpm.value_or(0.0))) {
  if (options.rpm) {
    requests_.enabled = true;
    requests_.rate_per_s = *options.rpm / 60.0;
    requests_.capacity = std::max(1.0, requests_.rate_per_s * options.burst_s);
    requests_.level = requests_.capacity;
  }
  if (options.tpm) {
    tokens_.enabled = true;
    tokens_.rate_per_s = *options.tpm / 60.0;
    tokens_.capacity = std::max(1.0, tokens_.rate_per_s * options.burst_s);
    tokens_.level = tokens_.capacity;
  }
}

rate_limiter_handler::~rate_limiter_handler() { clock_.cancel_timer(timer_); }

void rate_limiter_handler::refill(time_point now) noexcept {
  if (now <= refilled_at_) return;
  const double elapsed_s = to_s(now - refilled_at_);
  refilled_at_ = now;
  for (bucket* b : {&requests_, &tokens_}) {
    if (b->enabled) b->level = std::min(b->capacity, b->level + b->rate_per_s * elapsed_s);
  }
}

double rate_limiter_handler::token_need(double tokens) const noexcept { return std::min(tokens, tokens_.capacity); }

bool rate_limiter_handler::can_take(double tokens) const noexcept {
  if (requests_.enabled && requests_.level < 1.0 - level_slack) return false;
  if (tokens_.enabled) {
    const double need = token_need(tokens);
    if (tokens_.level < need - level_slack * std::max(1.0, need)) return false;
  }
  return true;
}

void rate_limiter_handler::take(double tokens) noexcept {
  if (requests_.enabled) requests_.level -= 1.0;
  if (tokens_.enabled) tokens_.level -= tokens;
}

double rate_limiter_handler::seconds_until(double requests_ahead, double tokens_ahead, double tokens) const noexcept {
  double wait_s = 0.0;
  if (requests_.enabled) {
    wait_s = std::max(wait_s, (requests_ahead + 1.0 - requests_.level) / requests_.rate_per_s);
  }
  if (tokens_.enabled) {
    // Calls ahead spend their full estimates; this one needs at most the bucket's capacity.
    wait_s = std::max(wait_s, (tokens_ahead + token_need(tokens) - tokens_.level) / tokens_.rate_per_s);
  }
  return wait_s;
}

operation& rate_limiter_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  const time_point now = clock_.now();
  refill(now);
  const double tokens = scope.call != nullptr ? static_cast<double>(scope.call->req.input_tokens) +
                                                    static_cast<double>(scope.call->req.output_tokens)
                                              : 0.0;
  // A newcomer never overtakes a waiting call, even when the buckets could take it.
  if (queue_.empty() && can_take(tokens)) {
    take(tokens);
    auto* call = calls_.make(*this, scope, receiver, tokens);
    call->run();
    return *call;
  }
  const std::uint64_t id = scope.call != nullptr ? scope.call->req.id : 0;
  const bool refuse = options_.mode == limiter_mode::reject || queue_.size() >= options_.queue_max ||
                      seconds_until(queue_.size(), queued_tokens_, tokens) > to_s(wait_max_);
  if (refuse) {
    emit(policy_event_kind::limiter_rejected, id, duration{}, outcome_class::rejected);
    return deferred_answer::start(clock_, outcome::failure(outcome_class::rejected, name_), duration{}, receiver);
  }
  auto* call = calls_.make(*this, scope, receiver, tokens);
  enqueue(*call);
  return *call;
}

void rate_limiter_handler::enqueue(limiter_call& call) noexcept {
  queue_.push_back(call);
  queued_tokens_ += call.tokens;
  if (queue_.front() == &call) rearm();
}

void rate_limiter_handler::unlink(limiter_call& call) noexcept {
  queue_.unlink(call);
  queued_tokens_ = queue_.empty() ? 0.0 : queued_tokens_ - call.tokens;
}

void rate_limiter_handler::pump(bool expire) {
  const time_point now = clock_.now();
  refill(now);
  while (!queue_.empty()) {
    limiter_call& call = *queue_.front();
    if (can_take(call.tokens)) {
      unlink(call);
      take(call.tokens);
      call.run_after_wait(now);
      continue;
    }
    if (expire && call.deadline() <= now) {
      unlink(call);
      call.reject_from_queue(now);  // may re-enter start(); the loop re-reads the front
      continue;
    }
    break;
  }
  rearm();
}

void rate_limiter_handler::rearm() noexcept {
  clock_.cancel_timer(timer_);
  timer_ = {};
  if (queue_.empty()) return;
  const time_point now = clock_.now();
  // Rounded up to the next nanosecond, so that the timer never fires before the buckets are ready.
  const double ready_ns = std::ceil(std::max(0.0, seconds_until(0.0, 0.0, queue_.front()->tokens)) * 1e9);
  const time_point deadline = queue_.front()->deadline();
  time_point due = deadline;
  if (ready_ns < static_cast<double>((deadline - now).count())) {
    due = now + duration{static_cast<std::int64_t>(ready_ns)};
  }
  timer_ = clock_.start_timer(due - now, *this, 0);
}

void rate_limiter_handler::on_timer(std::uint32_t) {
  timer_ = {};
  pump(true);
}

void rate_limiter_handler::on_answer(double reserved_tokens, const outcome& result) {
  const time_point now = clock_.now();
  refill(now);
  bool changed = false;
  const double used = static_cast<double>(result.input_tokens) + static_cast<double>(result.output_tokens);
  if (tokens_.enabled && result.kind == outcome_class::ok && used > 0.0 && used != reserved_tokens) {
    tokens_.level = std::min(tokens_.capacity, tokens_.level + (reserved_tokens - used));
    changed = true;
  }
  if (options_.adaptive) {
    const limiter_aimd_options& a = *options_.adaptive;
    const double rpm = requests_.rate_per_s * 60.0;
    if (result.kind == outcome_class::rate_limited) {
      if (decreased_at_ == time_point::min() || now - decreased_at_ >= cooldown_) {
        decreased_at_ = now;
        increased_at_ = now;
        set_rate(std::max(a.rpm_min, rpm * a.decrease_factor), outcome_class::rate_limited);
        changed = true;
      }
    } else if (result.kind == outcome_class::ok) {
      const double seconds = std::min(1.0, to_s(now - increased_at_));
      increased_at_ = now;
      if (rpm < rpm_max_ && seconds > 0.0) {
        set_rate(std::min(rpm_max_, rpm + a.increase_per_s * seconds), outcome_class::ok);
        changed = true;
      }
    }
  }
  if (changed && !queue_.empty()) pump(false);
}

void rate_limiter_handler::set_rate(double rpm, outcome_class cause) {
  requests_.rate_per_s = rpm / 60.0;
  requests_.capacity = std::max(1.0, requests_.rate_per_s * options_.burst_s);
  requests_.level = std::min(requests_.level, requests_.capacity);
  const std::uint64_t r = rounded(rpm);
  if (r != reported_rpm_) {
    reported_rpm_ = r;
    emit(policy_event_kind::limiter_rate_changed, 0, duration{}, cause, r);
  }
}

void rate_limiter_handler::emit(policy_event_kind kind, std::uint64_t request_id, duration delay, outcome_class cause,
                                std::uint64_t value) {
  events_.on_policy_event(policy_event{kind, name_, clock_.now(), request_id, delay, cause, value, {}});
}

std::unique_ptr<handler> rate_limiter_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<rate_limiter_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_rate_limiter(json_reader& reader) {
  rate_limiter_options options;
  read_rate_limiter_options(reader, options);
  return std::make_unique<rate_limiter_spec>(options);
}

}  // namespace

policy_registration rate_limiter_registration() {
  return policy_registration{"rate_limiter", &parse_rate_limiter,
                             "client-side rpm/tpm token buckets that wait or reject, optionally AIMD-adaptive"};
}

}  // namespace squall
