#include "policies/cache/cache.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "policies/cache/provider_embedder.hpp"
#include "policies/core/deferred_answer.hpp"

namespace squall {
namespace {

constexpr std::string_view exact_detail = "exact";
constexpr std::string_view semantic_detail = "semantic";

}  // namespace

// A lookup that did not hit at once. With an embedder it first waits for the prompt's embedding (at most
// embedding_timeout_ms), which may still find a similar stored answer; then (a miss) the call goes on to
// the next stage; an ok answer is stored, with the embedding, and a failure in serve_stale_on may be
// replaced by a stale entry. Frees itself when it delivers or is cancelled.
class cache_call final : public operation, public outcome_receiver, public embedding_receiver, public timer_target {
 public:
  cache_call(cache_handler& owner, const call_scope& scope, outcome_receiver& receiver)
      : owner_(owner), scope_(scope), receiver_(receiver), started_at_(owner.clock_.now()) {}

  void begin() { inner_ = &owner_.next_.start(scope_, *this); }

  void embed_first() {
    timer_ = owner_.clock_.start_timer(owner_.embedding_timeout_, *this, 0);
    embedding_ = &owner_.embedder_->embed(scope_.call->req.prompt(), *this);
  }

  void cancel() noexcept override {
    if (embedding_ != nullptr) {
      embedding_->cancel();
      owner_.clock_.cancel_timer(timer_);
    } else {
      inner_->cancel();
    }
    owner_.calls_.destroy(this);
  }

  void on_timer(std::uint32_t /*cookie*/) override {
    embedding_->cancel();
    embedding_ = nullptr;
    owner_.emit(policy_event_kind::cache_miss, scope_.call->req.id, owner_.clock_.now() - started_at_,
                outcome_class::ok, "embedding_timeout");
    begin();
  }

  void on_embedding(std::vector<float>&& vector, std::string_view /*error*/) override {
    embedding_ = nullptr;
    owner_.clock_.cancel_timer(timer_);
    const request& req = scope_.call->req;
    const time_point now = owner_.clock_.now();
    if (!normalise(vector)) {
      owner_.emit(policy_event_kind::cache_miss, req.id, now - started_at_, outcome_class::ok, "embedding_failed");
      begin();
      return;
    }
    vector_ = std::move(vector);
    cache_handler::match_kind how;
    const auto s = owner_.lookup(req, now, owner_.ttl_, how, vector_);
    if (s == lru_map<cache_handler::entry>::none) {
      owner_.emit(policy_event_kind::cache_miss, req.id, now - started_at_, outcome_class::ok, {});
      begin();
      return;
    }
    owner_.entries_.touch(s);
    owner_.emit(policy_event_kind::cache_hit, req.id, duration{}, outcome_class::ok,
                how.semantic ? semantic_detail : exact_detail, how.similarity_ppm);
    outcome answer = owner_.answer_from(owner_.entries_.at(s));
    answer.latency = now - started_at_;
    answer.time_to_first_token = answer.latency;
    outcome_receiver& receiver = receiver_;
    owner_.calls_.destroy(this);
    receiver.on_outcome(std::move(answer));
  }

  void on_outcome(outcome&& result) override {
    const time_point now = owner_.clock_.now();
    const request& req = scope_.call->req;
    if (result.ok()) {
      owner_.store(req, result, now, std::move(vector_));
    } else if (owner_.options_.serve_stale_on.contains(result.kind)) {
      cache_handler::match_kind how;
      const auto s = owner_.lookup(req, now, owner_.ttl_ + owner_.stale_max_, how, vector_);
      if (s != lru_map<cache_handler::entry>::none) {
        const cache_handler::entry& e = owner_.entries_.at(s);
        // How far past its freshness the answer was; negative cannot happen on this path since a fresh
        // entry would have hit, except for an answer stored by a concurrent call meanwhile.
        const duration stale_by = now - (e.stored_at + owner_.ttl_);
        owner_.emit(policy_event_kind::cache_stale_served, req.id, stale_by > duration{} ? stale_by : duration{},
                    result.kind, how.semantic ? semantic_detail : exact_detail, how.similarity_ppm);
        outcome stale = owner_.answer_from(e);
        stale.latency = now - started_at_;
        stale.time_to_first_token = stale.latency;
        result = std::move(stale);
      }
    }
    outcome_receiver& receiver = receiver_;
    owner_.calls_.destroy(this);
    receiver.on_outcome(std::move(result));
  }

 private:
  // Scales `v` to unit length; false when it has no direction (empty, all zeros, or not finite).
  static bool normalise(std::vector<float>& v) {
    double norm_sq = 0.0;
    for (float x : v) norm_sq += static_cast<double>(x) * static_cast<double>(x);
    if (!(norm_sq > 0.0) || !std::isfinite(norm_sq)) return false;
    const double scale = 1.0 / std::sqrt(norm_sq);
    for (float& x : v) x = static_cast<float>(static_cast<double>(x) * scale);
    return true;
  }

  cache_handler& owner_;
  const call_scope scope_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
  operation* embedding_ = nullptr;  // while the prompt's embedding is awaited
  timer_id timer_;
  std::vector<float> vector_;  // the prompt's embedding, normalised; empty when it has none
  time_point started_at_;
};

cache_handler::cache_handler(const cache_options& options, std::string name, const policy_environment& env,
                             handler& next)
    : options_(options),
      name_(std::move(name)),
      ttl_(from_ms(options.ttl_ms)),
      stale_max_(from_ms(options.stale_ms_max)),
      hit_latency_(from_ms(options.hit_latency_ms)),
      clock_(env.clock),
      events_(env.events),
      next_(next),
      embedding_timeout_(from_ms(options.embedding_timeout_ms)),
      random_(env.seed),
      entries_(options.entries_max),
      text_capacity_(std::min(options.embeddings_max, options.entries_max)) {
  if (options.match != cache_match::semantic || options.embedder != cache_embedder::provider) return;
  if (env.embeddings.custom != nullptr) {
    embedder_ = env.embeddings.custom;
  } else if (env.embeddings.transport != nullptr) {
    own_embedder_ = std::make_unique<provider_embedder>(
        *env.embeddings.transport, provider_embedder_options{.model = options.embedding_model,
                                                             .provider = options.embedding_provider});
    embedder_ = own_embedder_.get();
  }
}

operation& cache_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  const request& req = scope.call->req;
  if (req.cache_key == 0) return next_.start(scope, receiver);

  // A prompt to embed: only the exact key is looked up now; the embedding decides the rest.
  const bool embed = embedder_ != nullptr && !req.prompt().empty();
  match_kind how;
  const slot s = embed ? fresh_exact(req, clock_.now()) : lookup(req, clock_.now(), ttl_, how);
  if (s != lru_map<entry>::none) {
    entries_.touch(s);
    emit(policy_event_kind::cache_hit, req.id, duration{}, outcome_class::ok,
         how.semantic ? semantic_detail : exact_detail, how.similarity_ppm);
    outcome answer = answer_from(entries_.at(s));
    answer.latency = hit_latency_;
    answer.time_to_first_token = hit_latency_;
    return deferred_answer::start(clock_, std::move(answer), hit_latency_, receiver);
  }
  cache_call* call = calls_.make(*this, scope, receiver);
  if (embed) {
    call->embed_first();
  } else {
    emit(policy_event_kind::cache_miss, req.id, duration{}, outcome_class::ok, {});
    call->begin();
  }
  return *call;
}

cache_handler::slot cache_handler::fresh_exact(const request& req, time_point now) {
  const slot exact = entries_.find(req.cache_key);
  if (exact == lru_map<entry>::none) return exact;
  if (now - entries_.at(exact).stored_at < ttl_) return exact;
  if (now - entries_.at(exact).stored_at >= ttl_ + stale_max_) evict(exact);
  return lru_map<entry>::none;
}

cache_handler::slot cache_handler::lookup(const request& req, time_point now, duration age_max, match_kind& how,
                                          const std::vector<float>& vector) {
  how = {};
  const slot exact = entries_.find(req.cache_key);
  if (exact != lru_map<entry>::none) {
    const entry& e = entries_.at(exact);
    if (now - e.stored_at < age_max) return exact;
    // Past even the stale window: nothing will ever use it again.
    if (now - e.stored_at >= ttl_ + stale_max_) evict(exact);
  }
  if (options_.match != cache_match::semantic) return lru_map<entry>::none;
  if (!vector.empty()) return nearest_vector(vector, now, age_max, how);
  // A prompt the embedder could not embed (it failed or was too slow) is compared with nothing: a service's
  // requests have no cluster.
  if (embedder_ != nullptr && !req.prompt().empty()) return lru_map<entry>::none;
  if (options_.embedder == cache_embedder::lexical && !req.prompt().empty()) {
    embed_text(req.prompt(), probe_);
    // A prompt without a letter or digit says nothing about its meaning: the request is treated as one
    // without text.
    if (!probe_.empty()) return nearest_prompt(now, age_max, how);
  }
  if (req.semantic_cluster == 0) return lru_map<entry>::none;
  const auto head = cluster_heads_.find(req.semantic_cluster);
  if (head == cluster_heads_.end()) return lru_map<entry>::none;
  // The head is the cluster's newest answer: if it is too old, so are all the others.
  const slot candidate = head->second;
  if (candidate == exact || now - entries_.at(candidate).stored_at >= age_max) return lru_map<entry>::none;
  if (random_.uniform() >= options_.similarity_hit_ratio) return lru_map<entry>::none;
  how.semantic = true;
  return candidate;
}

cache_handler::slot cache_handler::nearest_prompt(time_point now, duration age_max, match_kind& how) const {
  // A linear scan over at most embeddings_max nodes. The most similar young-enough prompt wins; equal
  // similarities go to the most recently stored, so that the answer does not depend on node order.
  slot best = lru_map<entry>::none;
  double best_similarity = 0.0;
  std::uint64_t best_seq = 0;
  for (const text_node& node : text_nodes_) {
    if (now - entries_.at(node.owner).stored_at >= age_max) continue;
    const double similarity = cosine_similarity(probe_, node.embedding);
    if (similarity < options_.similarity_min) continue;
    if (best == lru_map<entry>::none || similarity > best_similarity ||
        (similarity == best_similarity && node.seq > best_seq)) {
      best = node.owner;
      best_similarity = similarity;
      best_seq = node.seq;
    }
  }
  if (best != lru_map<entry>::none) {
    how.semantic = true;
    how.similarity_ppm = static_cast<std::uint64_t>(std::llround(std::max(best_similarity, 0.0) * 1e6));
  }
  return best;
}

cache_handler::slot cache_handler::nearest_vector(const std::vector<float>& probe, time_point now, duration age_max,
                                                  match_kind& how) const {
  // As nearest_prompt, over the embedder's vectors. Vectors of another length (the embedding model
  // changed) are not comparable and are skipped. The sums run in one fixed order in double precision, so
  // the same vectors give the same similarity on every run.
  slot best = lru_map<entry>::none;
  double best_similarity = 0.0;
  std::uint64_t best_seq = 0;
  for (const text_node& node : text_nodes_) {
    if (node.vector.size() != probe.size()) continue;
    if (now - entries_.at(node.owner).stored_at >= age_max) continue;
    double similarity = 0.0;
    for (std::size_t i = 0; i < probe.size(); ++i) {
      similarity += static_cast<double>(probe[i]) * static_cast<double>(node.vector[i]);
    }
    if (similarity < options_.similarity_min) continue;
    if (best == lru_map<entry>::none || similarity > best_similarity ||
        (similarity == best_similarity && node.seq > best_seq)) {
      best = node.owner;
      best_similarity = similarity;
      best_seq = node.seq;
    }
  }
  if (best != lru_map<entry>::none) {
    how.semantic = true;
    how.similarity_ppm = static_cast<std::uint64_t>(std::llround(std::clamp(best_similarity, 0.0, 1.0) * 1e6));
  }
  return best;
}

void cache_handler::store(const request& req, const outcome& answer, time_point now, std::vector<float>&& vector) {
  slot s = entries_.find(req.cache_key);
  if (s == lru_map<entry>::none) {
    if (entries_.full()) evict(entries_.oldest());
    s = entries_.insert(req.cache_key, entry{});
  } else {
    unlink_cluster(s);
    entries_.touch(s);
  }
  entry& e = entries_.at(s);
  e.stored_at = now;
  e.input_tokens = answer.input_tokens;
  e.output_tokens = answer.output_tokens;
  e.provider = answer.provider;
  e.model = answer.model;
  e.answer = answer.answer;
  e.cluster = options_.match == cache_match::semantic ? req.semantic_cluster : 0;
  link_cluster(s);
  if (!vector.empty()) {
    index_vector(s, std::move(vector));
  } else if (options_.match == cache_match::semantic && options_.embedder == cache_embedder::lexical &&
             !req.prompt().empty()) {
    index_text(s, req.prompt());
  } else {
    unlink_text(s);
  }
}

void cache_handler::evict(slot s) {
  unlink_cluster(s);
  unlink_text(s);
  entries_.erase(s);
}

void cache_handler::index_text(slot s, std::string_view prompt) {
  embed_text(prompt, probe_);
  if (probe_.empty()) {
    unlink_text(s);
    return;
  }
  text_node& node = text_node_for(s);
  node.embedding = probe_;
}

void cache_handler::index_vector(slot s, std::vector<float>&& vector) {
  text_node& node = text_node_for(s);
  node.vector = std::move(vector);
}

cache_handler::text_node& cache_handler::text_node_for(slot s) {
  std::uint32_t i = entries_.at(s).text;
  if (i == no_text) {
    if (text_nodes_.size() < text_capacity_) {
      i = static_cast<std::uint32_t>(text_nodes_.size());
      text_nodes_.emplace_back();
    } else {
      // Full: the oldest-stored prompt gives up its node (its answer stays for exact hits). With one ttl
      // for every entry, it is also the first to expire.
      i = 0;
      for (std::uint32_t k = 1; k < text_nodes_.size(); ++k) {
        if (text_nodes_[k].seq < text_nodes_[i].seq) i = k;
      }
      entries_.at(text_nodes_[i].owner).text = no_text;
    }
    entries_.at(s).text = i;
  }
  text_node& node = text_nodes_[i];
  node.owner = s;
  node.seq = ++text_seq_;
  return node;
}

void cache_handler::unlink_text(slot s) {
  entry& e = entries_.at(s);
  if (e.text == no_text) return;
  const std::uint32_t last = static_cast<std::uint32_t>(text_nodes_.size() - 1);
  if (e.text != last) {
    text_nodes_[e.text] = std::move(text_nodes_[last]);
    entries_.at(text_nodes_[e.text].owner).text = e.text;
  }
  text_nodes_.pop_back();
  e.text = no_text;
}

void cache_handler::link_cluster(slot s) {
  entry& e = entries_.at(s);
  if (e.cluster == 0) return;
  auto [it, inserted] = cluster_heads_.try_emplace(e.cluster, s);
  e.cluster_prev = lru_map<entry>::none;
  e.cluster_next = inserted ? lru_map<entry>::none : it->second;
  if (!inserted) {
    entries_.at(it->second).cluster_prev = s;
    it->second = s;
  }
}

void cache_handler::unlink_cluster(slot s) {
  entry& e = entries_.at(s);
  if (e.cluster == 0) return;
  if (e.cluster_next != lru_map<entry>::none) entries_.at(e.cluster_next).cluster_prev = e.cluster_prev;
  if (e.cluster_prev != lru_map<entry>::none) {
    entries_.at(e.cluster_prev).cluster_next = e.cluster_next;
  } else if (e.cluster_next != lru_map<entry>::none) {
    cluster_heads_[e.cluster] = e.cluster_next;
  } else {
    cluster_heads_.erase(e.cluster);
  }
  e.cluster_prev = lru_map<entry>::none;
  e.cluster_next = lru_map<entry>::none;
  e.cluster = 0;
}

outcome cache_handler::answer_from(const entry& e) const {
  outcome o;
  o.kind = outcome_class::ok;
  o.http_status = 200;
  o.input_tokens = e.input_tokens;
  o.output_tokens = e.output_tokens;
  o.cost_usd = 0.0;
  o.provider = e.provider;
  o.model = e.model;
  o.answer = e.answer;
  o.decided_by = name_;
  o.from_cache = true;
  return o;
}

void cache_handler::emit(policy_event_kind kind, std::uint64_t request_id, duration delay, outcome_class cause,
                         std::string_view detail, std::uint64_t value) {
  events_.on_policy_event(policy_event{kind, name_, clock_.now(), request_id, delay, cause, value, detail});
}

std::unique_ptr<handler> cache_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<cache_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_cache(json_reader& reader) {
  cache_options options;
  read_cache_options(reader, options);
  return std::make_unique<cache_spec>(options);
}

}  // namespace

policy_registration cache_registration() {
  return policy_registration{"cache", &parse_cache,
                             "answers repeated (or, in semantic mode, similar) requests from stored ok answers"};
}

}  // namespace squall
