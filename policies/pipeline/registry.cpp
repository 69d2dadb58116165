#include "policies/pipeline/registry.hpp"

#include <array>

#include "policies/circuit_breaker/circuit_breaker.hpp"
#include "policies/hedging/hedging.hpp"
#include "policies/cache/cache.hpp"
#include "policies/coalesce/coalesce.hpp"
#include "policies/idempotency/idempotency.hpp"
#include "policies/batching/batching.hpp"
#include "policies/fallback/fallback.hpp"
#include "policies/litellm_router/litellm_router.hpp"
#include "policies/loadbalance/loadbalance.hpp"
#include "policies/degrade/degrade.hpp"
#include "policies/router/router.hpp"
#include "policies/rate_limiter/rate_limiter.hpp"
#include "policies/adaptive_throttle/adaptive_throttle.hpp"
#include "policies/bulkhead/bulkhead.hpp"
#include "policies/token_budget/token_budget.hpp"
#include "policies/prompt_trim/prompt_trim.hpp"
#include "policies/retry/retry.hpp"
#include "policies/timeout/timeout.hpp"
#include "policies/validate/validate.hpp"

namespace squall {

std::span<const policy_registration> policy_registry() {
  static const std::array registrations = {
      retry_registration(),
      timeout_registration(),
      circuit_breaker_registration(),
      hedging_registration(),
      cache_registration(),
      coalesce_registration(),
      idempotency_registration(),
      batching_registration(),
      fallback_registration(),
      litellm_router_registration(),
      loadbalance_registration(),
      degrade_registration(),
      router_registration(),
      rate_limiter_registration(),
      adaptive_throttle_registration(),
      bulkhead_registration(),
      token_budget_registration(),
      prompt_trim_registration(),
      validate_registration(),
  };
  return registrations;
}

const policy_registration* find_policy(std::string_view type) {
  for (const auto& r : policy_registry()) {
    if (r.type == type) return &r;
  }
  return nullptr;
}

}  // namespace squall
