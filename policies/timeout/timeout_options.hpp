#pragma once
// Options of the timeout policy (type "timeout"). Each member is one JSON key of the policy file.
//
//   { "type": "timeout", "timeout_ms": 5000 }

#include "policies/core/json_reader.hpp"

namespace squall {

struct timeout_options {
  // How long the inner work may take before it is abandoned, in milliseconds. From 1 to 86400000.
  // The default is 30000 ms.
  double timeout_ms = 30000.0;
};

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_timeout_options(json_reader& reader, timeout_options& options);

}  // namespace squall
