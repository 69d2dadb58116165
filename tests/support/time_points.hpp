#pragma once
// Points of a test's virtual clock, counted from its epoch: at_ms(250), at_s(3).

#include "policies/core/time.hpp"

namespace squall::testing {

inline time_point at_ms(double ms) { return time_point{from_ms(ms)}; }
inline time_point at_s(double s) { return time_point{from_s(s)}; }

}  // namespace squall::testing
