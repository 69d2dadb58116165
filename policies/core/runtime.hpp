#pragma once
// The runtime interface: everything a policy may know about time. The simulation implements it with
// its event scheduler (virtual time); production and live mode implement it with Boost.Asio timers.

#include <cstdint>

#include "policies/core/time.hpp"

namespace squall {

// Something a timer calls back. `cookie` lets one object own several timers without allocating.
class timer_target {
 public:
  virtual void on_timer(std::uint32_t cookie) = 0;

 protected:
  ~timer_target() = default;
};

// Names one started timer. A default-constructed id names none; cancelling it is harmless.
struct timer_id {
  std::uint64_t value = 0;
  explicit operator bool() const noexcept { return value != 0; }
  friend bool operator==(timer_id, timer_id) = default;
};

class runtime {
 public:
  virtual ~runtime() = default;

  virtual time_point now() const noexcept = 0;

  // Calls target.on_timer(cookie) once `delay` has passed (a negative delay counts as zero). Never
  // calls it from inside start_timer, so a caller may start a timer while holding half-built state.
  virtual timer_id start_timer(duration delay, timer_target& target, std::uint32_t cookie) = 0;

  // After this returns, the timer will not fire. Cancelling a fired, cancelled or empty id is a no-op.
  virtual void cancel_timer(timer_id id) noexcept = 0;
};

}  // namespace squall
