#pragma once
// The litellm_router policy: LiteLLM Router's retry loop, cooldowns, routing strategies and fallbacks
// across model groups, as its source does them (docs/policies/litellm_router.md names the version read
// and every known difference).
//
// A call goes to a deployment of the primary group chosen by routing_strategy among those not cooling
// down (litellm_routing.hpp). When it fails:
//   - the failure is counted against its deployment, which may cool down (the rules below);
//   - the call is not retried at all for a 404, for a 401 in a group of one, or when no deployment is
//     healthy any more; else it gets retry_policy's count for the class of this FIRST failure, or
//     num_retries;
//   - every sleep is 0 while more than one deployment is healthy; else the FIRST failure's Retry-After
//     d when 0 < d <= 60 s, else max(retry_after_s, min(0.5 s * 2^n, 8 s)), either plus U(0, 0.75) s.
//     n is 0 for the sleep before retry 1 and again before retry 2, then 1, 2, ... (LiteLLM computes
//     the first two from the same remaining count);
//   - after the last retry fails it sleeps once more, and the group's loop ends with its FIRST failure.
// A retry finds no deployment: it fails at once with rate_limited (LiteLLM's "no deployments
// available"), counted against no deployment.
//
// When the primary group's loop ends in a failure, whatever the failure, each fallback group is tried in
// order (none when max_fallbacks is 0), each with its own deployments, cooldowns and the same retry loop.
// The first success is delivered; when every group has failed, the primary group's failure is.
//
// Cooldowns (per deployment, shared by every call of the policy): no cooldown for a connection error or
// a 4xx other than 401, 404, 408 and 429. Otherwise, at allowed_fails 3 (the default), a deployment cools
// down for cooldown_time_s when: the failure is a 429 and the group has more than one deployment; or
// every one of its requests in the last minute failed and there were at least 1000; or more than 50%
// failed, with at least failure_share_requests_min requests, in a group of more than one; or the status
// is one LiteLLM does not retry (401, 404). With another allowed_fails it cools down on failure number
// allowed_fails + 1 instead. "The last minute" is LiteLLM's counters, which expire 60 s after their last
// increment.
//
// Routing rewrites call->req.provider / model per attempt and puts the request's own values back before
// the outcome is delivered, like the fallback policy. Waits ignore the call's deadline, as LiteLLM's do;
// an outer timeout cancels the call.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/rng.hpp"
#include "policies/core/runtime.hpp"
#include "policies/litellm_router/litellm_router_options.hpp"
#include "policies/litellm_router/litellm_routing.hpp"
#include "policies/pipeline/policy_spec.hpp"

namespace squall {

// What LiteLLM makes of a failure: the HTTP status it sees and its exception class.
enum class litellm_error : std::uint8_t {
  bad_request,
  authentication,
  permission_denied,
  not_found,
  timeout,
  rate_limit,
  internal_server,
  connection,
  other,
};

struct litellm_failure {
  int status = 500;
  litellm_error error = litellm_error::other;
};

// The status LiteLLM would see (the transport's, else the class's usual one) and its exception class.
litellm_failure classify_for_litellm(const outcome& result) noexcept;

class litellm_router_handler final : public handler {
 public:
  // `env.seed` seeds the routing draws and the jitter, drawn from one stream in call order.
  litellm_router_handler(const litellm_router_options& options, std::string name, const policy_environment& env,
                         handler& next);
  litellm_router_handler(const litellm_router_handler&) = delete;
  litellm_router_handler& operator=(const litellm_router_handler&) = delete;

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  const litellm_router_options& options() const noexcept { return options_; }
  // Whether deployment `index` of the primary group is out of rotation now.
  bool cooling(std::size_t index) const noexcept;
  // How many deployments of the primary group are in rotation now.
  std::size_t healthy_count() const noexcept;
  // Group 0 is the primary group, group k the k-th fallback.
  std::size_t group_count() const noexcept { return groups_.size(); }
  const litellm_group& group(std::size_t g) const noexcept { return groups_[g]; }

 private:
  friend class litellm_router_call;

  void record_success(litellm_group& g, std::size_t index);
  void record_failure(litellm_group& g, std::size_t index, const outcome& result, std::uint64_t request_id);
  bool should_cool(litellm_group& g, std::size_t index, const litellm_failure& failure);
  std::uint32_t retries_for(litellm_error first) const noexcept;
  // LiteLLM's _time_to_sleep_before_retry over _calculate_retry_after.
  duration sleep_before_retry(const litellm_group& g, const outcome& first, std::uint32_t remaining,
                              std::uint32_t retries);
  void emit(policy_event_kind kind, std::uint64_t request_id, duration delay, outcome_class cause, std::uint64_t value,
            std::string_view detail);

  const litellm_router_options options_;
  const std::string name_;
  const duration cooldown_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  rng random_;
  std::vector<litellm_group> groups_;  // the primary group, then one per fallback; at most 9
};

class litellm_router_spec final : public policy_spec {
 public:
  explicit litellm_router_spec(const litellm_router_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "litellm_router"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  litellm_router_options options;
};

policy_registration litellm_router_registration();

}  // namespace squall
