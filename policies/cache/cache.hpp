#pragma once
// The cache policy: answers a request from a stored earlier answer instead of calling the provider.
//
// Keys: request.cache_key (0 = not cacheable: the call passes straight through, unseen). In "semantic"
// mode a request also hits a fresh answer stored for a similar request:
//  - a request with prompt text (request.prompt): the stored prompt whose embedding is most similar, if
//    its cosine similarity is at least similarity_min. With embedder "provider" the embedding comes from
//    the environment's embedder (policies/core/embedder.hpp; the production client passes the provider's
//    embeddings endpoint), asked once per missed lookup and kept for the store; with "lexical" it is the
//    local hashing of policies/core/text_embedding.hpp. Embeddings are held for at most embeddings_max
//    stored prompts and compared one by one (a linear scan);
//  - a request without text (the simulation): one with the same non-zero request.semantic_cluster,
//    accepted with probability similarity_hit_ratio (the stand-in for an embedding's false negatives).
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
#include <vector>

#include "policies/cache/cache_options.hpp"
#include "policies/cache/lru_map.hpp"
#include "policies/core/object_pool.hpp"
#include "policies/core/call.hpp"
#include "policies/core/embedder.hpp"
#include "policies/core/events.hpp"
#include "policies/core/rng.hpp"
#include "policies/core/runtime.hpp"
#include "policies/core/text_embedding.hpp"
#include "policies/pipeline/policy_spec.hpp"

namespace squall {

class cache_call;

class cache_handler final : public handler {
 public:
  // `name` is what events carry. `env.seed` seeds the semantic acceptance draws.
  cache_handler(const cache_options& options, std::string name, const policy_environment& env, handler& next);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  const cache_options& options() const noexcept { return options_; }
  std::uint32_t entries() const noexcept { return entries_.size(); }
  void report_gauges(gauge_sink& sink) const override {
    sink.on_gauge(name_, "entries", entries_.size());
    sink.on_gauge(name_, "embeddings", static_cast<double>(text_nodes_.size()));
  }
  std::size_t embeddings() const noexcept { return text_nodes_.size(); }
  // Whether requests with prompt text ask the embedder (semantic mode, embedder "provider", and an
  // embedder in the environment). Without one (the simulation, the load generator) they are looked up as
  // requests without text.
  bool embeds() const noexcept { return embedder_ != nullptr; }

 private:
  friend class cache_call;

  struct entry {
    time_point stored_at{};
    std::uint32_t cluster = 0;  // 0 = none, or not indexed (exact mode)
    std::uint32_t input_tokens = 0;
    std::uint32_t output_tokens = 0;
    std::string_view provider;  // names live as long as the provider configuration
    std::string_view model;
    answer_ptr answer;  // what the provider said, when the call carried a payload: served byte-identical
    // The semantic index: entries of one cluster, most recently stored first.
    lru_map<entry>::slot cluster_prev = lru_map<entry>::none;
    lru_map<entry>::slot cluster_next = lru_map<entry>::none;
    std::uint32_t text = no_text;  // index of the prompt's embedding in text_nodes_, or no_text
  };
  using slot = lru_map<entry>::slot;
  static constexpr std::uint32_t no_text = UINT32_MAX;

  // A stored prompt's embedding and the entry it belongs to; `seq` orders them by store time. One of
  // `embedding` (lexical) and `vector` (provider, L2-normalised) is used, by the policy's embedder.
  struct text_node {
    text_embedding embedding;
    std::vector<float> vector;
    slot owner = lru_map<entry>::none;
    std::uint64_t seq = 0;
  };

  // How an entry was found: `semantic` for a similar request's answer, with the prompts' similarity in
  // millionths when text embeddings decided (0 for a semantic_cluster match).
  struct match_kind {
    bool semantic = false;
    std::uint64_t similarity_ppm = 0;
  };

  // The entry that may answer `req` if stored within `age_max` of now, or none. Exact key first; then, in
  // semantic mode, the most similar stored prompt (a request with text) or the newest entry of the
  // request's cluster, accepted by a draw (a request without).
  // `vector`: the request's prompt embedding from the embedder (normalised), when it has one.
  slot lookup(const request& req, time_point now, duration age_max, match_kind& how,
              const std::vector<float>& vector = {});
  // The entry under req.cache_key if it is fresh; an entry past even the stale window is dropped.
  slot fresh_exact(const request& req, time_point now);
  slot nearest_prompt(time_point now, duration age_max, match_kind& how) const;
  slot nearest_vector(const std::vector<float>& probe, time_point now, duration age_max, match_kind& how) const;
  void store(const request& req, const outcome& answer, time_point now, std::vector<float>&& vector = {});
  void evict(slot s);
  void link_cluster(slot s);
  void unlink_cluster(slot s);
  void index_text(slot s, std::string_view prompt);
  void index_vector(slot s, std::vector<float>&& vector);
  text_node& text_node_for(slot s);
  void unlink_text(slot s);
  outcome answer_from(const entry& e) const;
  void emit(policy_event_kind kind, std::uint64_t request_id, duration delay, outcome_class cause,
            std::string_view detail, std::uint64_t value = 0);

  const cache_options options_;
  const std::string name_;
  const duration ttl_;
  const duration stale_max_;
  const duration hit_latency_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  object_pool<cache_call> calls_;  // one per call in flight, reused
  // Semantic mode with embedder "provider": the environment's own embedder, or one of the provider's
  // embeddings endpoint owned here; else null.
  std::unique_ptr<embedder> own_embedder_;
  embedder* embedder_ = nullptr;
  const duration embedding_timeout_;
  rng random_;
  lru_map<entry> entries_;
  std::unordered_map<std::uint32_t, slot> cluster_heads_;  // at most one per entry: bounded by entries_max
  // Embeddings of stored prompts, unordered (removal swaps the last node in); at most text_capacity_.
  std::vector<text_node> text_nodes_;
  const std::uint32_t text_capacity_;
  std::uint64_t text_seq_ = 0;
  text_embedding probe_;  // the embedding of the prompt being looked up or stored, reused
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
