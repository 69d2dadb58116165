#pragma once
// Options of the fallback policy (type "fallback"). Each member is one JSON key of the policy file, with the
// same name; the member initialisers are the defaults.
//
//   { "type": "fallback",
//     "endpoints": [ { "provider": "openai", "model": "gpt-4o" },
//                    { "provider": "openai", "model": "gpt-4o-mini" },
//                    { "provider": "local", "model": "llama-3-8b" } ],
//     "fallback_on": ["rate_limited", "overloaded", "server_error", "timeout"],
//     "failures_to_cooldown": 3, "cooldown_ms": 30000, "probe_calls": 1 }

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policies/core/json_reader.hpp"
#include "policies/core/outcome.hpp"
#include "policies/core/outcome_class_set.hpp"
#include "policies/core/target_breaker.hpp"

namespace squall {

// One place a call may be sent. An empty provider or model keeps the request's own.
struct fallback_endpoint {
  std::string provider;  // "provider" key; omitted = the request's provider
  std::string model;     // "model" key; omitted = the request's model
  // What events carry: "provider/model", with "*" for a part kept from the request ("*/gpt-4o-mini").
  // Derived by the parser, not a JSON key.
  std::string name;
};

// What a call does when every endpoint is cooling down.
enum class all_cooling_mode : std::uint8_t { try_first, fail };

struct fallback_options {
  // The chain, tried in order: the first is the primary, the others are used only when the ones before
  // them failed (with a class in fallback_on) or are cooling down. From 1 to 16 entries; required.
  std::vector<fallback_endpoint> endpoints;

  // The classes that move a call on to the next endpoint and that count as an endpoint failure. Any
  // class except ok and cancelled (listing invalid_request lets a call move to a model with a larger
  // context window, for example). The default is
  // ["rate_limited", "overloaded", "server_error", "timeout", "connection_error", "circuit_open"].
  outcome_class_set fallback_on{outcome_class::rate_limited,    outcome_class::overloaded,
                                outcome_class::server_error,    outcome_class::timeout,
                                outcome_class::connection_error, outcome_class::circuit_open};

  // Consecutive failures (classes in fallback_on) after which an endpoint is put in cooldown. A success
  // resets the count; other classes leave it alone. From 1 to 1000. The default is 3 failures.
  std::uint32_t failures_to_cooldown = 3;

  // How long a cooling endpoint is skipped, in milliseconds. From 1 to 86400000. The default is 30000 ms.
  double cooldown_ms = 30000.0;

  // Real calls an endpoint gets as recovery probes once its cooldown has ended. All of them must succeed
  // for it to be healthy again; any probe failure starts another cooldown. From 1 to 1000. The default
  // is 1 probe.
  std::uint32_t probe_calls = 1;

  // When every endpoint is cooling down (or busy with its probes): "try_first" sends the call to the
  // first endpoint anyway, without counting its result towards that endpoint's health; "fail" answers
  // at once with the class of the most recent failure that started a cooldown. The default is
  // "try_first".
  all_cooling_mode when_all_cooling = all_cooling_mode::try_first;

  // When set, the endpoints' health is Portkey's circuit breaker instead of the cooldown and probes
  // above (policies/core/target_breaker.hpp), so failures_to_cooldown, cooldown_ms, probe_calls and
  // when_all_cooling may not be given with it. It is checked when a call starts: the call goes through
  // the endpoints that are not open, in order; when every endpoint is open it goes through all of them
  // (Portkey bypasses its breakers then). Every endpoint's answer counts towards its breaker. The default
  // is unset.
  std::optional<target_breaker_options> breaker;
};

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_fallback_options(json_reader& reader, fallback_options& options);

}  // namespace squall
