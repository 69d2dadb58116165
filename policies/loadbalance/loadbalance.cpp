#include "policies/loadbalance/loadbalance.hpp"

#include <utility>

#include "policies/core/deferred_answer.hpp"

namespace squall {

// One balanced call: rewrites the request's target, runs the inner call, records the answer in the
// target's breaker, and puts the request back. Frees itself when it delivers or is cancelled.
class loadbalance_call final : public operation, public outcome_receiver {
 public:
  loadbalance_call(loadbalance_handler& owner, const call_scope& scope, outcome_receiver& receiver, std::size_t index)
      : owner_(owner), scope_(scope), receiver_(receiver), index_(index) {}

  void begin() {
    const loadbalance_target& t = owner_.options_.targets[index_];
    request& req = scope_.call->req;
    // Swaps, not copies, of the caller's strings: they come back untouched.
    if (!t.provider.empty()) {
      saved_provider_.swap(req.provider);
      provider_saved_ = true;
      req.provider = t.provider;
    }
    if (!t.model.empty()) {
      saved_model_.swap(req.model);
      model_saved_ = true;
      req.model = t.model;
    }
    inner_ = &owner_.next_.start(scope_, *this);
  }

  void cancel() noexcept override {
    // A cancelled call tells nothing about the target (Portkey records only answers).
    inner_->cancel();
    restore();
    delete this;
  }

  void on_outcome(outcome&& result) override {
    owner_.record(index_, result, scope_.call->req.id);
    restore();
    outcome_receiver& receiver = receiver_;
    delete this;
    receiver.on_outcome(std::move(result));
  }

 private:
  void restore() noexcept {
    request& req = scope_.call->req;
    if (provider_saved_) req.provider.swap(saved_provider_);
    if (model_saved_) req.model.swap(saved_model_);
  }

  loadbalance_handler& owner_;
  const call_scope scope_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
  std::size_t index_;
  bool provider_saved_ = false;
  bool model_saved_ = false;
  std::string saved_provider_;  // the request's own values while the target overrides them
  std::string saved_model_;
};

loadbalance_handler::loadbalance_handler(const loadbalance_options& options, std::string name,
                                         const policy_environment& env, handler& next)
    : options_(options), name_(std::move(name)), clock_(env.clock), events_(env.events), next_(next), random_(env.seed) {
  if (options_.breaker) breakers_.emplace(*options_.breaker, options_.targets.size());
}

operation& loadbalance_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  const std::uint64_t request_id = scope.call != nullptr ? scope.call->req.id : 0;
  std::uint32_t left_out = 0;
  if (breakers_) {
    const target_breakers::check c = breakers_->start_call(clock_.now());
    for (std::size_t i = 0; i < options_.targets.size(); ++i) {
      if ((c.recovered >> i) & 1U) {
        emit(policy_event_kind::endpoint_recovered, request_id, outcome_class::ok, i, options_.targets[i].name);
      }
    }
    const std::uint32_t all = (1U << options_.targets.size()) - 1U;
    // Every target open: Portkey bypasses the breakers rather than refuse the request.
    left_out = c.open == all ? 0U : c.open;
  }
  const std::optional<std::size_t> index = draw(left_out);
  if (!index) {
    return deferred_answer::start(clock_, outcome::failure(outcome_class::server_error, name_), duration{}, receiver);
  }
  auto* call = new loadbalance_call(*this, scope, receiver, *index);
  call->begin();
  return *call;
}

std::optional<std::size_t> loadbalance_handler::draw(std::uint32_t left_out) {
  const auto& targets = options_.targets;
  double total = 0.0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (((left_out >> i) & 1U) == 0) total += targets[i].weight;
  }
  // Drawn even when nothing can be chosen, so that one call always takes one number from the stream.
  double u = random_.uniform() * total;
  if (total <= 0.0) return std::nullopt;
  std::optional<std::size_t> last;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (((left_out >> i) & 1U) != 0 || targets[i].weight <= 0.0) continue;
    if (u < targets[i].weight) return i;
    u -= targets[i].weight;
    last = i;
  }
  // Only rounding can leave u at or above the last weight: that target is the one it came closest to.
  return last;
}

void loadbalance_handler::record(std::size_t index, const outcome& result, std::uint64_t request_id) {
  if (!breakers_) return;
  if (breakers_->record(index, result, clock_.now())) {
    emit(policy_event_kind::endpoint_cooldown, request_id, result.kind, index, options_.targets[index].name);
  }
}

void loadbalance_handler::emit(policy_event_kind kind, std::uint64_t request_id, outcome_class cause,
                               std::uint64_t value, std::string_view detail) {
  events_.on_policy_event(policy_event{kind, name_, clock_.now(), request_id, duration{}, cause, value, detail});
}

std::unique_ptr<handler> loadbalance_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<loadbalance_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_loadbalance(json_reader& reader) {
  loadbalance_options options;
  read_loadbalance_options(reader, options);
  return std::make_unique<loadbalance_spec>(options);
}

}  // namespace

policy_registration loadbalance_registration() {
  return policy_registration{"loadbalance", &parse_loadbalance,
                             "sends each call to one target drawn by weight, leaving out targets whose breaker is open"};
}

}  // namespace squall
