#pragma once
// Options of the idempotency policy (type "idempotency"). Each member is one JSON key of the policy
// file, with the same name; the member initialisers are the defaults.
//
//   { "type": "idempotency", "ttl_ms": 600000, "entries_max": 100000 }

#include <cstdint>

#include "policies/core/json_reader.hpp"

namespace squall {

struct idempotency_options {
  // How long the ok answer of a completed call is kept for replay, in milliseconds. From 1 to
  // 604800000 (7 days). The default is 600000 ms (10 minutes).
  double ttl_ms = 600000.0;

  // The most records held; beyond it the least recently used one is dropped. From 1 to 10000000.
  // The default is 100000 records.
  std::uint32_t entries_max = 100000;
};

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_idempotency_options(json_reader& reader, idempotency_options& options);

}  // namespace squall
