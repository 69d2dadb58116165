#pragma once
// The validate policy: an ok answer that is no good becomes a failure, so that the policies outside it
// (a retry, a fallback, a degraded answer) treat it like one. It checks what options ask for: the text is
// not empty, the text is valid JSON (always, or when the request asked for JSON), the provider did not
// cut it by length. A refused answer is delivered as class bad_answer, decided_by the policy's name, with
// everything else kept (status 200, tokens, cost: it was billed; the answer itself, for the caller to see).
//
// What it reads: the answer's text and finish reason (outcome::answer), as a production transport fills
// them; where the outcome says what is wrong without a text (outcome::flaw, set by a provider model that
// serves answers without text), that. An ok outcome with neither has nothing to check and passes.
// Degraded answers (a fallback's or degrade's) and failures pass unchanged.
//
// Place it inside the retry (and any fallback) whose attempts it should judge, outside the per-attempt
// timeout.

#include <memory>
#include <string>

#include "policies/core/call.hpp"
#include "policies/pipeline/policy_spec.hpp"
#include "policies/validate/validate_options.hpp"

namespace squall {

// Why `o` is a bad answer under `options` for a request `req`, or content_flaw::none when it passes.
content_flaw find_flaw(const validate_options& options, const request& req, const outcome& o);

class validate_handler final : public handler {
 public:
  validate_handler(const validate_options& options, std::string name, handler& next);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  const validate_options& options() const noexcept { return options_; }
  const std::string& name() const noexcept { return name_; }
  handler& next() noexcept { return next_; }

 private:
  const validate_options options_;
  const std::string name_;
  handler& next_;
};

class validate_spec final : public policy_spec {
 public:
  explicit validate_spec(const validate_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "validate"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  validate_options options;
};

policy_registration validate_registration();

}  // namespace squall
