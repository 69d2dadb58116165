#include "policies/idempotency/idempotency.hpp"

#include <utility>

#include "policies/core/deferred_answer.hpp"

namespace squall {

// A call whose key has no record: forwarded, and its ok answer recorded. Frees itself when it delivers
// or is cancelled.
class idempotency_call final : public operation, public outcome_receiver {
 public:
  idempotency_call(idempotency_handler& owner, std::uint64_t key, outcome_receiver& receiver)
      : owner_(owner), key_(key), receiver_(receiver) {}

  void begin(const call_scope& scope) { inner_ = &owner_.next_.start(scope, *this); }

  void cancel() noexcept override {
    inner_->cancel();
    delete this;
  }

  void on_outcome(outcome&& result) override {
    if (result.ok()) owner_.remember(key_, result);
    outcome_receiver& receiver = receiver_;
    delete this;
    receiver.on_outcome(std::move(result));
  }

 private:
  idempotency_handler& owner_;
  std::uint64_t key_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
};

idempotency_handler::idempotency_handler(const idempotency_options& options, std::string name,
                                         const policy_environment& env, handler& next)
    : name_(std::move(name)),
      ttl_(from_ms(options.ttl_ms)),
      clock_(env.clock),
      events_(env.events),
      next_(next),
      records_(options.entries_max) {}

operation& idempotency_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  const request& req = scope.call->req;
  if (req.idempotency_key == 0) return next_.start(scope, receiver);

  const time_point now = clock_.now();
  const auto s = records_.find(req.idempotency_key);
  if (s != lru_map<record>::none) {
    const record& r = records_.at(s);
    if (now - r.stored_at < ttl_) {
      records_.touch(s);
      events_.on_policy_event(policy_event{policy_event_kind::idempotent_replay, name_, now, req.id, duration{},
                                           outcome_class::ok, 0, {}});
      outcome replay;
      replay.kind = outcome_class::ok;
      replay.http_status = r.http_status;
      replay.input_tokens = r.input_tokens;
      replay.output_tokens = r.output_tokens;
      replay.cost_usd = 0.0;
      replay.provider = r.provider;
      replay.model = r.model;
      replay.answer = r.answer;
      replay.decided_by = name_;
      replay.from_cache = true;
      return deferred_answer::start(clock_, std::move(replay), duration{}, receiver);
    }
    records_.erase(s);
  }
  auto* call = new idempotency_call(*this, req.idempotency_key, receiver);
  call->begin(scope);
  return *call;
}

void idempotency_handler::remember(std::uint64_t key, const outcome& answer) {
  auto s = records_.find(key);
  if (s == lru_map<record>::none) {
    if (records_.full()) records_.erase(records_.oldest());
    s = records_.insert(key, record{});
  } else {
    records_.touch(s);
  }
  record& r = records_.at(s);
  r.stored_at = clock_.now();
  r.input_tokens = answer.input_tokens;
  r.output_tokens = answer.output_tokens;
  r.http_status = answer.http_status;
  r.provider = answer.provider;
  r.model = answer.model;
  r.answer = answer.answer;
}

std::unique_ptr<handler> idempotency_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<idempotency_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_idempotency(json_reader& reader) {
  idempotency_options options;
  read_idempotency_options(reader, options);
  return std::make_unique<idempotency_spec>(options);
}

}  // namespace

policy_registration idempotency_registration() {
  return policy_registration{"idempotency", &parse_idempotency,
                             "replays the recorded ok answer to a duplicate call with the same idempotency key, unpaid"};
}

}  // namespace squall
