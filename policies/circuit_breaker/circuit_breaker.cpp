#include "policies/circuit_breaker/circuit_breaker.hpp"

#include "policies/core/deferred_answer.hpp"

#include <algorithm>
#include <utility>

namespace squall {

// One admitted call: forwards to the next stage and reports its result to the breaker.
class breaker_call final : public operation, public outcome_receiver {
 public:
  breaker_call(circuit_breaker_handler& owner, outcome_receiver& receiver, bool probe)
      : owner_(owner), receiver_(receiver), epoch_(owner.epoch_), started_at_(owner.clock_.now()), probe_(probe) {}

  void begin(const call_scope& scope) { inner_ = &owner_.next_.start(scope, *this); }

  void cancel() noexcept override {
    inner_->cancel();
    owner_.on_call_cancelled(epoch_, probe_);
    owner_.calls_.destroy(this);
  }

  void on_outcome(outcome&& result) override {
    // Measured here rather than read from the outcome: the inner stages may report an attempt's
    // latency, while the breaker judges how long its own callers waited.
    owner_.on_call_completed(epoch_, probe_, owner_.clock_.now() - started_at_, result.kind);
    outcome_receiver& receiver = receiver_;
    owner_.calls_.destroy(this);
    receiver.on_outcome(std::move(result));
  }

 private:
  circuit_breaker_handler& owner_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
  std::uint64_t epoch_;
  time_point started_at_;
  bool probe_;
};

circuit_breaker_handler::circuit_breaker_handler(const circuit_breaker_options& options, std::string name,
                                                 const policy_environment& env, handler& next)
    : options_(options),
      name_(std::move(name)),
      slow_call_(from_ms(options.slow_call_ms)),
      open_for_(from_ms(options.open_ms)),
      // resilience4j does the same: a count window that is full has seen all the calls it ever will.
      calls_min_(options.window == breaker_window_kind::count ? std::min(options.calls_min, options.window_size)
                                                              : options.calls_min),
      clock_(env.clock),
      events_(env.events),
      next_(next),
      window_(options.window, options.window_size) {}

circuit_breaker_handler::~circuit_breaker_handler() { clock_.cancel_timer(open_timer_); }

operation& circuit_breaker_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  bool admit = false;
  bool probe = false;
  switch (state_) {
    case breaker_state::closed: admit = true; break;
    case breaker_state::open: break;
    case breaker_state::half_open:
      if (probes_admitted_ < options_.half_open_calls) {
        ++probes_admitted_;
        admit = true;
        probe = true;
      }
      break;
  }
  if (!admit) {
    emit(policy_event_kind::breaker_rejected, outcome_class::circuit_open, scope.call != nullptr ? scope.call->req.id : 0);
    return deferred_answer::start(clock_, outcome::failure(outcome_class::circuit_open, name_), duration{}, receiver);
  }
  breaker_call* call = calls_.make(*this, receiver, probe);
  call->begin(scope);
  return *call;
}

void circuit_breaker_handler::on_call_completed(std::uint64_t epoch, bool probe, duration latency,
                                                outcome_class kind) {
  if (epoch != epoch_) return;  // admitted under an earlier state: its verdict is already decided
  const bool failure = options_.failure_on.contains(kind);
  const bool slow = latency >= slow_call_;
  if (state_ == breaker_state::closed) {
    const time_point now = clock_.now();
    window_.record(failure, slow, now);
    const breaker_window_totals t = window_.totals(now);
    if (t.calls < calls_min_) return;
    const double calls = static_cast<double>(t.calls);
    if (static_cast<double>(t.failures) / calls >= options_.failure_rate_threshold ||
        static_cast<double>(t.slow) / calls >= options_.slow_call_rate_threshold) {
      open(kind);
    }
    return;
  }
  if (state_ == breaker_state::half_open && probe) {
    ++probes_completed_;
    probe_failures_ += failure ? 1U : 0U;
    probes_slow_ += slow ? 1U : 0U;
    if (probes_completed_ < options_.half_open_calls) return;
    const double calls = static_cast<double>(probes_completed_);
    if (static_cast<double>(probe_failures_) / calls >= options_.failure_rate_threshold ||
        static_cast<double>(probes_slow_) / calls >= options_.slow_call_rate_threshold) {
      open(kind);
    } else {
      close();
    }
  }
}

void circuit_breaker_handler::on_call_cancelled(std::uint64_t epoch, bool probe) noexcept {
  // A cancelled probe says nothing about the provider; its permit goes to the next caller.
  if (probe && epoch == epoch_ && state_ == breaker_state::half_open) --probes_admitted_;
}

void circuit_breaker_handler::open(outcome_class cause) {
  state_ = breaker_state::open;
  ++epoch_;
  window_.clear();
  emit(policy_event_kind::breaker_opened, cause);
  // A timer rather than a check on the next call: the transition happens at exactly open_ms, which the
  // event stream and the tests can see, even when no call arrives.
  open_timer_ = clock_.start_timer(open_for_, *this, 0);
}

void circuit_breaker_handler::on_timer(std::uint32_t) {
  open_timer_ = {};
  state_ = breaker_state::half_open;
  ++epoch_;
  probes_admitted_ = 0;
  probes_completed_ = 0;
  probe_failures_ = 0;
  probes_slow_ = 0;
  emit(policy_event_kind::breaker_half_opened, outcome_class::ok);
}

void circuit_breaker_handler::close() {
  state_ = breaker_state::closed;
  ++epoch_;
  window_.clear();
  emit(policy_event_kind::breaker_closed, outcome_class::ok);
}

void circuit_breaker_handler::emit(policy_event_kind kind, outcome_class cause, std::uint64_t request_id) {
  events_.on_policy_event(policy_event{kind, name_, clock_.now(), request_id, duration{}, cause, 0, {}});
}

std::unique_ptr<handler> circuit_breaker_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<circuit_breaker_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_circuit_breaker(json_reader& reader) {
  circuit_breaker_options options;
  read_circuit_breaker_options(reader, options);
  return std::make_unique<circuit_breaker_spec>(options);
}

}  // namespace

policy_registration circuit_breaker_registration() {
  return policy_registration{"circuit_breaker", &parse_circuit_breaker,
                             "stops calling a failing provider for open_ms once its failure or slow rate is too high"};
}

}  // namespace squall
