#include "policies/cache/cache_options.hpp"

#include <optional>
#include <string>

namespace squall {
namespace {

std::string_view refuse_for_stale(outcome_class c) {
  if (c == outcome_class::ok) return "ok is a success: a stale answer never replaces it";
  return {};
}

}  // namespace

void read_cache_options(json_reader& reader, cache_options& options) {
  reader.count("entries_max", options.entries_max, 1, 10'000'000)
      .number("ttl_ms", options.ttl_ms, 1.0, 2'592'000'000.0);

  std::string match;
  reader.choice("match", match, {"exact", "semantic"});
  if (match == "exact") options.match = cache_match::exact;
  if (match == "semantic") options.match = cache_match::semantic;

  // Read as optionals to see whether they were written: in exact mode they would silently do nothing,
  // which usually means the user forgot "match": "semantic".
  std::optional<double> hit_ratio;
  std::optional<double> similarity_min;
  reader.number("similarity_hit_ratio", hit_ratio, 0.0, 1.0).number("similarity_min", similarity_min, 0.0, 1.0);
  if (hit_ratio) options.similarity_hit_ratio = *hit_ratio;
  if (similarity_min) options.similarity_min = *similarity_min;
  std::string_view semantic_key;  // the first semantic-only key written, if any
  for (std::string_view key : {"similarity_hit_ratio", "similarity_min", "embeddings_max", "embedder", "embedding_model",
                               "embedding_provider", "embedding_timeout_ms"}) {
    if (semantic_key.empty() && reader.child(key) != nullptr) semantic_key = key;
  }
  reader.count("embeddings_max", options.embeddings_max, 1, 65536);
  std::string embedder;
  reader.choice("embedder", embedder, {"provider", "lexical"});
  if (embedder == "lexical") options.embedder = cache_embedder::lexical;
  reader.string("embedding_model", options.embedding_model)
      .string("embedding_provider", options.embedding_provider)
      .number("embedding_timeout_ms", options.embedding_timeout_ms, 1.0, 60000.0);
  if (!reader.failed() && options.embedding_model.empty()) {
    reader.fail_key("embedding_model", "is empty; name the provider's embedding model (\"text-embedding-3-small\")");
  }
  if (!reader.failed() && options.match == cache_match::exact && !semantic_key.empty()) {
    reader.fail_key(semantic_key, "applies only when \"match\" is \"semantic\"; set \"match\": \"semantic\" or remove it");
  }

  reader.number("hit_latency_ms", options.hit_latency_ms, 0.0, 60000.0);
  read_outcome_class_set(reader, "serve_stale_on", options.serve_stale_on, refuse_for_stale);
  reader.number("stale_ms_max", options.stale_ms_max, 0.0, 2'592'000'000.0);
}

}  // namespace squall
