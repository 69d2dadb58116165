#pragma once
// `squall import-config portkey config.json`: a Portkey gateway config (its "config" object: strategy,
// targets, retry, request_timeout, cache) as a squall policy file, outermost first:
//   cache       <- "cache": {"mode": "simple" | "semantic", "max_age": seconds}
//   fallback    <- "strategy": {"mode": "fallback", "on_status_codes"} over "targets" (provider, model)
//   loadbalance <- "strategy": {"mode": "loadbalance"} over "targets" (provider, model, weight)
//                  either one with "breaker" <- "strategy": {"cb_config": {...}}, Portkey's circuit breaker
//   retry       <- "retry": {"attempts", "on_status_codes", "use_retry_after_header"}, as Portkey retries
//                  (scenarios/policies/presets/portkey-retry.json: 1 s * 2^(k-1), no jitter, Retry-After on
//                  429 only and below 60 s, no wait after an obeyed one)
//   timeout     <- "request_timeout" (ms), per attempt
// What has no squall counterpart yet (nested strategies, conditional routing, per-target settings that
// differ, hooks and guardrails) is named in imported_policy::not_expressed. docs/import-config.md.

#include <string>

#include "config_import/imported_policy.hpp"
#include "policies/core/config_error.hpp"

namespace squall::config_import {

// `file` names the configuration in messages. Errors (a wrong type, an out-of-range number) name the
// JSON path in the user's file.
config_result<imported_policy> import_portkey_config(const json& config, const std::string& file);

}  // namespace squall::config_import
