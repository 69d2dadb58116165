#pragma once
// One model group of the litellm_router policy: its deployments' state and LiteLLM Router's choice of a
// deployment for each attempt, by the group's routing_strategy, as LiteLLM's router_strategy/ files do it
// (docs/policies/litellm_router.md names the files read and every known difference):
//
//   simple-shuffle          weighted random among the healthy: by "weight"; when no deployment has one,
//                           by the first healthy deployment's rpm, else its tpm (a missing one weighs 0),
//                           else uniform.
//   least-busy              the fewest requests in flight, the minimum taken over every deployment seen
//                           so far, cooling ones included, in the order first seen (ties: the first); when
//                           that minimum is a cooling deployment, a uniform draw among the healthy.
//   latency-based-routing   the lowest average of a deployment's latest samples (seconds per output
//                           token of a success; 1000 for a timeout), at most 10 kept, the first 9 staying
//                           and the 10th replaced; a deployment with no sample averages 0. Deployments over
//                           rpm (successes this minute + 1 > rpm) or tpm are skipped. A uniform draw among
//                           those within lowest * (1 + lowest_latency_buffer).
//   usage-based-routing     the lowest tokens this minute, skipping a deployment when its tokens plus the
//                           request's input tokens would pass tpm, or when it has successes this minute
//                           and successes + 1 >= rpm; ties go to the first in LiteLLM's dict order.
//   usage-based-routing-v2  the lowest tokens this minute within tpm, ties drawn at random; rpm is not
//                           looked at there but before the call: the attempt that would pass rpm fails
//                           with a 429 (Retry-After 60 s) counted against the deployment.
//
// Every strategy first drops the cooling deployments; with none left, or none within its limits, there
// is no deployment (LiteLLM's "No deployments available"). Minutes are whole minutes of the runtime's
// clock, as LiteLLM keys its counters by the wall clock's "%H-%M".

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "policies/core/outcome.hpp"
#include "policies/core/rng.hpp"
#include "policies/core/time.hpp"
#include "policies/litellm_router/litellm_router_options.hpp"

namespace squall {

// A count that LiteLLM keeps in a cache entry with a time to live, renewed on every increment.
struct litellm_expiring_count {
  std::uint64_t value = 0;
  time_point expires{};
  std::uint64_t at(time_point now) const noexcept { return now < expires ? value : 0; }
  void add(time_point now, duration ttl) noexcept {
    value = at(now) + 1;
    expires = now + ttl;
  }
};

// What one deployment's counters hold this minute; older minutes read as zero.
struct litellm_minute_usage {
  std::int64_t minute = -1;
  std::uint64_t successes = 0;  // LiteLLM's rpm counters of successes
  std::uint64_t tokens = 0;     // total tokens of those successes
  std::uint64_t attempts = 0;   // usage-based-routing-v2's pre-call rpm counter
};

inline constexpr std::size_t litellm_latency_samples_max = 10;  // RoutingArgs.max_latency_list_size

struct litellm_deployment_state {
  // Cooldowns (litellm_router.cpp).
  time_point cooling_until{};
  bool cooled = false;  // cooling_until is meaningful
  litellm_expiring_count successes;
  litellm_expiring_count failures;
  litellm_expiring_count allowed_fails_count;  // the count rule's own counter

  // least-busy: requests sent and not yet answered.
  std::uint64_t in_flight = 0;
  bool seen = false;  // has a place in least_busy_order

  // latency-based-routing: whether the latency map has an entry for this deployment, and its samples.
  bool in_latency_map = false;
  std::array<double, litellm_latency_samples_max> latency_s{};
  std::size_t latency_count = 0;

  litellm_minute_usage usage;
};

// Why there is no deployment for an attempt.
enum class litellm_pick_status : std::uint8_t {
  picked,
  none_healthy,        // every deployment is cooling down
  none_within_limits,  // the strategy found every healthy deployment at its rpm/tpm limit
};

struct litellm_pick {
  litellm_pick_status status = litellm_pick_status::picked;
  std::size_t index = 0;
};

class litellm_group {
 public:
  // `deployments` and `options` must outlive the group.
  litellm_group(std::string name, const std::vector<litellm_deployment>& deployments,
                const litellm_router_options& options);

  const std::string& name() const noexcept { return name_; }
  const std::vector<litellm_deployment>& deployments() const noexcept { return deployments_; }
  std::size_t size() const noexcept { return deployments_.size(); }

  bool cooling(std::size_t index, time_point now) const noexcept;
  std::size_t healthy_count(time_point now) const noexcept;

  // Chooses the deployment for an attempt of a request of `input_tokens` estimated input tokens.
  litellm_pick pick(time_point now, std::uint32_t input_tokens, rng& random);

  // usage-based-routing-v2's pre-call check: counts the attempt against the deployment's rpm, or returns
  // false when the deployment has already taken rpm attempts this minute (nothing counted then).
  bool admit(std::size_t index, time_point now);

  // The attempt left for the deployment / came back with `result` after `took` / was abandoned.
  void attempt_started(std::size_t index);
  void attempt_ended(std::size_t index, time_point now, const outcome& result, duration took);
  void attempt_abandoned(std::size_t index);

  litellm_deployment_state& state(std::size_t index) noexcept { return state_[index]; }
  const litellm_deployment_state& state(std::size_t index) const noexcept { return state_[index]; }
  // The latency-based average the strategy would use for `index` now (0 without samples).
  double average_latency_s(std::size_t index, time_point now) const noexcept;
  // This minute's counters of `index`.
  litellm_minute_usage usage(std::size_t index, time_point now) const noexcept;

 private:
  litellm_pick pick_shuffle(time_point now, rng& random) const;
  litellm_pick pick_least_busy(time_point now, rng& random);
  litellm_pick pick_lowest_latency(time_point now, std::uint32_t input_tokens, rng& random);
  litellm_pick pick_lowest_usage(time_point now, std::uint32_t input_tokens);
  litellm_pick pick_lowest_usage_v2(time_point now, std::uint32_t input_tokens, rng& random) const;
  // A uniform draw among the healthy deployments (no draw for one).
  litellm_pick pick_uniform_healthy(time_point now, rng& random) const;
  bool latency_map_alive(time_point now) const noexcept { return latency_map_written_ && now < latency_map_expires_; }
  void forget_latency_map() noexcept;
  void add_latency_sample(std::size_t index, time_point now, double sample);
  litellm_minute_usage& usage_now(std::size_t index, time_point now);

  const std::string name_;
  const std::vector<litellm_deployment>& deployments_;
  const litellm_router_options& options_;
  std::vector<litellm_deployment_state> state_;  // one per deployment, at most 16
  // least-busy: LiteLLM's {model_group}_request_count dict, in insertion order.
  std::vector<std::size_t> least_busy_order_;
  // latency-based-routing: the {model_group}_map entry's time to live.
  bool latency_map_written_ = false;
  time_point latency_map_expires_{};
  // usage-based-routing: the minute's tpm dict, in insertion order (deployments by first success).
  std::int64_t usage_order_minute_ = -1;
  std::vector<std::size_t> usage_order_;
};

}  // namespace squall
