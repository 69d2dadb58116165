#pragma once
// The router policy: model routing and tiering. Each call is sent to a target (a model, optionally on
// another provider) chosen by its request class (request.complexity: 0 simple, 1 moderate, 2 complex,
// 3 critical; larger values count as critical):
//
//  - "routes": the class's route, or the next higher class that has one. The lower classes' routes are not
//    used for a class: a complex request is never sent to the cheap model.
//  - "candidates": a preference list per class, computed once when the handler is built. First the
//    candidates whose quality is at least quality_min[class], best first by the priority:
//      cost      lowest usd_per_mtok_out, then higher quality;
//      speed     highest speed, then lower usd_per_mtok_out;
//      quality   highest quality, then lower usd_per_mtok_out;
//      balanced  highest (q/q_max + s/s_max + 1 - c/c_max) / 3, with q, s, c the candidate's quality, speed
//                and usd_per_mtok_out and the maxima over all candidates (a term whose maximum is 0 is 0);
//    then the others, by quality, highest first (a more capable model before none). Remaining ties keep
//    the order of the list.
//
// The call goes to the first target in the class's list that is healthy. When none is, the call goes to
// the request's own provider and model, unchanged.
//
// Health: every routed answer is recorded for its target in a ring of the last health_window answers
// (failure = a class in failure_on, success = an ok answer from the provider; others are not recorded).
// Once the ring holds health_answers_min answers and the failure share is strictly above
// unhealthy_failure_rate, the target is unhealthy and skipped. After recheck_ms the next call that would
// pick it probes it (one probe at a time, others skip it meanwhile): a success makes it healthy with an
// empty ring, a failure skips it for another recheck_ms. A result from a call admitted before the target
// changed state is ignored, and a cancelled or uninformative probe lets the next call probe.
//
// Routing rewrites call->req.provider / call->req.model while the inner call runs and puts the request's
// own values back before delivering (or when cancelled), so outer layers see the request as the caller
// made it. A call left on the request's own model passes straight through, with no per-call object.
//
// Placement: put the router OUTSIDE any hedging policy, whose parallel attempts share one call_context.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/runtime.hpp"
#include "policies/pipeline/policy_spec.hpp"
#include "policies/router/router_options.hpp"

namespace squall {

enum class target_health : std::uint8_t { healthy, unhealthy, probing };

class router_handler final : public handler {
 public:
  router_handler(const router_options& options, std::string name, const policy_environment& env, handler& next);
  router_handler(const router_handler&) = delete;  // targets_ points into options_
  router_handler& operator=(const router_handler&) = delete;

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  const router_options& options() const noexcept { return options_; }
  // The targets (distinct routes, or the candidates in their listed order) and each class's preference
  // list of target indices, as computed at construction.
  std::size_t targets() const noexcept { return targets_.size(); }
  const router_target& target(std::size_t index) const noexcept { return *targets_[index].target; }
  const std::vector<std::uint8_t>& preference(std::size_t request_class) const noexcept {
    return preference_[request_class];
  }
  target_health health(std::size_t index) const noexcept { return targets_[index].state; }

 private:
  friend class router_call;

  struct target_state {
    const router_target* target = nullptr;  // points into options_
    target_health state = target_health::healthy;
    std::vector<std::uint8_t> ring;          // 1 = failure, 0 = success; health_window slots
    std::uint32_t next = 0;
    std::uint32_t filled = 0;
    std::uint32_t failures = 0;
    time_point recheck_at{};
    std::uint64_t epoch = 0;                 // bumped on every state change
  };

  void build_routes();
  void build_candidates();
  enum class admission : std::uint8_t { none, normal, probe };
  // Lets a call onto target `index` now, turning a due recheck into a probe.
  admission admit(std::size_t index);
  void record(std::size_t index, std::uint64_t epoch, bool probe, const outcome& result, std::uint64_t request_id);
  void forget(std::size_t index, std::uint64_t epoch, bool probe) noexcept;
  void mark_unhealthy(target_state& t, outcome_class cause, std::uint64_t request_id);
  void clear_ring(target_state& t) noexcept;
  void emit(policy_event_kind kind, std::uint64_t request_id, outcome_class cause, std::uint64_t value,
            std::string_view detail);

  const router_options options_;
  const std::string name_;
  const duration recheck_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  std::vector<target_state> targets_;                                // at most 16
  std::array<std::vector<std::uint8_t>, request_class_count> preference_;
};

class router_spec final : public policy_spec {
 public:
  explicit router_spec(const router_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "router"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  router_options options;
};

policy_registration router_registration();

}  // namespace squall
