#pragma once
// Policies report what they decided as events. The simulation counts them into its metrics and time
// series; a production service can forward them to its own telemetry. A sink must not call back into
// the policy that reports to it.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policies/core/outcome.hpp"
#include "policies/core/time.hpp"

namespace squall {

enum class policy_event_kind : std::uint8_t {
  retry_scheduled,        // a failed attempt will be retried after `delay`
  retry_exhausted,        // no attempts left, or the next one would pass the deadline
  retry_hint_too_long,    // the server's retry-after exceeded the cap and the policy gave up
  retry_budget_exhausted, // a retry (or hedge) was refused by the retry budget
  timeout_fired,          // the call ran out of time and its inner work was abandoned
  breaker_opened,
  breaker_half_opened,
  breaker_closed,
  breaker_rejected,       // a call was refused while open (or past the half-open permits)
  hedge_sent,             // an extra attempt was started in parallel; value = hedge number
  hedge_cancelled,        // a losing attempt was cancelled once another answered
  limiter_waited,         // a client-side rate limiter delayed the call by `delay`
  limiter_rejected,       // a client-side rate limiter refused the call
  limiter_rate_changed,   // an adaptive limiter changed its rate; value = new rate per minute
  throttled,              // client-side adaptive throttling refused the call locally
  bulkhead_queued,        // the call waited for a concurrency slot
  bulkhead_rejected,      // no slot and no queue room (or the wait ran out)
  fallback_used,          // the call moved to the next endpoint; detail = endpoint name
  endpoint_cooldown,      // an endpoint was taken out of rotation; detail = endpoint name
  endpoint_recovered,     // an endpoint came back after its cooldown or a probe; detail = endpoint name
  degraded_served,        // a degraded answer replaced a failure
  cache_hit,
  cache_miss,
  cache_stale_served,     // a stale entry answered because the provider failed
  coalesced,              // the call shared an identical call already in flight
  idempotent_replay,      // a retried request was answered from its idempotency record, not paid again
  batch_sent,             // a batch left; value = batch size, delay = longest wait inside it
  budget_rejected,        // a token or spend budget refused the call
  budget_rerouted,        // a budget sent the call to a cheaper model; detail = model
  prompt_trimmed,         // the input was trimmed; value = tokens removed
  routed,                 // a router chose the model or provider; detail = the choice
  degrade_passed,         // a degrade rule let a failure through, no degraded answer; detail = the rule
};

inline constexpr std::size_t policy_event_kind_count = 32;

// A call refused on the client's side before any attempt (a limiter, a throttle, a full bulkhead, a spent
// budget): what results count as client_rejections. One list, so the run's series, its summary and each
// fleet instance's counts cannot disagree on what a rejection is.
constexpr bool is_client_rejection(policy_event_kind kind) noexcept {
  return kind == policy_event_kind::limiter_rejected || kind == policy_event_kind::throttled ||
         kind == policy_event_kind::bulkhead_rejected || kind == policy_event_kind::budget_rejected;
}

struct policy_event {
  policy_event_kind kind;
  std::string_view policy;        // the policy's name in its file (type if unnamed)
  time_point at;
  std::uint64_t request_id = 0;   // 0 for events about the policy itself (breaker transitions)
  duration delay{};               // retry_scheduled: the chosen delay
  outcome_class cause = outcome_class::ok;  // the outcome that led to the event, where one did
  std::uint64_t value = 0;        // a number the kind defines (batch size, hedge number, new rate)
  std::string_view detail;        // a name the kind defines (endpoint, model); must outlive the call
};

std::string_view to_string(policy_event_kind kind) noexcept;

class event_sink {
 public:
  virtual void on_policy_event(const policy_event& event) = 0;

 protected:
  ~event_sink() = default;
};

// For production code that does not listen.
class null_event_sink final : public event_sink {
 public:
  void on_policy_event(const policy_event&) override {}
};

}  // namespace squall
