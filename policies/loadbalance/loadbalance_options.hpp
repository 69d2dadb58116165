#pragma once
// Options of the loadbalance policy (type "loadbalance"). Each member is one JSON key of the policy file,
// with the same name; the member initialisers are the defaults.
//
//   { "type": "loadbalance",
//     "targets": [ { "provider": "openai", "model": "gpt-4o", "weight": 3 },
//                  { "provider": "anthropic", "model": "claude-sonnet", "weight": 1 } ],
//     "breaker": { "failures_to_open": 5, "cooldown_ms": 60000 } }

#include <optional>
#include <string>
#include <vector>

#include "policies/core/json_reader.hpp"
#include "policies/core/target_breaker.hpp"

namespace squall {

// One place a call may be sent. An empty provider or model keeps the request's own.
struct loadbalance_target {
  std::string provider;  // "provider" key; omitted = the request's provider
  std::string model;     // "model" key; omitted = the request's model
  // The target's share of the calls is weight / (sum of the weights); 0 never receives a call. From 0 to
  // 1000000. The default is 1 (Portkey's).
  double weight = 1.0;
  // What events carry: "provider/model", with "*" for a part kept from the request. Derived by the
  // parser, not a JSON key.
  std::string name;
};

struct loadbalance_options {
  // The targets, 1 to 16, at least one with a weight above 0. Required.
  std::vector<loadbalance_target> targets;

  // When set, every target has a breaker with Portkey's semantics (policies/core/target_breaker.hpp): open
  // targets are left out of the draw, and when every target is open none is left out. The default is
  // unset: no breaker.
  std::optional<target_breaker_options> breaker;
};

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_loadbalance_options(json_reader& reader, loadbalance_options& options);

}  // namespace squall
