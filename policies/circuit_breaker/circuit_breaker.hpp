#pragma once
// The circuit breaker, with resilience4j's semantics. Closed, it lets calls through and records each
// completed one in a sliding window; once the window holds calls_min calls and the failure rate or the
// slow-call rate reaches its threshold, it opens. Open, it rejects every call with `circuit_open`
// without calling the next stage; after open_ms it half-opens. Half-open, it lets half_open_calls
// probes through and rejects the rest; when every probe has completed it opens again if the probes'
// failure or slow rate reaches the threshold, and otherwise closes with an empty window.
//
// Inside a retry the breaker sees every attempt; outside it would see one outcome per call.
//
// One handler serves all calls of a pipeline: its state is shared. A call remembers the state epoch it
// was admitted in, and its result counts only in that epoch, so a slow call admitted before the breaker
// opened cannot decide the later half-open trial. A call cancelled by its caller is not recorded, but a
// cancelled probe gives its permit back.

#include <cstdint>
#include <memory>
#include <string>

#include "policies/circuit_breaker/breaker_window.hpp"
#include "policies/circuit_breaker/circuit_breaker_options.hpp"
#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/object_pool.hpp"
#include "policies/core/runtime.hpp"
#include "policies/pipeline/policy_spec.hpp"

namespace squall {

class breaker_call;

enum class breaker_state : std::uint8_t { closed, open, half_open };

class circuit_breaker_handler final : public handler, private timer_target {
 public:
  circuit_breaker_handler(const circuit_breaker_options& options, std::string name, const policy_environment& env,
                          handler& next);
  ~circuit_breaker_handler() override;
  circuit_breaker_handler(const circuit_breaker_handler&) = delete;
  circuit_breaker_handler& operator=(const circuit_breaker_handler&) = delete;

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  breaker_state state() const noexcept { return state_; }
  // "state": 0 closed, 1 open, 2 half-open.
  void report_gauges(gauge_sink& sink) const override {
    sink.on_gauge(name_, "state", static_cast<double>(state_));
  }

 private:
  friend class breaker_call;

  // From breaker_call, once per admitted call that completes or is cancelled.
  void on_call_completed(std::uint64_t epoch, bool probe, duration latency, outcome_class kind);
  void on_call_cancelled(std::uint64_t epoch, bool probe) noexcept;

  void on_timer(std::uint32_t cookie) override;  // open_ms elapsed: half-open
  void open(outcome_class cause);
  void close();
  void emit(policy_event_kind kind, outcome_class cause, std::uint64_t request_id = 0);

  const circuit_breaker_options options_;
  const std::string name_;
  const duration slow_call_;
  const duration open_for_;
  const std::uint32_t calls_min_;  // calls_min, capped at window_size for count windows
  runtime& clock_;
  event_sink& events_;
  handler& next_;

  breaker_state state_ = breaker_state::closed;
  std::uint64_t epoch_ = 0;  // bumped on every transition
  breaker_window window_;
  timer_id open_timer_;
  // Half-open trial: probes admitted (running or completed), and what the completed ones showed.
  std::uint32_t probes_admitted_ = 0;
  std::uint32_t probes_completed_ = 0;
  std::uint32_t probe_failures_ = 0;
  std::uint32_t probes_slow_ = 0;
  object_pool<breaker_call> calls_;  // one per admitted call in flight, reused
};

class circuit_breaker_spec final : public policy_spec {
 public:
  explicit circuit_breaker_spec(const circuit_breaker_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "circuit_breaker"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  circuit_breaker_options options;
};

policy_registration circuit_breaker_registration();

}  // namespace squall
