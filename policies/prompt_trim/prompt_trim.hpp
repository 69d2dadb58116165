#pragma once
// The prompt trimmer: a request whose input is longer than input_tokens_max is either trimmed to it
// (call->req.input_tokens is lowered for the rest of the call, so every layer inside, the provider
// included, sees and bills the shorter input) or rejected as invalid_request without calling the
// provider. A request within the limit passes through untouched.
//
// In production (a call whose payload has messages) the messages themselves are trimmed, oldest
// non-system turns first, then the start of the last turn, then the end of system messages
// (trim_messages.hpp), and input_tokens becomes the trimmed messages' estimate. A raw body is not
// understood, so it is never cut: only the counter is lowered, as in the simulation.
//
// Trimming needs no per-call state, so the trimmer adds no operation of its own: the caller gets the
// inner operation. Only a rejection allocates (its answer is delivered from a zero-delay timer).

#include <memory>
#include <string>

#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/runtime.hpp"
#include "policies/pipeline/policy_spec.hpp"
#include "policies/prompt_trim/prompt_trim_options.hpp"

namespace squall {

class prompt_trim_handler final : public handler {
 public:
  prompt_trim_handler(const prompt_trim_options& options, std::string name, const policy_environment& env,
                      handler& next);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

 private:

  const prompt_trim_options options_;
  const std::string name_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
};

class prompt_trim_spec final : public policy_spec {
 public:
  explicit prompt_trim_spec(const prompt_trim_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "prompt_trim"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  prompt_trim_options options;
};

policy_registration prompt_trim_registration();

}  // namespace squall
