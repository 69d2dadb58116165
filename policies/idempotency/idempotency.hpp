#pragma once
// The idempotency policy: remembers, per request.idempotency_key (0 = none: the call passes straight
// through, unseen), the ok answer of a completed call for ttl_ms; a later call with the same key (a
// duplicate submit, a client-level retry of the whole call, a redelivered queue message) is answered
// from the record, at once and through a timer, without calling the provider and without paying again:
// outcome ok, from_cache = true, cost_usd = 0, latency 0; event idempotent_replay.
//
// Only answers delivered to this layer are recorded: failures, degraded answers and calls cancelled
// before they answered leave no record, so a duplicate of those calls the provider again. A duplicate
// that arrives while the first call is still in flight is not held back either (coalesce does that).
//
// Placement. Outermost (or outside a retry), it sees whole calls: a duplicate submission replays the
// final answer, and the retries inside never run for it. Inside a retry, it sees attempts: since the
// retry stops at the first ok answer, a record is only ever replayed to a later call with the same
// key; the difference is that the record is written as soon as that attempt answers, before the
// policies between the retry and the caller (a fallback, say) decide what the call delivers. Records
// are bounded by entries_max (LRU, O(1)).

#include <memory>
#include <string>
#include <string_view>

#include "policies/cache/lru_map.hpp"
#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/runtime.hpp"
#include "policies/idempotency/idempotency_options.hpp"
#include "policies/pipeline/policy_spec.hpp"

namespace squall {

class idempotency_handler final : public handler {
 public:
  idempotency_handler(const idempotency_options& options, std::string name, const policy_environment& env,
                      handler& next);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  std::uint32_t records() const noexcept { return records_.size(); }

 private:
  friend class idempotency_call;

  struct record {
    time_point stored_at{};
    std::uint32_t input_tokens = 0;
    std::uint32_t output_tokens = 0;
    int http_status = 0;
    std::string_view provider;  // names live as long as the provider configuration
    std::string_view model;
    answer_ptr answer;  // the provider's answer, when the call carried a payload: replayed byte-identical
  };

  void remember(std::uint64_t key, const outcome& answer);

  const std::string name_;
  const duration ttl_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  lru_map<record> records_;
};

class idempotency_spec final : public policy_spec {
 public:
  explicit idempotency_spec(const idempotency_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "idempotency"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  idempotency_options options;
};

policy_registration idempotency_registration();

}  // namespace squall
