#pragma once
// Policies report what they decided as events. The simulation counts them into its metrics and time
// series; a production service can forward them to its own telemetry. A sink must not call back into
// the policy that reports to it.

#include <cstdint>
#include <string_view>

#include "policies/core/outcome.hpp"
#include "policies/core/time.hpp"

namespace squall {

enum class policy_event_kind : std::uint8_t {
  retry_scheduled,    // a failed attempt will be retried after `delay`
  retry_exhausted,    // no attempts left, or the next one would pass the deadline
  retry_hint_too_long,// the server's retry-after exceeded the cap and the policy gave up
  timeout_fired,      // the call ran out of time and its inner work was abandoned
  breaker_opened,
  breaker_half_opened,
  breaker_closed,
  breaker_rejected,   // a call was refused while open (or past the half-open permits)
};

struct policy_event {
  policy_event_kind kind;
  std::string_view policy;        // the policy's name in its file (type if unnamed)
  time_point at;
  std::uint64_t request_id = 0;   // 0 for events about the policy itself (breaker transitions)
  duration delay{};               // retry_scheduled: the chosen delay
  outcome_class cause = outcome_class::ok;  // the outcome that led to the event, where one did
};

class event_sink {
 public:
  virtual void on_policy_event(const policy_event& event) = 0;

 protected:
  ~event_sink() = default;
};

// For production code that does not listen.
class null_event_sink final : public event_sink {
 public:
  void on_policy_event(const policy_event&) override {}
};

}  // namespace squall
