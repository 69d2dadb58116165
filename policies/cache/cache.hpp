#pragma once
// The cache policy: answers a request from a stored earlier answer instead of calling the provider.
//
// Keys: request.cache_key (0 = not cacheable: the call passes straight through, unseen). In "semantic"
// mode a request also hits a fresh answer stored for a similar request: in the simulation, one with the
// same non-zero request.semantic_cluster, accepted with probability similarity_hit_ratio (the stand-in
// for an embedding's false negatives); live mode will compare deterministic text embeddings against
// similarity_min instead.
//
// Only ok answers (not degraded) are stored: tokens, model and provider. A hit is answered after
// hit_latency_ms through a timer (never from inside start()) with outcome ok, from_cache = true and
// cost_usd = 0. Storage is bounded by entries_max with least-recently-used eviction, O(1) per call
// (lru_map: an intrusive list plus a hash index). An entry is fresh for ttl_ms; after that it is kept
// for stale_ms_max more, only to replace a failure whose class is in serve_stale_on.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "policies/cache/cache_options.hpp"
#include "policies/cache/lru_map.hpp"
#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/rng.hpp"
#include "policies/core/runtime.hpp"
#include "policies/pipeline/policy_spec.hpp"

namespace squall {

class cache_handler final : public handler {
 public:
  // `name` is what events carry. `env.seed` seeds the semantic acceptance draws.
  cache_handler(const cache_options& options, std::string name, const policy_environment& env, handler& next);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  const cache_options& options() const noexcept { return options_; }
  std::uint32_t entries() const noexcept { return entries_.size(); }

 private:
  friend class cache_call;

  struct entry {
    time_point stored_at{};
    std::uint32_t cluster = 0;  // 0 = none, or not indexed (exact mode)
    std::uint32_t input_tokens = 0;
    std::uint32_t output_tokens = 0;
    std::string_view provider;  // names live as long as the provider configuration
    std::string_view model;
    // The semantic index: entries of one cluster, most recently stored first.
    lru_map<entry>::slot cluster_prev = lru_map<entry>::none;
    lru_map<entry>::slot cluster_next = lru_map<entry>::none;
  };
  using slot = lru_map<entry>::slot;

  // The entry that may answer `req` if stored within `age_max` of now, or none. Exact key first;
  // then, in semantic mode, the newest entry of the request's cluster, accepted by a draw.
  slot lookup(const request& req, time_point now, duration age_max, bool& semantic);
  void store(const request& req, const outcome& answer, time_point now);
  void evict(slot s);
  void link_cluster(slot s);
  void unlink_cluster(slot s);
  outcome answer_from(const entry& e) const;
  void emit(policy_event_kind kind, std::uint64_t request_id, duration delay, outcome_class cause,
            std::string_view detail);

  const cache_options options_;
  const std::string name_;
  const duration ttl_;
  const duration stale_max_;
  const duration hit_latency_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  rng random_;
  lru_map<entry> entries_;
  std::unordered_map<std::uint32_t, slot> cluster_heads_;  // at most one per entry: bounded by entries_max
};

class cache_spec final : public policy_spec {
 public:
  explicit cache_spec(const cache_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "cache"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  cache_options options;
};

policy_registration cache_registration();

}  // namespace squall
