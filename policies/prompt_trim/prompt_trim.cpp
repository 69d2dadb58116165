#include "policies/prompt_trim/prompt_trim.hpp"

#include "policies/core/deferred_answer.hpp"
#include "policies/prompt_trim/trim_messages.hpp"

#include <algorithm>
#include <utility>

namespace squall {

prompt_trim_handler::prompt_trim_handler(const prompt_trim_options& options, std::string name,
                                         const policy_environment& env, handler& next)
    : options_(options), name_(std::move(name)), clock_(env.clock), events_(env.events), next_(next) {}

operation& prompt_trim_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  if (scope.call != nullptr && scope.call->req.input_tokens > options_.input_tokens_max) {
    request& req = scope.call->req;
    if (options_.on_exceeded == prompt_trim_mode::reject) return deferred_answer::start(clock_, outcome::failure(outcome_class::invalid_request, name_), duration{}, receiver);
    const std::uint32_t before = req.input_tokens;
    if (req.payload && req.payload->raw_body.empty()) {
      // Production: the messages themselves are trimmed; the rest of the call sees the shorter payload.
      req.payload = with_messages(*req.payload, trim_messages(req.payload->messages, options_.input_tokens_max));
      req.input_tokens = std::min(estimate_message_tokens(req.payload->messages), options_.input_tokens_max);
    } else {
      req.input_tokens = options_.input_tokens_max;
    }
    const std::uint32_t removed = before - req.input_tokens;
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
