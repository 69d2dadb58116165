// The semantic cache in production: squall::client embeds prompts through the provider's real embeddings
// endpoint (the fake provider's /v1/embeddings over HTTP), or through the service's own embedder, and a
// similar prompt gets the stored answer byte for byte.

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "client/client.hpp"
#include "fake_providers/wire_format.hpp"
#include "tests/fake_providers/test_providers.hpp"

namespace squall {
namespace {

constexpr const char* semantic_cache = R"({"name":"semantic","policies":[
  {"type":"cache","match":"semantic","similarity_min":0.9,"embedding_model":"text-embedding-3-small",
   "embedding_timeout_ms":5000}]})";

client_options options_for(const std::string& base_url) {
  client_options o;
  o.policy = json::parse(semantic_cache);
  o.transport.endpoints.push_back({"openai", api_kind::openai, base_url, "sk-test", false});
  o.seed = 11;
  return o;
}

chat_call asking(const std::string& text) {
  chat_call c;
  c.model = "gpt-4o-mini";
  c.messages = {{"user", text}};
  return c;
}

double gauge(client& c, std::string_view name) {
  for (const policy_gauge& g : c.gauges()) {
    if (g.name == name) return g.value;
  }
  return -1;
}

TEST(client_semantic_cache, a_reworded_prompt_hits_through_the_providers_embeddings_endpoint) {
  fake::testing::running provider({fake::testing::openai_config()});
  auto made = client::create(options_for(provider.server.endpoints().at(0).base_url));
  ASSERT_TRUE(made) << made.error().describe();
  client& c = *made.value();

  const client_result first = c.call(asking("What is the capital of France?")).get();
  ASSERT_TRUE(first.ok()) << first.error();
  ASSERT_TRUE(first.answer);
  EXPECT_FALSE(first.from_cache);
  EXPECT_FALSE(first.answer->body.empty());
  // Case and punctuation aside the same words: the fake provider's embeddings are then equal.
  const client_result again = c.call(asking("what is the capital of france")).get();
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_TRUE(again.from_cache);
  ASSERT_TRUE(again.answer);
  EXPECT_EQ(again.answer->body, first.answer->body) << "byte-identical answer body";
  EXPECT_EQ(again.text(), first.text());
  EXPECT_EQ(again.cost_usd, 0.0);

  const client_result other = c.call(asking("Write a haiku about autumn leaves on a quiet lake.")).get();
  ASSERT_TRUE(other.ok()) << other.error();
  EXPECT_FALSE(other.from_cache);
  EXPECT_NE(other.answer->body, first.answer->body);
  // Two prompts stored, each with the vector the endpoint sent back; nothing else could have made them.
  EXPECT_EQ(gauge(c, "embeddings"), 2.0);
  EXPECT_EQ(gauge(c, "entries"), 2.0);
  const std::string metrics = c.metrics_text();
  EXPECT_NE(metrics.find("cache_hit"), std::string::npos);
}

TEST(client_semantic_cache, an_unreachable_embeddings_endpoint_never_fails_the_call) {
  fake::testing::running provider({fake::testing::openai_config()});
  client_options o = options_for(provider.server.endpoints().at(0).base_url);
  // The embeddings go to an endpoint that is not listening; chat calls go to the fake provider.
  o.policy = json::parse(R"({"policies":[{"type":"cache","match":"semantic","embedding_provider":"nowhere",
    "embedding_timeout_ms":5000}]})");
  o.transport.endpoints.push_back({"nowhere", api_kind::openai, "http://127.0.0.1:1/v1", "sk-test", false});
  auto made = client::create(o);
  ASSERT_TRUE(made) << made.error().describe();
  const client_result r = made.value()->call(asking("What is the capital of France?")).get();
  EXPECT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE(r.from_cache);
  EXPECT_EQ(gauge(*made.value(), "embeddings"), 0.0);
  EXPECT_EQ(gauge(*made.value(), "entries"), 1.0) << "stored for exact hits";
}

TEST(client_semantic_cache, an_embedding_provider_the_transport_does_not_have_is_refused_naming_the_key) {
  client_options o = options_for("http://127.0.0.1:1/v1");
  o.policy = json::parse(R"({"policies":[{"type":"retry"},{"type":"cache","match":"semantic","embedding_provider":"opnai"}]})");
  auto made = client::create(o);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().path, "$.policies[1].embedding_provider");
  EXPECT_NE(made.error().message.find("expected one of: openai"), std::string::npos) << made.error().message;
  o.policy = json::parse(R"({"policies":[{"type":"retry"}]})");
  auto fine = client::create(o);
  ASSERT_TRUE(fine);
  const auto refused = fine.value()->reload(
      json::parse(R"({"policies":[{"type":"cache","match":"semantic","embedding_provider":"opnai"}]})"));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->path, "$.policies[0].embedding_provider");
}

TEST(client_semantic_cache, the_services_own_embedder_decides_what_is_alike) {
  fake::testing::running provider({fake::testing::openai_config()});
  client_options o = options_for(provider.server.endpoints().at(0).base_url);
  std::atomic<int> asked{0};
  // A toy embedder that knows negation matters, answering from another thread as a real client library
  // would: its vector has one axis for "no"/"without".
  o.embed = [&asked](std::string text, client_options::embedding_done done) {
    ++asked;
    std::thread([text = std::move(text), done = std::move(done)] {
      const bool negated = text.find(" no ") != std::string::npos || text.find("without") != std::string::npos;
      done(negated ? std::vector<float>{0.0f, 1.0f} : std::vector<float>{1.0f, 0.0f}, "");
    }).detach();
  };
  auto made = client::create(o);
  ASSERT_TRUE(made) << made.error().describe();
  client& c = *made.value();
  const client_result with = c.call(asking("Is this cake safe for children? It has alcohol.")).get();
  const client_result without = c.call(asking("Is this cake safe for children? It has no alcohol.")).get();
  const client_result with_again = c.call(asking("Is this cake OK for kids? It contains alcohol.")).get();
  ASSERT_TRUE(with.ok() && without.ok() && with_again.ok());
  EXPECT_FALSE(without.from_cache) << "the embedder keeps the negation apart";
  EXPECT_TRUE(with_again.from_cache);
  EXPECT_EQ(with_again.answer->body, with.answer->body);
  EXPECT_EQ(asked.load(), 3);
}

TEST(client_semantic_cache, an_embedder_that_throws_or_never_answers_is_a_miss) {
  fake::testing::running provider({fake::testing::openai_config()});
  client_options o = options_for(provider.server.endpoints().at(0).base_url);
  o.policy = json::parse(R"({"policies":[{"type":"cache","match":"semantic","embedding_timeout_ms":50}]})");
  std::atomic<int> asked{0};
  std::vector<client_options::embedding_done> kept;  // never called: the cache stops waiting at 50 ms
  o.embed = [&](std::string, client_options::embedding_done done) {
    if (asked++ == 0) throw std::runtime_error("model not loaded");
    kept.push_back(std::move(done));
  };
  auto made = client::create(o);
  ASSERT_TRUE(made) << made.error().describe();
  EXPECT_TRUE(made.value()->call(asking("first")).get().ok());
  EXPECT_TRUE(made.value()->call(asking("second")).get().ok());
  EXPECT_EQ(asked.load(), 2);
  made.value()->drain();
  for (auto& done : kept) done({1.0f}, "");  // late, after the drain: ignored
}

TEST(client_semantic_cache, call_raw_reaches_the_embeddings_endpoint_and_is_billed_by_its_usage) {
  fake::testing::running provider({fake::testing::openai_config()});
  client_options o = options_for(provider.server.endpoints().at(0).base_url);
  o.transport.prices.push_back({"openai", "text-embedding-3-small", 0.02, 0.0, 0.0});
  auto made = client::create(o);
  ASSERT_TRUE(made) << made.error().describe();
  std::promise<client_result> done;
  made.value()->call_raw("text-embedding-3-small", "/embeddings",
                         R"({"model":"text-embedding-3-small","input":"one two three","dimensions":8})",
                         [&done](client_result r) { done.set_value(std::move(r)); });
  const client_result r = done.get_future().get();
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(r.answer);
  const json body = json::parse(r.answer->body);
  EXPECT_EQ(body["data"][0]["embedding"].size(), 8U);
  EXPECT_EQ(r.input_tokens, 3U) << "usage.prompt_tokens";
  EXPECT_GT(r.cost_usd, 0.0);
}

TEST(client_embeddings, batched_embeddings_calls_each_get_their_own_texts_vector_from_the_provider) {
  fake::testing::running provider({fake::testing::openai_config()});
  client_options o = options_for(provider.server.endpoints().at(0).base_url);
  o.policy = json::parse(R"({"policies":[{"type":"batching","batch_size_max":8,"window_ms":200}]})");
  auto made = client::create(o);
  ASSERT_TRUE(made) << made.error().describe();
  const std::vector<std::string> texts = {"apple pie", "a cold winter night", "the capital of France",
                                          "how to bake bread", "quantum computing basics"};
  std::vector<std::promise<client_result>> results(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    made.value()->call_raw("text-embedding-3-small", "/embeddings",
                           R"({"model":"text-embedding-3-small","input":")" + texts[i] + R"(","dimensions":16})",
                           [&results, i](client_result r) { results[i].set_value(std::move(r)); });
  }
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const client_result r = results[i].get_future().get();
    ASSERT_TRUE(r.ok()) << r.error();
    const json body = json::parse(r.answer->body);
    ASSERT_EQ(body["data"].size(), 1U);
    const std::vector<float> got = body["data"][0]["embedding"].get<std::vector<float>>();
    // The fake provider's vector of this very text: no member got another's.
    EXPECT_EQ(got, fake::text_embedding_vector(texts[i], 16)) << texts[i];
  }
  // The five calls went as one: the transport started one attempt.
  const std::string metrics = made.value()->metrics_text();
  EXPECT_NE(metrics.find("\nsquall_http_attempts_total 1\n"), std::string::npos) << metrics;
}

}  // namespace
}  // namespace squall
