#include "policies/core/events.hpp"

#include <array>

namespace squall {

std::string_view to_string(policy_event_kind kind) noexcept {
  static constexpr std::array<std::string_view, policy_event_kind_count> names = {
      "retry_scheduled", "retry_exhausted", "retry_hint_too_long", "retry_budget_exhausted", "timeout_fired",
      "breaker_opened", "breaker_half_opened", "breaker_closed", "breaker_rejected", "hedge_sent",
      "hedge_cancelled", "limiter_waited", "limiter_rejected", "limiter_rate_changed", "throttled",
      "bulkhead_queued", "bulkhead_rejected", "fallback_used", "endpoint_cooldown", "endpoint_recovered",
      "degraded_served", "cache_hit", "cache_miss", "cache_stale_served", "coalesced",
      "idempotent_replay", "batch_sent", "budget_rejected", "budget_rerouted", "prompt_trimmed",
      "routed", "degrade_passed"};
  static_assert(static_cast<std::size_t>(policy_event_kind::degrade_passed) + 1 == policy_event_kind_count);
  return names[static_cast<std::size_t>(kind)];
}

}  // namespace squall
