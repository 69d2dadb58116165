#pragma once
// Options of the degrade policy (type "degrade"). Each member is one JSON key of the policy file, with the
// same name; the member initialisers are the defaults.
//
//   { "type": "degrade", "answer": "last_good", "entries_max": 10000, "output_tokens": 50, "latency_ms": 1,
//     "degrade_on": ["rate_limited", "overloaded", "server_error", "timeout", "connection_error"] }

#include <cstdint>

#include "policies/core/json_reader.hpp"
#include "policies/core/outcome.hpp"
#include "policies/core/outcome_class_set.hpp"

namespace squall {

// What a degraded answer is.
enum class degrade_answer : std::uint8_t {
  static_answer,  // "static": a fixed answer
  last_good,      // "last_good": the last ok answer seen for the same cache key, else the static answer
};

struct degrade_options {
  // The failure classes replaced by a degraded answer. Any class except ok and cancelled. The default is
  // every failure class except invalid_request and auth (the caller's own mistakes, which a degraded
  // answer would hide): ["rate_limited", "overloaded", "server_error", "timeout", "connection_error",
  // "quota", "circuit_open", "rejected"].
  outcome_class_set degrade_on{outcome_class::rate_limited,     outcome_class::overloaded,
                               outcome_class::server_error,     outcome_class::timeout,
                               outcome_class::connection_error, outcome_class::quota,
                               outcome_class::circuit_open,     outcome_class::rejected};

  // "static" or "last_good". The default is "static".
  degrade_answer answer = degrade_answer::static_answer;

  // The output tokens of the static answer. From 0 to 1000000. The default is 50 tokens.
  std::uint32_t output_tokens = 50;

  // How long producing a degraded answer takes, in milliseconds, after the failure it replaces. From 0 to
  // 60000. The default is 1 ms.
  double latency_ms = 1.0;

  // "last_good" only: how many cache keys keep their last ok answer; the least recently used key is
  // forgotten beyond it. From 1 to 10000000. The default is 10000 entries.
  std::uint32_t entries_max = 10000;
};

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_degrade_options(json_reader& reader, degrade_options& options);

}  // namespace squall
