#pragma once
// Options of the litellm_router policy (type "litellm_router"): one model group of LiteLLM's Router and
// the model groups it falls back on. Each member is one JSON key of the policy file, with the same name;
// the member initialisers are the defaults, which are LiteLLM's own (docs/policies/litellm_router.md names
// the source read).
//
//   { "type": "litellm_router",
//     "model_group": "gpt-4o",
//     "routing_strategy": "latency-based-routing",
//     "routing_strategy_args": { "ttl_s": 3600, "lowest_latency_buffer": 0.2 },
//     "deployments": [ { "provider": "azure", "model": "gpt-4o", "weight": 2, "rpm": 600 },
//                      { "provider": "openai", "model": "gpt-4o" } ],
//     "num_retries": 2,
//     "retry_policy": { "rate_limit": 5, "bad_request": 0 },
//     "retry_after_s": 0, "cooldown_time_s": 5,
//     "fallbacks": [ { "model_group": "gpt-4o-mini", "deployments": [ { "model": "gpt-4o-mini" } ] } ],
//     "max_fallbacks": 5 }

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
  // "rpm" key (LiteLLM's litellm_params rpm): requests per minute this deployment may take, for the
  // usage-based and latency-based strategies, and simple-shuffle's weight when no deployment has a
  // "weight". A non-negative integer; absent = no limit.
  std::optional<std::uint64_t> rpm;
  // "tpm" key (litellm_params tpm): tokens per minute, likewise. Absent = no limit.
  std::optional<std::uint64_t> tpm;
  // Whether the file gave "weight" (derived by the parser, not a JSON key).
  bool weight_given = false;
  // What events carry: "provider/model", with "*" for a part kept from the request; a fallback group's
  // deployments carry "model_group:provider/model". Derived by the parser, not a JSON key.
  std::string name;
};

// LiteLLM's routing_strategy, by its own names.
enum class litellm_routing_strategy : std::uint8_t {
  simple_shuffle,          // "simple-shuffle": weighted random
  least_busy,              // "least-busy": fewest requests in flight
  latency_based,           // "latency-based-routing": lowest average of the latest samples
  usage_based,             // "usage-based-routing": lowest tokens this minute, within rpm/tpm
  usage_based_v2,          // "usage-based-routing-v2": likewise, rpm enforced before the call
};

// routing_strategy_args: the RoutingArgs of LiteLLM's latency-based strategy (lowest_latency.py). Other
// strategies read none of them.
struct litellm_routing_args {
  // "ttl_s": the latency map is forgotten this long after its last write, in seconds. Above 0, at most
  // 604800. The default is 3600 s (RoutingArgs.ttl, one hour).
  double ttl_s = 3600.0;
  // "lowest_latency_buffer": deployments whose average is within lowest * (1 + buffer) share the
  // traffic at random. From 0 to 1000. The default is 0 (only the lowest).
  double lowest_latency_buffer = 0.0;
};

// One model group the call falls back on (LiteLLM's fallbacks: [{"primary": ["this group"]}]).
struct litellm_fallback_group {
  std::string model_group;                     // "model_group" key, required, non-empty
  std::vector<litellm_deployment> deployments; // "deployments" key, 1 to 16, same shape as the top level
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
  // The model group's name (LiteLLM's model_name), for events and reports. A fallback group of the same
  // name is skipped, as LiteLLM skips it. The default is "".
  std::string model_group;

  // The model group, 1 to 16 deployments; required.
  std::vector<litellm_deployment> deployments;

  // How a deployment is chosen for each attempt, in every group. The default is simple-shuffle.
  litellm_routing_strategy routing_strategy = litellm_routing_strategy::simple_shuffle;

  litellm_routing_args routing_strategy_args;

  // Model groups tried in order once the primary group's loop has failed, each with its own deployments,
  // cooldowns and retries. At most 8. The default is none.
  std::vector<litellm_fallback_group> fallbacks;

  // LiteLLM's max_fallbacks: the depth at which run_async_fallback stops. It is checked once, on entering
  // the fallback list, so 0 turns fallbacks off and any other value tries the whole list (LiteLLM's own
  // behaviour; the depth only bounds chains of fallbacks, which a policy file cannot express). From 0 to
  // 100. The default is 5 (ROUTER_MAX_FALLBACKS).
  std::uint32_t max_fallbacks = 5;

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
