#include "policies/timeout/timeout.hpp"

#include <algorithm>
#include <utility>

namespace squall {

// One call through the timeout: the inner operation racing one timer. Whichever finishes first
// cancels the other; the object frees itself when it delivers or is cancelled.
class timeout_call final : public operation, public outcome_receiver, public timer_target {
 public:
  timeout_call(timeout_handler& owner, const call_scope& scope, outcome_receiver& receiver)
      : owner_(owner), request_id_(scope.call != nullptr ? scope.call->req.id : 0), receiver_(receiver) {}

  void begin(const call_scope& scope) {
    const time_point now = owner_.clock_.now();
    call_scope inner_scope = scope;
    if (scope.deadline == time_never || scope.deadline - now > owner_.timeout_) {
      inner_scope.deadline = now + owner_.timeout_;
    }
    // The timer starts before the inner work, so that when both are due at the same instant the
    // timer fires first: work that takes exactly timeout_ms has timed out.
    timer_ = owner_.clock_.start_timer(owner_.timeout_, *this, 0);
    inner_ = &owner_.next_.start(inner_scope, *this);
  }

  void cancel() noexcept override {
    inner_->cancel();
    owner_.clock_.cancel_timer(timer_);
    owner_.calls_.destroy(this);
  }

  void on_outcome(outcome&& result) override {
    owner_.clock_.cancel_timer(timer_);
    deliver(std::move(result));
  }

  void on_timer(std::uint32_t) override {
    inner_->cancel();
    owner_.events_.on_policy_event(policy_event{policy_event_kind::timeout_fired, owner_.name_, owner_.clock_.now(),
                                                request_id_, owner_.timeout_, outcome_class::timeout, 0, {}});
    outcome result = outcome::failure(outcome_class::timeout, owner_.name_);
    result.latency = owner_.timeout_;
    deliver(std::move(result));
  }

 private:
  void deliver(outcome&& result) {
    outcome_receiver& receiver = receiver_;
    owner_.calls_.destroy(this);
    receiver.on_outcome(std::move(result));
  }

  timeout_handler& owner_;
  std::uint64_t request_id_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
  timer_id timer_;
};

timeout_handler::timeout_handler(const timeout_options& options, std::string name, const policy_environment& env,
                                 handler& next)
    : timeout_(from_ms(options.timeout_ms)),
      name_(std::move(name)),
      clock_(env.clock),
      events_(env.events),
      next_(next) {}

timeout_handler::~timeout_handler() = default;

operation& timeout_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  timeout_call* call = calls_.make(*this, scope, receiver);
  call->begin(scope);
  return *call;
}

std::unique_ptr<handler> timeout_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<timeout_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_timeout(json_reader& reader) {
  timeout_options options;
  read_timeout_options(reader, options);
  return std::make_unique<timeout_spec>(options);
}

}  // namespace

policy_registration timeout_registration() {
  return policy_registration{"timeout", &parse_timeout,
                             "abandons inner work after timeout_ms (per attempt inside a retry, per call outside)"};
}

}  // namespace squall
