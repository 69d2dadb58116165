#pragma once
// The degrade policy: graceful degradation, the last resort. When the inner call fails with a class in
// degrade_on, the policy decides what to answer instead: the first rule whose "when" matches the request
// and the failure decides; when none does (or there are no rules), the policy's own `answer` does.
//
//  - "static": a fixed answer of output_tokens tokens, naming no provider or model.
//  - "last_good": the last ok (non-degraded) answer this policy delivered for the same request cache_key,
//    with its token counts, provider and model, marked from_cache; a request without a cache key, or
//    whose key has no remembered answer, gets the static answer. At most entries_max keys are
//    remembered, least recently used first out.
//  - "pass": no degraded answer; the failure reaches the caller unchanged (critical requests, say, that
//    must never get a canned answer).
//
// A degraded answer comes latency_ms after the failure: kind ok with `degraded` set (so outcome.ok() is
// false: the metrics count it as degraded, never as a success), cost 0, decided_by = the policy's name.
// The rules' request-side keys are evaluated when the call enters the policy (the request as the caller
// sent it, before any router or budget inside rewrites it); the failure is matched when it arrives.
//
// Place it outermost (or just inside an overall timeout): everything inside it (retries, fallbacks) has
// then had its chance before the degraded answer is served. Outcomes in other classes pass unchanged.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/runtime.hpp"
#include "policies/degrade/degrade_options.hpp"
#include "policies/degrade/last_good_cache.hpp"
#include "policies/pipeline/policy_spec.hpp"

namespace squall {

class degrade_handler final : public handler {
 public:
  degrade_handler(const degrade_options& options, std::string name, const policy_environment& env, handler& next);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  const degrade_options& options() const noexcept { return options_; }
  std::size_t remembered() const noexcept { return last_good_.size(); }

  // What one rule (or the default, index rules.size()) decides, with the names its events carry.
  struct decision {
    degrade_answer answer;
    std::uint32_t output_tokens;
    answer_ptr static_answer;      // the configured text, finish reason "degraded"
    std::string passed_detail;     // degrade_passed: the rule's name
    std::string static_detail;     // degraded_served, static answer: "static" or "<rule>/static"
    std::string last_good_detail;  // degraded_served, remembered answer: "last_good" or "<rule>/last_good"
  };

 private:
  friend class degrade_call;

  // Bit i set: rule i's request-side keys accept `req`. Evaluated once per call, when it enters.
  std::uint32_t request_matches(const request& req) const noexcept;
  // The decision for a failure of class `failure` of a request whose rule bits are `matches`.
  const decision& decide(std::uint32_t matches, outcome_class failure) const noexcept;
  // The degraded answer of `d` for a call whose request has `cache_key`; says whether it came from last_good.
  outcome degraded_answer(const decision& d, std::uint64_t cache_key, bool& from_last_good);

  const degrade_options options_;
  const std::string name_;
  const duration latency_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  std::vector<decision> decisions_;  // one per rule, then the default
  const bool remember_;              // some decision is last_good: ok answers are remembered
  last_good_cache last_good_;
};

class degrade_spec final : public policy_spec {
 public:
  explicit degrade_spec(const degrade_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "degrade"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  degrade_options options;
};

policy_registration degrade_registration();

}  // namespace squall
