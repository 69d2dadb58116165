#pragma once
// Options of the batching policy (type "batching"). Each member is one JSON key of the policy file,
// with the same name; the member initialisers are the defaults.
//
//   { "type": "batching", "batch_size_max": 16, "window_ms": 50, "groups_max": 64 }

#include <cstdint>

#include "policies/core/json_reader.hpp"

namespace squall {

struct batching_options {
  // The most calls in one batch; a batch that reaches it leaves at once. From 1 to 4096 (1 turns
  // batching off: every call leaves alone). The default is 16 calls.
  std::uint32_t batch_size_max = 16;

  // How long a batch waits for more calls after its first one joined, in milliseconds. From 0 to
  // 60000. The default is 50 ms.
  double window_ms = 50.0;

  // The most batches open (collecting) at once, one per model; a call for another model beyond it is
  // sent alone, unbatched. From 1 to 100000. The default is 64 batches.
  std::uint32_t groups_max = 64;
};

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_batching_options(json_reader& reader, batching_options& options);

}  // namespace squall
