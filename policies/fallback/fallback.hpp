#pragma once
// The fallback policy: a chain of endpoints (provider and model) tried in order. A call goes to the first
// endpoint that is available; when it fails with a class in fallback_on, the call moves on to the next
// available endpoint, until one answers or the chain is exhausted (the last failure is then delivered).
//
// Endpoint health is shared by all calls of the pipeline. An endpoint that failed failures_to_cooldown
// times in a row is put in cooldown for cooldown_ms and skipped. Once the cooldown has ended (checked when
// a call looks at the endpoint, so no timer runs while nothing happens) the endpoint admits probe_calls
// real calls as recovery probes: when they all succeed it is healthy again; a probe failure starts another
// cooldown. While its probes run, other calls skip it. As in the circuit breaker, each call remembers the
// health epoch it was admitted in, so a result that arrives after the endpoint changed state is ignored,
// and a cancelled probe gives its permit back.
//
// When every endpoint is unavailable, when_all_cooling decides: try the first endpoint anyway (its result
// does not count towards its health) or fail at once with the class of the most recent cooldown.
//
// Routing works by rewriting call->req.provider / call->req.model before the inner call starts; the
// request's own values are put back before the outcome is delivered (or the call is cancelled), so outer
// layers see the request as the caller made it. The outcome carries the provider and model that served
// it, as the transport reported them.
//
// With "breaker" (fallback_options::breaker), Portkey's per-target circuit breaker replaces the cooldown
// and probes above: the endpoints open when a call starts are skipped for that whole call, all of them
// are used when all are open, and no endpoint is ever refused for want of a probe permit.
//
// Placement: put the fallback OUTSIDE any hedging policy (and outside retries meant per endpoint). A
// hedging policy outside the fallback would run several fallback calls in parallel on one shared
// call_context, each rewriting the same request.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policies/core/object_pool.hpp"
#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/runtime.hpp"
#include "policies/core/target_breaker.hpp"
#include "policies/fallback/fallback_options.hpp"
#include "policies/pipeline/policy_spec.hpp"

namespace squall {

enum class endpoint_state : std::uint8_t { healthy, cooling, probing };

// How a call was let onto an endpoint; decides whether and how its result counts.
enum class endpoint_admission : std::uint8_t {
  none,    // unavailable: cooling down, or every probe permit is taken
  normal,  // a healthy endpoint: the result counts towards the consecutive failures
  probe,   // a recovery probe: the result decides recovery or another cooldown
  forced,  // every endpoint was unavailable and when_all_cooling is try_first: the result is not counted
};

class fallback_call;

class fallback_handler final : public handler {
 public:
  fallback_handler(const fallback_options& options, std::string name, const policy_environment& env, handler& next);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  const fallback_options& options() const noexcept { return options_; }
  // The health of endpoint `index` as last updated (a cooldown that has ended shows as cooling until a
  // call looks at the endpoint).
  endpoint_state state(std::size_t index) const noexcept { return health_[index].state; }

 private:
  friend class fallback_call;

  struct endpoint_health {
    endpoint_state state = endpoint_state::healthy;
    std::uint32_t consecutive_failures = 0;
    time_point cooling_until{};
    std::uint32_t probes_admitted = 0;   // running or succeeded
    std::uint32_t probes_succeeded = 0;
    std::uint64_t epoch = 0;             // bumped on every state change
  };

  // Lets a call onto endpoint `index` if it is available now (turning an ended cooldown into probing).
  endpoint_admission admit(std::size_t index);
  void record(std::size_t index, std::uint64_t epoch, endpoint_admission admission, const outcome& result,
              std::uint64_t request_id);
  void forget(std::size_t index, std::uint64_t epoch, endpoint_admission admission) noexcept;
  void cool(std::size_t index, outcome_class cause, std::uint64_t request_id);
  // With a breaker: the endpoints a starting call leaves out (none when every one is open), and an answer.
  std::uint32_t open_endpoints(std::uint64_t request_id);
  void record_breaker(std::size_t index, const outcome& result, std::uint64_t request_id);
  void emit(policy_event_kind kind, std::uint64_t request_id, outcome_class cause, std::uint64_t value,
            std::string_view detail);

  const fallback_options options_;
  const std::string name_;
  const duration cooldown_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  object_pool<fallback_call> calls_;  // one per call in flight, reused
  std::vector<endpoint_health> health_;  // one per endpoint, at most 16
  std::optional<target_breakers> breakers_;  // with "breaker": Portkey's health instead of health_
  outcome_class last_cooldown_cause_ = outcome_class::server_error;
};

class fallback_spec final : public policy_spec {
 public:
  explicit fallback_spec(const fallback_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "fallback"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  fallback_options options;
};

policy_registration fallback_registration();

}  // namespace squall
