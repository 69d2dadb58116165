// Reading cache options from JSON: every key, its range, and the cross-field checks.

#include "policies/cache/cache_options.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_cache(const char* text, cache_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[0]");
  read_cache_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_cache(const char* text) {
  cache_options o;
  return read_cache(text, o);
}

TEST(cache_options, defaults_are_the_documented_ones) {
  cache_options o;
  ASSERT_FALSE(read_cache("{}", o));
  EXPECT_EQ(o.entries_max, 10000U);
  EXPECT_EQ(o.ttl_ms, 3600000.0);
  EXPECT_EQ(o.match, cache_match::exact);
  EXPECT_EQ(o.similarity_hit_ratio, 0.9);
  EXPECT_EQ(o.similarity_min, 0.92);
  EXPECT_EQ(o.embeddings_max, 1024U);
  EXPECT_EQ(o.hit_latency_ms, 5.0);
  EXPECT_TRUE(o.serve_stale_on.empty());
  EXPECT_EQ(o.stale_ms_max, 86400000.0);
  EXPECT_EQ(o.embedder, cache_embedder::provider);
  EXPECT_EQ(o.embedding_model, "text-embedding-3-small");
  EXPECT_EQ(o.embedding_provider, "");
  EXPECT_EQ(o.embedding_timeout_ms, 2000.0);
}

TEST(cache_options, reads_the_embedder_keys_and_checks_them) {
  cache_options o;
  ASSERT_FALSE(read_cache(R"({"match": "semantic", "embedder": "lexical", "embedding_model": "voyage-3",
                        "embedding_provider": "voyage", "embedding_timeout_ms": 250})",
                    o));
  EXPECT_EQ(o.embedder, cache_embedder::lexical);
  EXPECT_EQ(o.embedding_model, "voyage-3");
  EXPECT_EQ(o.embedding_provider, "voyage");
  EXPECT_EQ(o.embedding_timeout_ms, 250.0);
  auto e = read_cache(R"({"match": "semantic", "embedder": "bert"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].embedder");
  EXPECT_NE(e->message.find("\"lexical\""), std::string::npos) << e->message;
  e = read_cache(R"({"match": "semantic", "embedding_timeout_ms": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].embedding_timeout_ms");
  e = read_cache(R"({"match": "semantic", "embedding_model": ""})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].embedding_model");
  for (const char* key : {"embedder", "embedding_model", "embedding_provider"}) {
    const std::string text = std::string(R"({")") + key + R"(": "lexical"})";
    e = read_cache(text.c_str());
    ASSERT_TRUE(e) << key;
    EXPECT_EQ(e->path, std::string("$.policies[0].") + key);
    EXPECT_NE(e->message.find("applies only when"), std::string::npos) << e->message;
  }
}

TEST(cache_options, reads_every_key) {
  cache_options o;
  ASSERT_FALSE(read_cache(R"({"entries_max": 7, "ttl_ms": 1000, "match": "semantic", "similarity_hit_ratio": 0.5,
                        "similarity_min": 0.8, "embeddings_max": 3, "hit_latency_ms": 0, "serve_stale_on": ["overloaded", "timeout"],
                        "stale_ms_max": 2000})",
                    o));
  EXPECT_EQ(o.entries_max, 7U);
  EXPECT_EQ(o.ttl_ms, 1000.0);
  EXPECT_EQ(o.match, cache_match::semantic);
  EXPECT_EQ(o.similarity_hit_ratio, 0.5);
  EXPECT_EQ(o.similarity_min, 0.8);
  EXPECT_EQ(o.embeddings_max, 3U);
  EXPECT_EQ(o.hit_latency_ms, 0.0);
  EXPECT_EQ(o.serve_stale_on, (outcome_class_set{outcome_class::overloaded, outcome_class::timeout}));
  EXPECT_EQ(o.stale_ms_max, 2000.0);
}

TEST(cache_options, ranges_are_checked_and_name_the_path) {
  auto e = read_cache(R"({"entries_max": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].entries_max");
  EXPECT_NE(e->message.find("from 1 to 10000000"), std::string::npos) << e->message;
  e = read_cache(R"({"ttl_ms": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].ttl_ms");
  e = read_cache(R"({"match": "semantic", "similarity_hit_ratio": 1.5})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].similarity_hit_ratio");
  e = read_cache(R"({"match": "semantic", "similarity_min": -0.1})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].similarity_min");
  e = read_cache(R"({"hit_latency_ms": 60001})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].hit_latency_ms");
  e = read_cache(R"({"stale_ms_max": -1})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].stale_ms_max");
  e = read_cache(R"({"match": "fuzzy"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].match");
  EXPECT_NE(e->message.find("\"semantic\""), std::string::npos) << e->message;
}

TEST(cache_options, ok_cannot_be_replaced_by_a_stale_answer) {
  auto e = read_cache(R"({"serve_stale_on": ["overloaded", "ok"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].serve_stale_on[1]");
  EXPECT_NE(e->message.find("ok is a success"), std::string::npos) << e->message;
  e = read_cache(R"({"serve_stale_on": ["overloded"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].serve_stale_on[0]");
}

TEST(cache_options, similarity_keys_without_semantic_mode_are_refused) {
  auto e = read_cache(R"({"similarity_hit_ratio": 0.5})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].similarity_hit_ratio");
  EXPECT_NE(e->message.find("\"semantic\""), std::string::npos) << e->message;
  e = read_cache(R"({"match": "exact", "similarity_min": 0.9})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].similarity_min");
  EXPECT_FALSE(read_cache(R"({"match": "semantic", "similarity_min": 0.9})"));
  e = read_cache(R"({"embeddings_max": 10})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].embeddings_max");
  EXPECT_NE(e->message.find("\"semantic\""), std::string::npos) << e->message;
}

TEST(cache_options, embeddings_max_is_bounded) {
  for (const char* bad : {R"({"match": "semantic", "embeddings_max": 0})", R"({"match": "semantic", "embeddings_max": 65537})",
                          R"({"match": "semantic", "embeddings_max": 1.5})"}) {
    const auto e = read_cache(bad);
    ASSERT_TRUE(e) << bad;
    EXPECT_EQ(e->path, "$.policies[0].embeddings_max");
    EXPECT_NE(e->message.find("1 to 65536"), std::string::npos) << e->message;
  }
  EXPECT_FALSE(read_cache(R"({"match": "semantic", "embeddings_max": 65536})"));
}

TEST(cache_options, unknown_keys_are_refused) {
  auto e = read_cache(R"({"ttl": 5})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->describe().find("ttl"), std::string::npos) << e->describe();
}

}  // namespace
}  // namespace squall
