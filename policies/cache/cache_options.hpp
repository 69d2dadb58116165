#pragma once
// Options of the cache policy (type "cache"). Each member is one JSON key of the policy file, with the
// same name; the member initialisers are the defaults.
//
//   { "type": "cache", "entries_max": 50000, "ttl_ms": 600000, "match": "semantic",
//     "similarity_hit_ratio": 0.85, "serve_stale_on": ["overloaded", "server_error"] }

#include <cstdint>

#include "policies/core/json_reader.hpp"
#include "policies/core/outcome_class_set.hpp"

namespace squall {

// How a request finds a stored answer.
enum class cache_match : std::uint8_t { exact, semantic };

struct cache_options {
  // The most answers held; beyond it the least recently used one is evicted. From 1 to 10000000.
  // The default is 10000 entries.
  std::uint32_t entries_max = 10000;

  // How long a stored answer is fresh, in milliseconds. From 1 to 2592000000 (30 days).
  // The default is 3600000 ms (one hour).
  double ttl_ms = 3600000.0;

  // "exact": only the same request.cache_key hits. "semantic": a request also hits a fresh answer to a
  // similar request: for a request with prompt text, one whose text embedding is at least similarity_min
  // alike; for one without (the simulation), one with the same non-zero request.semantic_cluster.
  // The default is "exact".
  cache_match match = cache_match::exact;

  // Semantic mode, requests without prompt text (the simulation): the probability that an answer of the
  // same semantic_cluster is accepted, which models an embedding's false negatives. Drawn from the policy's random stream. From 0 to 1.
  // The default is 0.9.
  double similarity_hit_ratio = 0.9;

  // Semantic mode, requests with prompt text: the cosine similarity of the prompts' text embeddings
  // (policies/core/text_embedding.hpp) from which a stored answer counts as similar. From 0 to 1.
  // The default is 0.92.
  double similarity_min = 0.92;

  // Semantic mode, requests with prompt text: the most prompt embeddings held (1 KiB each), and so the
  // most compared, one by one, per lookup. Beyond it the oldest-stored prompt loses its embedding (its
  // answer stays for exact hits). Never more than entries_max are held. From 1 to 65536.
  // The default is 1024 embeddings.
  std::uint32_t embeddings_max = 1024;

  // How long a hit takes to answer, in milliseconds (a local lookup, or a round trip to a shared cache).
  // From 0 to 60000. The default is 5 ms.
  double hit_latency_ms = 5.0;

  // The failure classes on which an expired (stale) answer replaces the failure. ok may not be listed.
  // The default is empty: never serve stale.
  outcome_class_set serve_stale_on{};

  // How long after it expires an answer is kept for serve_stale_on, in milliseconds. From 0 to
  // 2592000000 (30 days). The default is 86400000 ms (one day).
  double stale_ms_max = 86400000.0;
};

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_cache_options(json_reader& reader, cache_options& options);

}  // namespace squall
