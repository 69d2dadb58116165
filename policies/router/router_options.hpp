#pragma once
// Options of the router policy (type "router"). Each member is one JSON key of the policy file, with the
// same name; the member initialisers are the defaults. Give either "routes" or "candidates":
//
//   { "type": "router",
//     "routes": { "simple": { "model": "gpt-4o-mini" }, "complex": { "provider": "anthropic",
//                 "model": "claude-sonnet" } } }
//
//   { "type": "router", "priority": "cost",
//     "candidates": [ { "provider": "openai", "model": "gpt-4o-mini", "usd_per_mtok_out": 0.6,
//                       "quality": 0.6, "speed": 120 },
//                     { "provider": "openai", "model": "gpt-4o", "usd_per_mtok_out": 10, "quality": 0.9,
//                       "speed": 80 } ] }

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/core/json_reader.hpp"
#include "policies/core/outcome.hpp"
#include "policies/core/outcome_class_set.hpp"
#include "policies/core/request_class.hpp"

namespace squall {

// Where a routed call goes. An empty provider keeps the request's own provider.
struct router_target {
  std::string provider;  // "provider" key; omitted = the request's provider
  std::string model;     // "model" key; required
  // What events carry: "provider/model", with "*" for a provider kept from the request. Derived by the
  // parser, not a JSON key.
  std::string name;
};

// One model the router may pick in "candidates" mode.
struct router_candidate {
  router_target target;
  // Price of output tokens, USD per million. From 0 to 1000000. The default is 0.
  double usd_per_mtok_out = 0.0;
  // Relative answer quality. From 0 to 1. The default is 0.5.
  double quality = 0.5;
  // Relative speed, larger is faster (output tokens per second, say). From 0 to 1000000. The default is 1.
  double speed = 1.0;
};

enum class router_priority : std::uint8_t { cost, speed, quality, balanced };

struct router_options {
  // "routes" mode: the target per request class ("simple", "moderate", "complex", "critical"); at least
  // one class. A class without a route uses the next higher class that has one, then the request's own
  // model. No default.
  std::array<std::optional<router_target>, request_class_count> routes;

  // "candidates" mode: the models to pick from, 1 to 16, no two with the same provider and model. No
  // default; exactly one of "routes" and "candidates" is required.
  std::vector<router_candidate> candidates;

  // "candidates" mode: what the pick optimises among the candidates good enough for the class: "cost"
  // (cheapest), "speed" (fastest), "quality" (best) or "balanced" (best mean of normalised quality,
  // speed and cheapness). The default is "balanced".
  router_priority priority = router_priority::balanced;

  // "candidates" mode: the least quality a candidate needs to serve each class, as an object keyed by
  // class name; absent classes keep their default. Each from 0 to 1. The defaults are simple 0,
  // moderate 0.4, complex 0.7, critical 0.9.
  std::array<double, request_class_count> quality_min{0.0, 0.4, 0.7, 0.9};

  // The classes that count as a target's failure in its health window; other failure classes (the
  // request's own mistakes) are not recorded. Any class except ok and cancelled. The default is
  // ["rate_limited", "overloaded", "server_error", "timeout", "connection_error", "circuit_open"].
  outcome_class_set failure_on{outcome_class::rate_limited,    outcome_class::overloaded,
                               outcome_class::server_error,    outcome_class::timeout,
                               outcome_class::connection_error, outcome_class::circuit_open};

  // How many of a target's latest recorded answers its health is judged on (a ring). From 1 to 10000.
  // The default is 50 answers.
  std::uint32_t health_window = 50;

  // The fewest recorded answers before a target can be judged unhealthy. From 1 to 10000, and at most
  // health_window. The default is 10 answers.
  std::uint32_t health_answers_min = 10;

  // A target whose failure share in its window is strictly above this is unhealthy and skipped. From 0
  // to 1 (1 never marks a target unhealthy). The default is 0.5.
  double unhealthy_failure_rate = 0.5;

  // How long an unhealthy target is skipped before one call probes it, in milliseconds: a success makes
  // it healthy again (with an empty window), a failure skips it for another recheck_ms. From 1 to
  // 86400000. The default is 30000 ms.
  double recheck_ms = 30000.0;
};

// Reads every key above from `reader`, checking ranges and the mode; leaves absent keys at their defaults.
void read_router_options(json_reader& reader, router_options& options);

}  // namespace squall
