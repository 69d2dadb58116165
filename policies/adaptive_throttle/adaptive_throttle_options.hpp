#pragma once
// Options of client-side adaptive throttling (type "adaptive_throttle"), after the Google SRE book,
// chapter "Handling Overload". Each member is one JSON key of the policy file, with the same name; the
// member initialisers are the defaults.
//
//   { "type": "adaptive_throttle", "window_s": 120, "k": 2.0, "reject_on": ["rate_limited", "overloaded"] }

#include <cstdint>

#include "policies/core/json_reader.hpp"
#include "policies/core/outcome.hpp"
#include "policies/core/outcome_class_set.hpp"

namespace squall {

struct adaptive_throttle_options {
  // The length of the sliding window over which requests and accepts are counted, in seconds (one
  // bucket per second). From 1 to 3600. The default is 120 s, the book's two minutes.
  std::uint32_t window_s = 120;

  // The multiplier K: the client sends up to about K times as many requests as the provider accepts
  // before it starts refusing locally. Lower is more aggressive. From 1 to 10. The default is 2.0.
  double k = 2.0;

  // The outcome classes that mean "the provider refused"; every other answer counts as an accept.
  // ok may not be listed. The default is ["rate_limited", "overloaded"].
  outcome_class_set reject_on{outcome_class::rate_limited, outcome_class::overloaded};
};

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_adaptive_throttle_options(json_reader& reader, adaptive_throttle_options& options);

}  // namespace squall
