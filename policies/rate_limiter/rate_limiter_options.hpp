#pragma once
// Options of the client-side rate limiter (type "rate_limiter"). Each member is one JSON key of the
// policy file, with the same name; the member initialisers are the defaults.
//
//   { "type": "rate_limiter", "rpm": 3000, "tpm": 1000000, "mode": "wait", "wait_ms_max": 5000,
//     "adaptive": { "kind": "aimd", "decrease_factor": 0.5, "increase_per_s": 60, "rpm_min": 100 } }

#include <cstdint>
#include <optional>

#include "policies/core/json_reader.hpp"

namespace squall {

// What a call that the buckets cannot take now does.
enum class limiter_mode : std::uint8_t { wait, reject };

// Additive-increase, multiplicative-decrease of the request rate, driven by the provider's 429s.
struct limiter_aimd_options {
  // On a rate_limited answer the rate is multiplied by this. From 0.01 to 0.99. The default is 0.5.
  double decrease_factor = 0.5;

  // How much the rate grows per second during which successes keep arriving, in requests per minute
  // per second. From 0 to 1000000. The default is 60 (one more request per second, every second).
  double increase_per_s = 60.0;

  // The rate never falls below this, in requests per minute. From 0.01 to 100000000, and at most
  // rpm. The default is 1.
  double rpm_min = 1.0;

  // The rate never climbs above this, in requests per minute. From 0.01 to 100000000, and at least
  // rpm. No fixed default: absent means rpm (the configured rate is the ceiling).
  std::optional<double> rpm_max;

  // At most one decrease per this many milliseconds, so a burst of 429s from requests that were
  // already in flight counts as one signal. From 0 to 3600000. The default is 1000 ms.
  double cooldown_ms = 1000.0;
};

struct rate_limiter_options {
  // Requests per minute, the starting rate when adaptive. From 0.01 to 100000000. No default: absent
  // means no request limit. At least one of rpm and tpm must be given; adaptive needs rpm.
  std::optional<double> rpm;

  // Tokens per minute, counting each request's input plus expected output tokens. From 1 to 1e12. No
  // default: absent means no token limit.
  std::optional<double> tpm;

  // "wait": a call the buckets cannot take now waits (first in, first out) until they can, within
  // wait_ms_max and queue_max; "reject": it is refused at once. The default is "wait".
  limiter_mode mode = limiter_mode::wait;

  // The longest a call waits, in milliseconds; a call whose predicted wait is longer is refused at
  // once, and one still waiting at this age is refused then. From 0 to 3600000. The default is 10000 ms.
  double wait_ms_max = 10000.0;

  // How many calls may wait at once; a call finding the queue full is refused. From 0 to 1000000.
  // The default is 1000 calls.
  std::uint32_t queue_max = 1000;

  // How many seconds of rate each bucket holds, i.e. the burst allowed after an idle spell (the
  // buckets start full). A bucket always holds at least one request (one token). From 0.001 to 60.
  // The default is 1 s.
  double burst_s = 1.0;

  // {"kind": "aimd", ...}: adapt the request rate to the provider's 429s (see limiter_aimd_options).
  // No default: absent means a fixed rate.
  std::optional<limiter_aimd_options> adaptive;
};

// Reads every key above from `reader`, checking ranges and the cross-field rules.
void read_rate_limiter_options(json_reader& reader, rate_limiter_options& options);

}  // namespace squall
