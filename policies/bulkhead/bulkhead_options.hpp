#pragma once
// Options of the bulkhead (type "bulkhead"). Each member is one JSON key of the policy file, with the
// same name; the member initialisers are the defaults.
//
//   { "type": "bulkhead", "concurrency_max": 16, "queue_max": 64, "queue_wait_ms_max": 2000 }

#include <cstdint>

#include "policies/core/json_reader.hpp"

namespace squall {

struct bulkhead_options {
  // How many calls may run inside the bulkhead at once. From 1 to 100000. The default is 10 calls.
  std::uint32_t concurrency_max = 10;

  // How many calls may wait (first in, first out) for a slot when all are taken; a call finding the
  // queue full is rejected. From 0 to 1000000; 0 means no queue: a call without a slot is rejected at
  // once. The default is 0.
  std::uint32_t queue_max = 0;

  // The longest a queued call waits for a slot before it is rejected, in milliseconds. From 0 to
  // 3600000. The default is 1000 ms.
  double queue_wait_ms_max = 1000.0;
};

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_bulkhead_options(json_reader& reader, bulkhead_options& options);

}  // namespace squall
