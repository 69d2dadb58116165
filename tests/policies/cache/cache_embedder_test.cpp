// The semantic cache with an embedder under virtual time: the embedder's vectors decide similarity; it is
// asked once per missed lookup, and that vector is what the answer is stored under; a failed or slow
// embedding is a miss that never fails the call; cancellation reaches the embedding. And the provider's
// embeddings endpoint (provider_embedder) through a scripted transport: the request it sends and the
// answers it reads.

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policies/cache/cache.hpp"
#include "policies/cache/provider_embedder.hpp"
#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_receiver;
using testing::recording_sink;

// Answers each text with the vector the test gave it (or fails for texts it does not know) after
// `latency`, through the clock: never from inside embed().
class scripted_embedder final : public embedder {
 public:
  explicit scripted_embedder(runtime& clock) : clock_(clock) {}

  operation& embed(std::string_view text, embedding_receiver& receiver) override {
    texts.emplace_back(text);
    auto* op = new pending(*this, receiver, std::string(text));
    op->timer = clock_.start_timer(latency, *op, 0);
    return *op;
  }

  std::map<std::string, std::vector<float>> vectors;
  duration latency = from_ms(3);
  std::vector<std::string> texts;  // every text asked for, in order
  int cancelled = 0;

 private:
  struct pending final : operation, timer_target {
    pending(scripted_embedder& o, embedding_receiver& r, std::string t) : owner(o), receiver(r), text(std::move(t)) {}
    void on_timer(std::uint32_t) override {
      const auto it = owner.vectors.find(text);
      embedding_receiver& r = receiver;
      std::vector<float> v = it == owner.vectors.end() ? std::vector<float>{} : it->second;
      delete this;
      r.on_embedding(std::move(v), v.empty() ? "unknown text" : "");
    }
    void cancel() noexcept override {
      owner.clock_.cancel_timer(timer);
      ++owner.cancelled;
      delete this;
    }
    scripted_embedder& owner;
    embedding_receiver& receiver;
    std::string text;
    timer_id timer;
  };
  runtime& clock_;
};

outcome provider_answer(const std::string& text) {
  outcome o;
  o.http_status = 200;
  o.input_tokens = 10;
  o.output_tokens = 5;
  o.cost_usd = 0.01;
  o.provider = "prov";
  o.model = "m";
  auto a = std::make_shared<answer_payload>();
  a->text = text;
  a->body = R"({"choices":[{"message":{"content":")" + text + R"("}}]})";
  o.answer = std::move(a);
  return o;
}

cache_options semantic(double similarity_min = 0.9) {
  cache_options o;
  o.match = cache_match::semantic;
  o.similarity_min = similarity_min;
  o.embedding_timeout_ms = 50;
  return o;
}

struct embedder_rig {
  explicit embedder_rig(cache_options o, bool with_embedder = true) : embeddings(loop) {
    transport = std::make_unique<fake_transport>(loop, from_ms(10), [this](const call_context& c, std::uint32_t) {
      if (failing) return outcome::failure(outcome_class::server_error, "prov");
      return provider_answer("answer to " + std::string(c.req.prompt()));
    });
    policy_environment env{loop, sink, 5};
    if (with_embedder) env.embeddings.custom = &embeddings;
    policy = std::make_unique<cache_handler>(o, "cache", env, *transport);
  }

  outcome call(std::uint64_t key, const std::string& prompt) {
    call_context ctx;
    ctx.req.id = ++ids;
    ctx.req.cache_key = key;
    ctx.req.semantic_cluster = 7;  // ignored for requests with text when an embedder is there
    ctx.req.payload = make_chat_payload({{"user", prompt}});
    recording_receiver r;
    policy->start(call_scope{&ctx, time_never}, r);
    EXPECT_EQ(r.calls, 0) << "never delivered from inside start()";
    while (loop.step()) {
    }
    EXPECT_EQ(r.calls, 1);
    return r.last;
  }

  int events(policy_event_kind kind, std::string_view detail = "*") const {
    int n = 0;
    for (const auto& e : sink.events) n += e.kind == kind && (detail == "*" || e.detail == detail);
    return n;
  }

  sim::event_loop loop;
  recording_sink sink;
  scripted_embedder embeddings;
  std::unique_ptr<fake_transport> transport;
  std::unique_ptr<cache_handler> policy;
  std::uint64_t ids = 0;
  bool failing = false;  // every provider call fails with server_error
};

const std::string france = "What is the capital of France?";
const std::string france_reworded = "Which city is France's capital?";
const std::string alcohol = "Is this cake safe for children? It has alcohol.";
const std::string no_alcohol = "Is this cake safe for children? It has no alcohol.";

TEST(cache_embedder, the_embedders_vectors_decide_a_semantic_hit_with_the_stored_answer_byte_identical) {
  embedder_rig rig(semantic(0.9));
  // Unit vectors at cosine 0.96 (a rewording) and 0.2 (another question), whatever the words say.
  rig.embeddings.vectors[france] = {1.0f, 0.0f, 0.0f};
  rig.embeddings.vectors[france_reworded] = {0.96f, 0.28f, 0.0f};
  rig.embeddings.vectors[alcohol] = {0.2f, 0.0f, 0.979796f};
  const outcome first = rig.call(1, france);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first.from_cache);
  EXPECT_EQ(rig.transport->started(), 1);

  const outcome reworded = rig.call(2, france_reworded);
  EXPECT_TRUE(reworded.from_cache);
  ASSERT_TRUE(reworded.answer);
  EXPECT_EQ(reworded.answer, first.answer) << "the very answer stored";
  EXPECT_EQ(reworded.answer->body, first.answer->body);
  EXPECT_EQ(reworded.latency, from_ms(3)) << "a hit after embedding takes the embedding's time";
  EXPECT_EQ(rig.transport->started(), 1);
  ASSERT_EQ(rig.events(policy_event_kind::cache_hit, "semantic"), 1);
  for (const auto& e : rig.sink.events) {
    if (e.kind == policy_event_kind::cache_hit) {
      EXPECT_EQ(e.value, 960000U) << "the cosine in millionths";
    }
  }

  EXPECT_FALSE(rig.call(3, alcohol).from_cache) << "cosine 0.2 is below similarity_min";
  EXPECT_EQ(rig.transport->started(), 2);
  // One embedding per missed lookup; the store reuses it. The exact hit below asks for none.
  EXPECT_EQ(rig.embeddings.texts, (std::vector<std::string>{france, france_reworded, alcohol}));
  EXPECT_TRUE(rig.call(1, france).from_cache);
  EXPECT_EQ(rig.embeddings.texts.size(), 3U) << "an exact hit needs no embedding";
  EXPECT_EQ(rig.policy->embeddings(), 2U);
}

TEST(cache_embedder, meaning_is_the_embedders_the_lexical_hashing_would_confuse_these) {
  // The lexical embedding puts these two at 0.9 and more; an embedder that knows "no" matters keeps them
  // apart, and the cache follows the embedder.
  EXPECT_GT(cosine_similarity(embed_text(alcohol), embed_text(no_alcohol)), 0.85);
  embedder_rig rig(semantic(0.9));
  rig.embeddings.vectors[alcohol] = {1.0f, 0.0f};
  rig.embeddings.vectors[no_alcohol] = {0.0f, 1.0f};
  EXPECT_FALSE(rig.call(1, alcohol).from_cache);
  const outcome other = rig.call(2, no_alcohol);
  EXPECT_FALSE(other.from_cache);
  ASSERT_TRUE(other.answer);
  EXPECT_EQ(other.answer->text, "answer to " + no_alcohol);
}

TEST(cache_embedder, a_failed_embedding_is_a_miss_the_call_goes_on_and_the_answer_is_stored_by_key_only) {
  embedder_rig rig(semantic());
  const outcome r = rig.call(1, "a text the embedder does not know");
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.from_cache);
  EXPECT_EQ(rig.events(policy_event_kind::cache_miss, "embedding_failed"), 1);
  EXPECT_EQ(rig.policy->entries(), 1U);
  EXPECT_EQ(rig.policy->embeddings(), 0U);
  EXPECT_TRUE(rig.call(1, "a text the embedder does not know").from_cache) << "the exact key still hits";
}

TEST(cache_embedder, a_slow_embedding_is_cancelled_at_embedding_timeout_ms_and_the_call_goes_on) {
  embedder_rig rig(semantic());
  rig.embeddings.vectors[france] = {1.0f, 0.0f};
  rig.embeddings.latency = from_ms(500);
  const outcome r = rig.call(1, france);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(rig.embeddings.cancelled, 1);
  EXPECT_EQ(rig.events(policy_event_kind::cache_miss, "embedding_timeout"), 1);
  EXPECT_EQ(r.latency, from_ms(10)) << "the transport's own latency; the caller waited 50 ms more";
  EXPECT_EQ(rig.policy->embeddings(), 0U);
}

TEST(cache_embedder, cancelling_during_the_embedding_cancels_it_and_starts_nothing) {
  embedder_rig rig(semantic());
  rig.embeddings.vectors[france] = {1.0f, 0.0f};
  call_context ctx;
  ctx.req.id = 1;
  ctx.req.cache_key = 1;
  ctx.req.payload = make_chat_payload({{"user", france}});
  recording_receiver r;
  operation& op = rig.policy->start(call_scope{&ctx, time_never}, r);
  rig.loop.run_until(rig.loop.now() + from_ms(1));
  op.cancel();
  while (rig.loop.step()) {
  }
  EXPECT_EQ(r.calls, 0);
  EXPECT_EQ(rig.embeddings.cancelled, 1);
  EXPECT_EQ(rig.transport->started(), 0);
  EXPECT_EQ(rig.policy->entries(), 0U);
}

TEST(cache_embedder, vectors_of_another_length_are_not_compared) {
  embedder_rig rig(semantic(0.5));
  rig.embeddings.vectors[france] = {1.0f, 0.0f};
  rig.embeddings.vectors[france_reworded] = {1.0f, 0.0f, 0.0f};  // the embedding model changed
  rig.call(1, france);
  EXPECT_FALSE(rig.call(2, france_reworded).from_cache);
}

TEST(cache_embedder, a_similar_prompts_answer_can_be_served_stale_by_its_vector) {
  cache_options o = semantic(0.9);
  o.ttl_ms = 100;
  o.serve_stale_on.insert(outcome_class::server_error);
  embedder_rig rig(o);
  rig.embeddings.vectors[france] = {1.0f, 0.0f};
  rig.embeddings.vectors[france_reworded] = {0.99f, 0.141067f};
  const outcome first = rig.call(1, france);
  rig.loop.run_until(rig.loop.now() + from_ms(500));
  rig.failing = true;
  const outcome stale = rig.call(2, france_reworded);
  EXPECT_TRUE(stale.ok());
  EXPECT_TRUE(stale.from_cache);
  EXPECT_EQ(stale.answer, first.answer);
  EXPECT_EQ(rig.events(policy_event_kind::cache_stale_served, "semantic"), 1);
}

TEST(cache_embedder, without_an_embedder_requests_with_text_use_their_cluster_as_in_the_simulation) {
  cache_options o = semantic();
  o.similarity_hit_ratio = 1.0;
  embedder_rig rig(o, /*with_embedder=*/false);
  EXPECT_FALSE(rig.policy->embeds());
  rig.call(1, france);
  EXPECT_TRUE(rig.call(2, "something else entirely, same cluster").from_cache);
  EXPECT_TRUE(rig.embeddings.texts.empty());
}

TEST(cache_embedder, lexical_mode_never_asks_the_embedder) {
  cache_options o = semantic(0.9);
  o.embedder = cache_embedder::lexical;
  embedder_rig rig(o);
  EXPECT_FALSE(rig.policy->embeds());
  rig.call(1, france);
  EXPECT_TRUE(rig.call(2, "what is the capital of france").from_cache);
  EXPECT_TRUE(rig.embeddings.texts.empty());
}

// ---- provider_embedder: the provider's embeddings endpoint through the transport -------------------------

struct recording_embedding final : embedding_receiver {
  virtual ~recording_embedding() = default;
  void on_embedding(std::vector<float>&& v, std::string_view e) override {
    ++calls;
    vector = std::move(v);
    error = std::string(e);
  }
  int calls = 0;
  std::vector<float> vector;
  std::string error;
};

TEST(provider_embedder, sends_an_openai_embeddings_request_and_reads_the_first_vector) {
  sim::event_loop loop;
  std::string sent_body, sent_path, sent_model, sent_provider;
  fake_transport transport(loop, from_ms(4), [&](const call_context& c, std::uint32_t) {
    sent_body = c.req.payload->raw_body;
    sent_path = c.req.payload->path;
    sent_model = c.req.model;
    sent_provider = c.req.provider;
    outcome o;
    o.http_status = 200;
    auto a = std::make_shared<answer_payload>();
    a->body = R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.25,-0.5,1e-3]}],)"
              R"("model":"text-embedding-3-small","usage":{"prompt_tokens":5,"total_tokens":5}})";
    o.answer = std::move(a);
    return o;
  });
  provider_embedder e(transport, provider_embedder_options{.model = "text-embedding-3-small", .provider = "openai"});
  recording_embedding r;
  e.embed("Capital of \"France\"?", r);
  EXPECT_EQ(r.calls, 0);
  while (loop.step()) {
  }
  ASSERT_EQ(r.calls, 1);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.vector, (std::vector<float>{0.25f, -0.5f, 0.001f}));
  EXPECT_EQ(sent_path, "/embeddings");
  EXPECT_EQ(sent_model, "text-embedding-3-small");
  EXPECT_EQ(sent_provider, "openai");
  const auto body = nlohmann::json::parse(sent_body);
  EXPECT_EQ(body["input"], "Capital of \"France\"?");
  EXPECT_EQ(body["model"], "text-embedding-3-small");
  EXPECT_EQ(body["encoding_format"], "float");
}

TEST(provider_embedder, failures_and_unreadable_answers_are_errors_in_words) {
  sim::event_loop loop;
  std::deque<outcome> script;
  fake_transport transport(loop, from_ms(1), [&](const call_context&, std::uint32_t) {
    outcome o = script.front();
    script.pop_front();
    return o;
  });
  auto with_body = [](std::string body) {
    outcome o;
    o.http_status = 200;
    auto a = std::make_shared<answer_payload>();
    a->body = std::move(body);
    o.answer = std::move(a);
    return o;
  };
  outcome failed = outcome::failure(outcome_class::rate_limited, "openai");
  failed.http_status = 429;
  auto a = std::make_shared<answer_payload>();
  a->error_message = "Rate limit reached";
  failed.answer = std::move(a);
  script = {failed, with_body("not json"), with_body(R"({"data":[]})"),
            with_body(R"({"data":[{"embedding":"AAAA"}]})"), with_body(R"({"data":[{"embedding":[1,"x"]}]})")};
  const std::vector<std::string> expected = {"rate_limited (HTTP 429): Rate limit reached", "not JSON",
                                             "no data[0].embedding", "not an array of numbers",
                                             "not a finite number"};
  provider_embedder e(transport, {});
  for (const std::string& want : expected) {
    recording_embedding r;
    e.embed("x", r);
    while (loop.step()) {
    }
    ASSERT_EQ(r.calls, 1);
    EXPECT_TRUE(r.vector.empty());
    EXPECT_NE(r.error.find(want), std::string::npos) << r.error;
  }
}

TEST(provider_embedder, a_cache_given_the_transport_embeds_through_it) {
  // The production wiring in small: no custom embedder, the transport named in the environment. The
  // scripted provider answers embeddings by keyword and chat calls with text.
  sim::event_loop loop;
  recording_sink sink;
  int chats = 0, embeddings = 0;
  fake_transport transport(loop, from_ms(5), [&](const call_context& c, std::uint32_t) {
    if (c.req.payload && c.req.payload->path == "/embeddings") {
      ++embeddings;
      const bool paris = c.req.payload->raw_body.find("France") != std::string::npos;
      outcome o;
      o.http_status = 200;
      auto a = std::make_shared<answer_payload>();
      a->body = paris ? R"({"data":[{"embedding":[1,0]}]})" : R"({"data":[{"embedding":[0,1]}]})";
      o.answer = std::move(a);
      return o;
    }
    ++chats;
    return provider_answer("chat " + std::to_string(chats));
  });
  policy_environment env{loop, sink, 5};
  env.embeddings.transport = &transport;
  cache_handler cache(semantic(0.9), "cache", env, transport);
  EXPECT_TRUE(cache.embeds());
  auto call = [&](std::uint64_t key, const std::string& text) {
    call_context ctx;
    ctx.req.cache_key = key;
    ctx.req.payload = make_chat_payload({{"user", text}});
    recording_receiver r;
    cache.start(call_scope{&ctx, time_never}, r);
    while (loop.step()) {
    }
    return r.last;
  };
  EXPECT_EQ(call(1, france).answer->text, "chat 1");
  EXPECT_EQ(call(2, "France: its capital?").answer->text, "chat 1");
  EXPECT_EQ(call(3, "Bake bread").answer->text, "chat 2");
  EXPECT_EQ(chats, 2);
  EXPECT_EQ(embeddings, 3);
}

}  // namespace
}  // namespace squall
