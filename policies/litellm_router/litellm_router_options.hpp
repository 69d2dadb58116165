#pragma once
// Options of the litellm_router policy (type "litellm_router"): one model group of LiteLLM's Router. Each
// member is one JSON key of the policy file, with the same name; the member initialisers are the
// defaults, which are LiteLLM's own (docs/policies/litellm_router.md names the source read).
//
//   { "type": "litellm_router",
//     "deployments": [ { "provider": "azure", "model": "gpt-4o", "weight": 2 },
//                      { "provider": "openai", "model": "gpt-4o" } ],
//     "num_retries": 2,
//     "retry_policy": { "rate_limit": 5, "bad_request": 0 },
//     "retry_after_s": 0, "cooldown_time_s": 5 }

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policies/core/json_reader.hpp"

namespace squall {

// One deployment of the model group: where an attempt is sent. An empty provider or model keeps the
// request's own.
struct litellm_deployment {
  std::string provider;  // "provider" key; omitted = the request's provider
  std::string model;     // "model" key; omitted = the request's model
  // "weight" key: simple-shuffle picks a deployment with probability weight / (sum of the healthy ones).
  // Above 0, at most 1000000. The default is 1 (every deployment equally likely).
  double weight = 1.0;
  // What events carry: "provider/model", with "*" for a part kept from the request. Derived by the
  // parser, not a JSON key.
  std::string name;
};

// LiteLLM's RetryPolicy: retries per error class of the call's FIRST failure, replacing num_retries for
// that call. An absent key leaves the class on num_retries. Each from 0 to 20.
struct litellm_retry_policy {
  std::optional<std::uint32_t> bad_request;               // BadRequestErrorRetries (400)
  std::optional<std::uint32_t> authentication;            // AuthenticationErrorRetries (401)
  std::optional<std::uint32_t> timeout;                   // TimeoutErrorRetries (timeouts, 408)
  std::optional<std::uint32_t> rate_limit;                // RateLimitErrorRetries (429)
  // ContentPolicyViolationErrorRetries: read so that a LiteLLM policy translates key for key, but no
  // squall outcome is a content-policy violation, so it never applies.
  std::optional<std::uint32_t> content_policy_violation;
  // InternalServerErrorRetries: read for the same reason; the LiteLLM source read never consults it
  // (get_retry_from_policy.py), so neither does squall.
  std::optional<std::uint32_t> internal_server_error;
};

struct litellm_router_options {
  // The model group, 1 to 16 deployments; required.
  std::vector<litellm_deployment> deployments;

  // Retries after the first failure when retry_policy says nothing for its class. From 0 to 20. The
  // default is 0, LiteLLM's Router default (proxies commonly set 2 or 3).
  std::uint32_t num_retries = 0;

  litellm_retry_policy retry_policy;

  // The Router's retry_after: a floor, in seconds, under the exponential backoff (not under a server's
  // Retry-After). From 0 to 3600. The default is 0 s.
  double retry_after_s = 0.0;

  // How long a deployment stays out of rotation once cooled down, in seconds. Above 0, at most 86400.
  // The default is 5 s (DEFAULT_COOLDOWN_TIME_SECONDS).
  double cooldown_time_s = 5.0;

  // The Router's allowed_fails. At LiteLLM's default 3 the failure-share rules decide cooldowns; any
  // other value switches to the count rule: a deployment cools down on its failure number
  // allowed_fails + 1 (the count forgets cooldown_time_s after its last increment). From 0 to 1000000.
  // The default is 3.
  std::uint32_t allowed_fails = 3;

  // LiteLLM's DEFAULT_FAILURE_THRESHOLD_MINIMUM_REQUESTS: the failure-share rule (> 50% of the last
  // minute's requests failed) needs at least this many requests. From 0 to 1000000. The default is 5.
  std::uint32_t failure_share_requests_min = 5;

  // The Router's disable_cooldowns: no deployment is ever cooled down. The default is false.
  bool disable_cooldowns = false;
};

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_litellm_router_options(json_reader& reader, litellm_router_options& options);

}  // namespace squall
