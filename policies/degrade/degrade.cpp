#include "policies/degrade/degrade.hpp"

#include <utility>

namespace squall {
namespace {

constexpr std::string_view static_detail = "static";
constexpr std::string_view last_good_detail = "last_good";

}  // namespace

// One call through the degrade policy: the inner call, then, if it failed with a listed class, a timer
// of latency_ms before the degraded answer is delivered. Frees itself when it delivers or is cancelled.
class degrade_call final : public operation, public outcome_receiver, public timer_target {
 public:
  degrade_call(degrade_handler& owner, const call_scope& scope, outcome_receiver& receiver)
      : owner_(owner), scope_(scope), receiver_(receiver) {}

  void begin() { inner_ = &owner_.next_.start(scope_, *this); }

  void cancel() noexcept override {
    if (inner_ != nullptr) inner_->cancel();
    owner_.clock_.cancel_timer(timer_);
    delete this;
  }

  void on_outcome(outcome&& result) override {
    inner_ = nullptr;
    const std::uint64_t key = scope_.call != nullptr ? scope_.call->req.cache_key : 0;
    if (result.kind == outcome_class::ok) {
      if (owner_.options_.answer == degrade_answer::last_good && key != 0 && result.ok()) {
        owner_.last_good_.remember(key, result);
      }
      deliver(std::move(result));
      return;
    }
    if (!owner_.options_.degrade_on.contains(result.kind)) {
      deliver(std::move(result));
      return;
    }
    cause_ = result.kind;
    answer_ = owner_.degraded_answer(key, from_last_good_);
    timer_ = owner_.clock_.start_timer(owner_.latency_, *this, 0);
  }

  void on_timer(std::uint32_t) override {
    timer_ = {};
    owner_.events_.on_policy_event(policy_event{policy_event_kind::degraded_served, owner_.name_, owner_.clock_.now(),
                                                scope_.call != nullptr ? scope_.call->req.id : 0, owner_.latency_,
                                                cause_, from_last_good_ ? 1U : 0U,
                                                from_last_good_ ? last_good_detail : static_detail});
    outcome result = std::move(answer_);  // a member: it must leave the object before deliver() frees it
    deliver(std::move(result));
  }

 private:
  void deliver(outcome&& result) {
    outcome_receiver& receiver = receiver_;
    delete this;
    receiver.on_outcome(std::move(result));
  }

  degrade_handler& owner_;
  const call_scope scope_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
  timer_id timer_;
  outcome answer_;  // the degraded answer waiting for its timer
  outcome_class cause_ = outcome_class::ok;
  bool from_last_good_ = false;
};

degrade_handler::degrade_handler(const degrade_options& options, std::string name, const policy_environment& env,
                                 handler& next)
    : options_(options),
      name_(std::move(name)),
      latency_(from_ms(options.latency_ms)),
      clock_(env.clock),
      events_(env.events),
      next_(next),
      last_good_(options.answer == degrade_answer::last_good ? options.entries_max : 1) {}

operation& degrade_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  auto* call = new degrade_call(*this, scope, receiver);
  call->begin();
  return *call;
}

outcome degrade_handler::degraded_answer(std::uint64_t cache_key, bool& from_last_good) {
  outcome o;
  o.kind = outcome_class::ok;
  o.degraded = true;
  o.decided_by = name_;
  o.latency = latency_;
  o.cost_usd = 0.0;
  o.output_tokens = options_.output_tokens;
  from_last_good = false;
  if (options_.answer == degrade_answer::last_good && cache_key != 0) {
    if (const last_good_answer* good = last_good_.find(cache_key)) {
      o.input_tokens = good->input_tokens;
      o.output_tokens = good->output_tokens;
      o.provider = good->provider;
      o.model = good->model;
      o.from_cache = true;
      from_last_good = true;
    }
  }
  return o;
}

std::unique_ptr<handler> degrade_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<degrade_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_degrade(json_reader& reader) {
  degrade_options options;
  read_degrade_options(reader, options);
  return std::make_unique<degrade_spec>(options);
}

}  // namespace

policy_registration degrade_registration() {
  return policy_registration{"degrade", &parse_degrade,
                             "answers listed failures with a degraded answer (static, or the last good one per cache key)"};
}

}  // namespace squall
