#pragma once
// Options of the coalesce policy (type "coalesce"). Each member is one JSON key of the policy file,
// with the same name; the member initialisers are the defaults.
//
//   { "type": "coalesce", "waiters_max": 1000, "in_flight_max": 10000 }

#include <cstdint>

#include "policies/core/json_reader.hpp"

namespace squall {

struct coalesce_options {
  // The most callers that may wait on one in-flight call besides the one that started it; a caller
  // beyond it starts its own call. From 1 to 1000000. The default is 1000 waiters.
  std::uint32_t waiters_max = 1000;

  // The most distinct in-flight calls tracked at once; a call with a new key beyond it passes through
  // uncoalesced. From 1 to 10000000. The default is 10000 calls.
  std::uint32_t in_flight_max = 10000;
};

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_coalesce_options(json_reader& reader, coalesce_options& options);

}  // namespace squall
