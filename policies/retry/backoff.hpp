#pragma once
// The retry delay formulas, as pure functions so that tests can check them exactly. Delays are in
// milliseconds as doubles: the formulas multiply and draw, and the caller turns the result into a duration.
//
// Jitter follows AWS's "Exponential Backoff and Jitter" (Marc Brooker, 2015): spreading retries in time
// is what keeps a fleet of clients from hammering a recovering provider in lock-step.

#include <cstdint>

#include "policies/core/rng.hpp"

namespace squall {

enum class backoff_kind : std::uint8_t { constant, linear, exponential };
enum class jitter_kind : std::uint8_t { none, full, equal, decorrelated, shrink };

// The delay before retry number `retry` (1 = the first retry), before jitter:
//   constant: base; linear: base * retry; exponential: base * multiplier^(retry - 1);
// all capped at `delay_ms_max`.
double backoff_delay_ms(backoff_kind kind, double delay_ms_base, double multiplier, double delay_ms_max,
                        std::uint32_t retry) noexcept;

// What the decorrelated jitter remembers between the retries of one call: the previous delay.
struct jitter_state {
  double delay_ms_previous;  // starts at the base delay
};

// Spreads `delay_ms` (the capped backoff) with `kind`:
//   none: d; full: uniform(0, d); equal: d/2 + uniform(0, d/2);
//   decorrelated: min(cap, uniform(base, 3 * previous)), ignoring d, with previous starting at base;
//   shrink: d * (1 - fraction * uniform(0, 1)), the OpenAI and Anthropic SDKs' jitter with fraction 0.25
//   (it only ever shortens the delay, so the first retry never waits longer than the base).
// Only decorrelated reads or updates `state`; only shrink reads `fraction` (0 to 1). Draws from `random`
// only when the kind needs a draw.
double apply_jitter_ms(jitter_kind kind, double delay_ms, double delay_ms_base, double delay_ms_max, double fraction,
                       jitter_state& state, rng& random) noexcept;

}  // namespace squall
