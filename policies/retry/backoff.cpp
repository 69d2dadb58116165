#include "policies/retry/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace squall {

double backoff_delay_ms(backoff_kind kind, double delay_ms_base, double multiplier, double delay_ms_max,
                        std::uint32_t retry) noexcept {
  const double n = static_cast<double>(std::max<std::uint32_t>(retry, 1));
  double d = delay_ms_base;
  switch (kind) {
    case backoff_kind::constant: d = delay_ms_base; break;
    case backoff_kind::linear: d = delay_ms_base * n; break;
    // pow stays finite for every validated input (10^99 * 3.6e6 < 1e308); the cap brings it back.
    case backoff_kind::exponential: d = delay_ms_base * std::pow(multiplier, n - 1.0); break;
  }
  return std::min(d, delay_ms_max);
}

double apply_jitter_ms(jitter_kind kind, double delay_ms, double delay_ms_base, double delay_ms_max, double fraction,
                       jitter_state& state, rng& random) noexcept {
  switch (kind) {
    case jitter_kind::none: return delay_ms;
    case jitter_kind::full: return random.uniform(0.0, delay_ms);
    case jitter_kind::equal: return delay_ms / 2.0 + random.uniform(0.0, delay_ms / 2.0);
    case jitter_kind::decorrelated: {
      // The upper bound never falls below base, so the draw stays in [base, 3 * previous] even when
      // a server hint made the previous delay shorter than base.
      const double upper = std::max(delay_ms_base, state.delay_ms_previous * 3.0);
      const double d = std::min(delay_ms_max, random.uniform(delay_ms_base, upper));
      state.delay_ms_previous = d;
      return d;
    }
    case jitter_kind::shrink: return delay_ms * (1.0 - fraction * random.uniform());
  }
  return delay_ms;
}

}  // namespace squall
