#include "policies/degrade/degrade.hpp"

#include <utility>

namespace squall {
// One call through the degrade policy: the inner call, then, if it failed with a listed class, a timer
// of latency_ms before the degraded answer is delivered. Frees itself when it delivers or is cancelled.
class degrade_call final : public operation, public outcome_receiver, public timer_target {
 public:
  degrade_call(degrade_handler& owner, const call_scope& scope, outcome_receiver& receiver)
      : owner_(owner), scope_(scope), receiver_(receiver) {}

  void begin() {
    if (!owner_.options_.rules.empty() && scope_.call != nullptr) matches_ = owner_.request_matches(scope_.call->req);
    inner_ = &owner_.next_.start(scope_, *this);
  }

  void cancel() noexcept override {
    if (inner_ != nullptr) inner_->cancel();
    owner_.clock_.cancel_timer(timer_);
    delete this;
  }

  void on_outcome(outcome&& result) override {
    inner_ = nullptr;
    const std::uint64_t key = scope_.call != nullptr ? scope_.call->req.cache_key : 0;
    if (result.kind == outcome_class::ok) {
      if (owner_.remember_ && key != 0 && result.ok()) owner_.last_good_.remember(key, result);
      deliver(std::move(result));
      return;
    }
    if (!owner_.options_.degrade_on.contains(result.kind)) {
      deliver(std::move(result));
      return;
    }
    const degrade_handler::decision& d = owner_.decide(matches_, result.kind);
    if (d.answer == degrade_answer::pass) {
      owner_.events_.on_policy_event(policy_event{policy_event_kind::degrade_passed, owner_.name_,
                                                  owner_.clock_.now(), request_id(), duration{}, result.kind, 0,
                                                  d.passed_detail});
      deliver(std::move(result));
      return;
    }
    cause_ = result.kind;
    answer_ = owner_.degraded_answer(d, key, from_last_good_);
    detail_ = from_last_good_ ? d.last_good_detail : d.static_detail;
    timer_ = owner_.clock_.start_timer(owner_.latency_, *this, 0);
  }

  void on_timer(std::uint32_t) override {
    timer_ = {};
    owner_.events_.on_policy_event(policy_event{policy_event_kind::degraded_served, owner_.name_, owner_.clock_.now(),
                                                request_id(), owner_.latency_, cause_, from_last_good_ ? 1U : 0U,
                                                detail_});
    outcome result = std::move(answer_);  // a member: it must leave the object before deliver() frees it
    deliver(std::move(result));
  }

 private:
  std::uint64_t request_id() const noexcept { return scope_.call != nullptr ? scope_.call->req.id : 0; }

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
  std::string_view detail_;  // names the deciding rule; lives in the handler
  std::uint32_t matches_ = 0;  // bit i: rule i's request-side keys accept the request
  outcome_class cause_ = outcome_class::ok;
  bool from_last_good_ = false;
};

namespace {

answer_ptr static_answer(const std::string& text) {
  auto a = std::make_shared<answer_payload>();
  a->text = text;
  a->finish_reason = "degraded";
  return a;
}

std::vector<degrade_handler::decision> make_decisions(const degrade_options& options) {
  std::vector<degrade_handler::decision> out;
  out.reserve(options.rules.size() + 1);
  for (const degrade_rule& r : options.rules) {
    out.push_back({r.answer, r.output_tokens.value_or(options.output_tokens),
                   static_answer(r.text.value_or(options.text)), r.name, r.name + "/static",
                   r.name + "/last_good"});
  }
  // Without rules the events keep their plain names; with rules the default names itself like a rule.
  const answer_ptr text = static_answer(options.text);
  if (options.rules.empty()) {
    out.push_back({options.answer, options.output_tokens, text, "default", "static", "last_good"});
  } else {
    out.push_back({options.answer, options.output_tokens, text, "default", "default/static", "default/last_good"});
  }
  return out;
}

}  // namespace

degrade_handler::degrade_handler(const degrade_options& options, std::string name, const policy_environment& env,
                                 handler& next)
    : options_(options),
      name_(std::move(name)),
      latency_(from_ms(options.latency_ms)),
      clock_(env.clock),
      events_(env.events),
      next_(next),
      decisions_(make_decisions(options_)),
      remember_(options_.uses_last_good()),
      last_good_(remember_ ? options.entries_max : 1) {}

operation& degrade_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  auto* call = new degrade_call(*this, scope, receiver);
  call->begin();
  return *call;
}

std::uint32_t degrade_handler::request_matches(const request& req) const noexcept {
  std::uint32_t bits = 0;
  for (std::size_t i = 0; i < options_.rules.size(); ++i) {
    if (options_.rules[i].when.matches_request(req)) bits |= 1U << i;
  }
  return bits;
}

const degrade_handler::decision& degrade_handler::decide(std::uint32_t matches, outcome_class failure) const noexcept {
  for (std::size_t i = 0; i < options_.rules.size(); ++i) {
    if ((matches & (1U << i)) == 0) continue;
    const outcome_class_set failures = options_.rules[i].when.failures;
    if (failures.empty() || failures.contains(failure)) return decisions_[i];
  }
  return decisions_.back();
}

outcome degrade_handler::degraded_answer(const decision& d, std::uint64_t cache_key, bool& from_last_good) {
  outcome o;
  o.kind = outcome_class::ok;
  o.degraded = true;
  o.decided_by = name_;
  o.latency = latency_;
  o.cost_usd = 0.0;
  o.output_tokens = d.output_tokens;
  o.answer = d.static_answer;
  from_last_good = false;
  if (d.answer == degrade_answer::last_good && cache_key != 0) {
    if (const last_good_answer* good = last_good_.find(cache_key)) {
      o.input_tokens = good->input_tokens;
      o.output_tokens = good->output_tokens;
      o.provider = good->provider;
      o.model = good->model;
      o.answer = good->answer;
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
                             "answers listed failures with a degraded answer (static, the last good one per cache key, or pass), by ordered rules"};
}

}  // namespace squall
