#pragma once
// Options of the cache policy (type "cache"). Each member is one JSON key of the policy file, with the
// same name; the member initialisers are the defaults.
//
//   { "type": "cache", "entries_max": 50000, "ttl_ms": 600000, "match": "semantic",
//     "similarity_hit_ratio": 0.85, "serve_stale_on": ["overloaded", "server_error"] }

#include <cstdint>
#include <string>

#include "policies/core/json_reader.hpp"
#include "policies/core/outcome_class_set.hpp"

namespace squall {

// How a request finds a stored answer.
enum class cache_match : std::uint8_t { exact, semantic };

// Semantic mode, requests with prompt text: what the prompts' embeddings come from.
//  provider: the provider's embeddings endpoint (or the embedder the service plugged in): meaning, as far
//            as the embedding model captures it;
//  lexical:  squall's local word-and-trigram hashing (policies/core/text_embedding.hpp): rewordings and
//            small edits, never meaning ("with alcohol" and "without alcohol" are alike).
enum class cache_embedder : std::uint8_t { provider, lexical };

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

  // Semantic mode, requests with prompt text: the cosine similarity of the prompts' embeddings from which
  // a stored answer counts as similar. From 0 to 1. Calibrate it for the embedding model: real models put
  // unrelated English sentences well above 0. The default is 0.92.
  double similarity_min = 0.92;

  // Semantic mode, requests with prompt text: the most prompt embeddings held (provider: 4 bytes per
  // dimension, 6 KiB for 1,536; lexical: 1 KiB), and so the most compared, one by one, per lookup. Beyond
  // it the oldest-stored prompt loses its embedding (its answer stays for exact hits). Never more than
  // entries_max are held. From 1 to 65536. The default is 1024 embeddings.
  std::uint32_t embeddings_max = 1024;

  // Semantic mode, requests with prompt text: where embeddings come from (see cache_embedder). The
  // default is "provider".
  cache_embedder embedder = cache_embedder::provider;

  // embedder "provider": the embedding model, the endpoint (empty: the transport's default) and how long a
  // lookup waits for its embedding before it goes on as a miss, in ms (from 1 to 60000). The defaults are
  // "text-embedding-3-small", "" and 2000 ms.
  std::string embedding_model = "text-embedding-3-small";
  std::string embedding_provider;
  double embedding_timeout_ms = 2000.0;

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
