#include "policies/prompt_trim/prompt_trim.hpp"

#include <utility>

namespace squall {

// A request refused for its length. Decided in start(), delivered from a zero-delay timer, because an
// outcome may never be delivered from inside start().
class prompt_trim_rejection final : public operation, public timer_target {
 public:
  prompt_trim_rejection(prompt_trim_handler& owner, outcome_receiver& receiver) : owner_(owner), receiver_(receiver) {
    timer_ = owner_.clock_.start_timer(duration{}, *this, 0);
  }

  void cancel() noexcept override {
    owner_.clock_.cancel_timer(timer_);
    delete this;
  }

  void on_timer(std::uint32_t) override {
    outcome result = outcome::failure(outcome_class::invalid_request, owner_.name_);
    outcome_receiver& receiver = receiver_;
    delete this;
    receiver.on_outcome(std::move(result));
  }

 private:
  prompt_trim_handler& owner_;
  outcome_receiver& receiver_;
  timer_id timer_;
};

prompt_trim_handler::prompt_trim_handler(const prompt_trim_options& options, std::string name,
                                         const policy_environment& env, handler& next)
    : options_(options), name_(std::move(name)), clock_(env.clock), events_(env.events), next_(next) {}

operation& prompt_trim_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  if (scope.call != nullptr && scope.call->req.input_tokens > options_.input_tokens_max) {
    request& req = scope.call->req;
    if (options_.on_exceeded == prompt_trim_mode::reject) return *new prompt_trim_rejection(*this, receiver);
    const std::uint32_t removed = req.input_tokens - options_.input_tokens_max;
    req.input_tokens = options_.input_tokens_max;
    events_.on_policy_event(policy_event{policy_event_kind::prompt_trimmed, name_, clock_.now(), req.id, duration{},
                                         outcome_class::ok, removed, {}});
  }
  return next_.start(scope, receiver);
}

std::unique_ptr<handler> prompt_trim_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<prompt_trim_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_prompt_trim(json_reader& reader) {
  prompt_trim_options options;
  read_prompt_trim_options(reader, options);
  return std::make_unique<prompt_trim_spec>(options);
}

}  // namespace

policy_registration prompt_trim_registration() {
  return policy_registration{"prompt_trim", &parse_prompt_trim,
                             "trims (or rejects) requests whose input exceeds input_tokens_max tokens"};
}

}  // namespace squall
