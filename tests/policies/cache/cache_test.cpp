// The cache under virtual time: hits and misses, what a hit answers, LRU eviction, TTL expiry, stale
// serving, semantic matching, and that cancellation leaves nothing behind.

#include "policies/cache/cache.hpp"

#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_receiver;
using testing::recording_sink;

constexpr std::string_view provider_name = "prov";
constexpr std::string_view model_name = "m";

outcome cached_answer(std::uint32_t in = 100, std::uint32_t out = 20, double cost = 0.01) {
  outcome o;
  o.http_status = 200;
  o.input_tokens = in;
  o.output_tokens = out;
  o.cost_usd = cost;
  o.provider = provider_name;
  o.model = model_name;
  return o;
}

// A cache in front of a fake transport (10 ms per attempt) answering `answers` in order, then `fallback`.
struct cache_rig {
  explicit cache_rig(cache_options o) : options(o) {
    transport = std::make_unique<fake_transport>(loop, from_ms(10), [this](const call_context&, std::uint32_t) {
      if (answers.empty()) return fallback;
      outcome next = answers.front();
      answers.pop_front();
      return next;
    });
    policy = std::make_unique<cache_handler>(options, "cache", policy_environment{loop, sink, 5}, *transport);
  }

  // One call, run to completion; returns what it received.
  outcome call(std::uint64_t key, std::uint32_t cluster = 0) {
    call_context ctx;
    ctx.req.id = ++ids;
    ctx.req.cache_key = key;
    ctx.req.semantic_cluster = cluster;
    recording_receiver r;
    policy->start(call_scope{&ctx, time_never}, r);
    EXPECT_EQ(r.calls, 0) << "never delivered from inside start()";
    run();
    EXPECT_EQ(r.calls, 1);
    return r.last;
  }
  // One call carrying prompt text (and optionally a cluster), run to completion.
  outcome call_text(std::uint64_t key, std::string_view prompt, std::uint32_t cluster = 0) {
    call_context ctx;
    ctx.req.id = ++ids;
    ctx.req.cache_key = key;
    ctx.req.semantic_cluster = cluster;
    ctx.req.payload = make_chat_payload({{"user", std::string(prompt)}});
    recording_receiver r;
    policy->start(call_scope{&ctx, time_never}, r);
    EXPECT_EQ(r.calls, 0) << "never delivered from inside start()";
    run();
    EXPECT_EQ(r.calls, 1);
    return r.last;
  }
  void run() {
    while (loop.step()) {
    }
  }
  void advance_ms(double ms) { loop.run_until(loop.now() + from_ms(ms)); }

  cache_options options;
  sim::event_loop loop;
  recording_sink sink;
  std::unique_ptr<fake_transport> transport;
  std::unique_ptr<cache_handler> policy;
  std::deque<outcome> answers;
  outcome fallback = cached_answer();
  std::uint64_t ids = 0;
};

TEST(cache, requests_without_a_cache_key_pass_through_unseen) {
  cache_rig rig({});
  rig.call(0);
  rig.call(0);
  EXPECT_EQ(rig.transport->started(), 2);
  EXPECT_TRUE(rig.sink.events.empty());
  EXPECT_EQ(rig.policy->entries(), 0U);
}

TEST(cache, a_miss_calls_the_provider_and_a_repeat_hits_without_calling_it) {
  cache_rig rig({});
  rig.answers = {cached_answer(300, 40, 0.02)};
  const outcome first = rig.call(42);
  EXPECT_FALSE(first.from_cache);
  EXPECT_EQ(first.cost_usd, 0.02);
  const time_point before = rig.loop.now();
  const outcome second = rig.call(42);
  EXPECT_EQ(rig.transport->started(), 1);
  EXPECT_TRUE(second.ok());
  EXPECT_TRUE(second.from_cache);
  EXPECT_FALSE(second.degraded);
  EXPECT_EQ(second.cost_usd, 0.0);
  EXPECT_EQ(second.input_tokens, 300U);
  EXPECT_EQ(second.output_tokens, 40U);
  EXPECT_EQ(second.provider, "prov");
  EXPECT_EQ(second.model, "m");
  EXPECT_EQ(second.decided_by, "cache");
  EXPECT_EQ(second.latency, from_ms(5));
  EXPECT_EQ(rig.loop.now() - before, from_ms(5)) << "answered by a timer after hit_latency_ms";
  ASSERT_EQ(rig.sink.events.size(), 2U);
  EXPECT_EQ(rig.sink.events[0].kind, policy_event_kind::cache_miss);
  EXPECT_EQ(rig.sink.events[0].request_id, 1U);
  EXPECT_EQ(rig.sink.events[1].kind, policy_event_kind::cache_hit);
  EXPECT_EQ(rig.sink.events[1].request_id, 2U);
  EXPECT_EQ(rig.sink.events[1].detail, "exact");
  EXPECT_EQ(rig.sink.events[1].policy, "cache");
}

TEST(cache, a_zero_hit_latency_still_answers_through_a_timer) {
  cache_options o;
  o.hit_latency_ms = 0;
  cache_rig rig(o);
  rig.call(1);
  const outcome hit = rig.call(1);  // call() checks that start() did not deliver
  EXPECT_TRUE(hit.from_cache);
  EXPECT_EQ(hit.latency, duration{});
}

TEST(cache, failures_and_degraded_answers_are_not_stored) {
  cache_rig rig({});
  outcome degraded = cached_answer();
  degraded.degraded = true;
  rig.answers = {outcome::failure(outcome_class::overloaded), degraded, cached_answer()};
  EXPECT_EQ(rig.call(9).kind, outcome_class::overloaded);
  EXPECT_TRUE(rig.call(9).degraded);
  EXPECT_FALSE(rig.call(9).from_cache);
  EXPECT_TRUE(rig.call(9).from_cache);
  EXPECT_EQ(rig.transport->started(), 3);
  EXPECT_EQ(rig.sink.count(policy_event_kind::cache_miss), 3U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::cache_hit), 1U);
}

TEST(cache, entries_expire_after_ttl_ms) {
  cache_options o;
  o.ttl_ms = 1000;
  cache_rig rig(o);
  rig.call(5);  // stored at t = 10 ms
  rig.advance_ms(1000 - 5 - 1);  // the hit itself takes 5 ms: looked up at 1004 ms, age 994 ms
  EXPECT_TRUE(rig.call(5).from_cache);
  rig.advance_ms(1);  // now 1010 ms: age exactly ttl
  EXPECT_FALSE(rig.call(5).from_cache) << "an entry exactly ttl_ms old is expired";
  EXPECT_EQ(rig.transport->started(), 2);
  EXPECT_TRUE(rig.call(5).from_cache) << "the new answer was stored";
}

TEST(cache, the_least_recently_used_entry_is_evicted) {
  cache_options o;
  o.entries_max = 2;
  cache_rig rig(o);
  rig.call(1);
  rig.call(2);
  EXPECT_TRUE(rig.call(1).from_cache);  // 1 is now more recent than 2
  rig.call(3);                          // evicts 2
  EXPECT_EQ(rig.policy->entries(), 2U);
  EXPECT_EQ(rig.transport->started(), 3);
  EXPECT_TRUE(rig.call(1).from_cache);
  EXPECT_TRUE(rig.call(3).from_cache);
  EXPECT_FALSE(rig.call(2).from_cache) << "2 was the least recently used";
  EXPECT_EQ(rig.transport->started(), 4);
  EXPECT_EQ(rig.policy->entries(), 2U) << "memory is bounded by entries_max";
}

TEST(cache, many_keys_stay_within_entries_max) {
  cache_options o;
  o.entries_max = 16;
  cache_rig rig(o);
  for (std::uint64_t k = 1; k <= 200; ++k) rig.call(k);
  EXPECT_EQ(rig.policy->entries(), 16U);
  for (std::uint64_t k = 185; k <= 200; ++k) EXPECT_TRUE(rig.call(k).from_cache) << k;
  EXPECT_FALSE(rig.call(184).from_cache);
}

TEST(cache, a_stale_entry_replaces_a_listed_failure) {
  cache_options o;
  o.ttl_ms = 100;
  o.stale_ms_max = 1000;
  o.serve_stale_on = {outcome_class::overloaded};
  cache_rig rig(o);
  rig.answers = {cached_answer(70, 7), outcome::failure(outcome_class::overloaded)};
  rig.call(8);           // stored at 10 ms, fresh until 110 ms
  rig.advance_ms(490);   // 500 ms
  const outcome stale = rig.call(8);
  EXPECT_EQ(rig.transport->started(), 2) << "an expired entry does not hit: the provider is called";
  EXPECT_TRUE(stale.ok());
  EXPECT_TRUE(stale.from_cache);
  EXPECT_FALSE(stale.degraded);
  EXPECT_EQ(stale.output_tokens, 7U);
  EXPECT_EQ(stale.cost_usd, 0.0);
  EXPECT_EQ(stale.latency, from_ms(10)) << "the time the caller waited for the failed call";
  ASSERT_EQ(rig.sink.count(policy_event_kind::cache_stale_served), 1U);
  const policy_event& e = rig.sink.events.back();
  EXPECT_EQ(e.kind, policy_event_kind::cache_stale_served);
  EXPECT_EQ(e.cause, outcome_class::overloaded);
  EXPECT_EQ(e.delay, from_ms(400)) << "how long past its freshness: 510 - 110";
}

TEST(cache, stale_serving_stops_at_stale_ms_max_and_skips_unlisted_classes) {
  cache_options o;
  o.ttl_ms = 100;
  o.stale_ms_max = 1000;
  o.serve_stale_on = {outcome_class::overloaded};
  cache_rig rig(o);
  rig.answers = {cached_answer(), outcome::failure(outcome_class::server_error), outcome::failure(outcome_class::overloaded)};
  rig.call(8);
  rig.advance_ms(500);
  EXPECT_EQ(rig.call(8).kind, outcome_class::server_error) << "not in serve_stale_on";
  rig.advance_ms(1000);  // ~1520 ms: past ttl + stale_ms_max (1110 ms)
  EXPECT_EQ(rig.call(8).kind, outcome_class::overloaded);
  EXPECT_EQ(rig.sink.count(policy_event_kind::cache_stale_served), 0U);
  EXPECT_EQ(rig.policy->entries(), 0U) << "an entry past the stale window is dropped";
}

TEST(cache, semantic_mode_hits_a_fresh_answer_of_the_same_cluster) {
  cache_options o;
  o.match = cache_match::semantic;
  o.similarity_hit_ratio = 1.0;
  cache_rig rig(o);
  rig.answers = {cached_answer(10, 11)};
  rig.call(100, 7);
  const outcome similar = rig.call(101, 7);
  EXPECT_TRUE(similar.from_cache);
  EXPECT_EQ(similar.output_tokens, 11U);
  EXPECT_EQ(rig.sink.events.back().detail, "semantic");
  EXPECT_FALSE(rig.call(102, 8).from_cache) << "another cluster";
  EXPECT_FALSE(rig.call(103, 0).from_cache) << "cluster 0 means no cluster";
  EXPECT_EQ(rig.transport->started(), 3);
}

TEST(cache, exact_mode_ignores_clusters) {
  cache_rig rig({});
  rig.call(100, 7);
  EXPECT_FALSE(rig.call(101, 7).from_cache);
}

TEST(cache, semantic_hits_are_accepted_with_similarity_hit_ratio) {
  cache_options o;
  o.match = cache_match::semantic;
  o.similarity_hit_ratio = 0.3;
  cache_rig rig(o);
  rig.call(1, 7);
  int hits = 0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    // A fresh key each time, so only the semantic path can hit; a miss stores the new key in cluster 7.
    hits += rig.call(1000 + static_cast<std::uint64_t>(i), 7).from_cache ? 1 : 0;
  }
  EXPECT_NEAR(static_cast<double>(hits) / n, 0.3, 0.04);
  o.similarity_hit_ratio = 0.0;
  cache_rig never(o);
  never.call(1, 7);
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(never.call(10 + static_cast<std::uint64_t>(i), 7).from_cache);
}

TEST(cache, an_evicted_entry_leaves_the_semantic_index) {
  cache_options o;
  o.match = cache_match::semantic;
  o.similarity_hit_ratio = 1.0;
  o.entries_max = 1;
  cache_rig rig(o);
  rig.call(1, 7);
  rig.call(2, 9);  // evicts key 1, the only entry of cluster 7
  EXPECT_FALSE(rig.call(3, 7).from_cache);  // now evicts key 2 and stores key 3 in cluster 7
  EXPECT_FALSE(rig.call(4, 9).from_cache);
  EXPECT_EQ(rig.transport->started(), 4);
}

TEST(cache, an_expired_newest_answer_means_no_semantic_hit) {
  cache_options o;
  o.match = cache_match::semantic;
  o.similarity_hit_ratio = 1.0;
  o.ttl_ms = 100;
  cache_rig rig(o);
  rig.call(1, 7);
  rig.advance_ms(200);
  EXPECT_FALSE(rig.call(2, 7).from_cache);
  EXPECT_TRUE(rig.call(3, 7).from_cache) << "key 2's answer is the cluster's newest now";
}

TEST(cache, cancelling_a_hit_before_it_answers_leaves_nothing_running) {
  cache_rig rig({});
  rig.call(1);
  call_context ctx;
  ctx.req.cache_key = 1;
  recording_receiver r;
  operation& op = rig.policy->start(call_scope{&ctx, time_never}, r);
  ASSERT_EQ(rig.loop.pending(), 1U) << "the hit's timer";
  op.cancel();
  EXPECT_EQ(rig.loop.pending(), 0U);
  rig.run();
  EXPECT_EQ(r.calls, 0);
}

TEST(cache, cancelling_a_miss_cancels_the_inner_call_and_stores_nothing) {
  cache_rig rig({});
  call_context ctx;
  ctx.req.cache_key = 1;
  recording_receiver r;
  operation& op = rig.policy->start(call_scope{&ctx, time_never}, r);
  op.cancel();
  EXPECT_EQ(rig.transport->cancelled(), 1);
  EXPECT_EQ(rig.loop.pending(), 0U);
  rig.run();
  EXPECT_EQ(r.calls, 0);
  EXPECT_EQ(rig.policy->entries(), 0U);
}

// ---- Semantic mode with prompt text, lexical embedder -------------------------------------------------
// (The provider's and the service's embedders: cache_embedder_test.cpp.)

constexpr std::string_view ticket =
    "Summarise the following customer support ticket in three short bullet points and suggest a polite reply "
    "to the customer about their delayed refund.";
constexpr std::string_view ticket_reworded =
    "summarise the following customer-support ticket, in three short bullet points; and suggest a polite "
    "reply to the customer about their delayed refund!!";
constexpr std::string_view ticket_one_word =
    "Summarise the following customer support ticket in three short bullet points and suggest a polite reply "
    "to the customer about their delayed order.";
constexpr std::string_view haiku = "Write a haiku about autumn leaves falling on a quiet mountain lake at dawn.";

cache_options text_options(double similarity_min = 0.9) {
  cache_options o;
  o.match = cache_match::semantic;
  o.embedder = cache_embedder::lexical;
  o.similarity_min = similarity_min;
  o.similarity_hit_ratio = 1.0;
  return o;
}

TEST(cache_text, near_duplicate_prompts_hit_at_0_9) {
  cache_rig rig(text_options(0.9));
  rig.answers = {cached_answer(10, 11)};
  EXPECT_FALSE(rig.call_text(1, ticket).from_cache);
  EXPECT_EQ(rig.policy->embeddings(), 1U);

  const outcome reworded = rig.call_text(2, ticket_reworded);
  EXPECT_TRUE(reworded.from_cache) << "case, spacing and punctuation only";
  EXPECT_EQ(reworded.output_tokens, 11U);
  EXPECT_EQ(rig.sink.events.back().kind, policy_event_kind::cache_hit);
  EXPECT_EQ(rig.sink.events.back().detail, "semantic");
  EXPECT_EQ(rig.sink.events.back().value, 1000000U) << "similarity 1 in millionths";

  const outcome one_word = rig.call_text(3, ticket_one_word);
  EXPECT_TRUE(one_word.from_cache) << "one word changed";
  const double s = cosine_similarity(embed_text(ticket), embed_text(ticket_one_word));
  EXPECT_EQ(rig.sink.events.back().value, static_cast<std::uint64_t>(std::llround(s * 1e6)));
  EXPECT_EQ(rig.transport->started(), 1);
}

TEST(cache_text, unrelated_prompts_miss) {
  cache_rig rig(text_options(0.9));
  rig.call_text(1, ticket);
  EXPECT_FALSE(rig.call_text(2, haiku).from_cache);
  EXPECT_FALSE(rig.call_text(3, "What is the capital of France?").from_cache);
  EXPECT_EQ(rig.transport->started(), 3);
  EXPECT_EQ(rig.policy->embeddings(), 3U);
}

TEST(cache_text, the_threshold_is_respected_on_both_sides) {
  const double s = cosine_similarity(embed_text(ticket), embed_text(ticket_one_word));
  ASSERT_GT(s, 0.5);
  ASSERT_LT(s, 1.0);
  cache_rig at(text_options(s));
  at.call_text(1, ticket);
  EXPECT_TRUE(at.call_text(2, ticket_one_word).from_cache) << "similarity exactly similarity_min is similar";
  cache_rig above(text_options(std::nextafter(s, 2.0)));
  above.call_text(1, ticket);
  EXPECT_FALSE(above.call_text(2, ticket_one_word).from_cache) << "one ulp above the similarity is not";
  cache_rig one(text_options(1.0));
  one.call_text(1, ticket);
  EXPECT_FALSE(one.call_text(2, ticket_one_word).from_cache);
  EXPECT_TRUE(one.call_text(3, ticket_reworded).from_cache) << "the same normalised text has similarity exactly 1";
}

TEST(cache_text, the_most_similar_stored_prompt_answers) {
  cache_rig rig(text_options(0.5));
  rig.answers = {cached_answer(1, 1), cached_answer(2, 2), cached_answer(3, 3)};
  rig.call_text(1, haiku);
  rig.call_text(2, ticket_one_word);
  rig.call_text(3, "Summarise the following customer support ticket in five short bullet points and suggest a "
                   "rude reply to the vendor about their delayed refund.");
  const outcome o = rig.call_text(4, ticket);
  EXPECT_TRUE(o.from_cache);
  EXPECT_EQ(o.output_tokens, 2U) << "the one-word variant is closer than the three-word one";
}

TEST(cache_text, requests_without_text_keep_using_the_cluster_and_text_decides_for_requests_with_it) {
  cache_rig rig(text_options(0.9));
  rig.answers = {cached_answer(1, 1), cached_answer(2, 2)};
  rig.call(1, 7);  // no text, cluster 7
  EXPECT_TRUE(rig.call(2, 7).from_cache) << "no text: the cluster decides";
  EXPECT_FALSE(rig.call_text(3, haiku, 7).from_cache) << "with text, the text decides, not the cluster";
  EXPECT_EQ(rig.policy->embeddings(), 1U);
  EXPECT_TRUE(rig.call(4, 7).from_cache) << "the haiku's answer is cluster 7's newest now";
  EXPECT_FALSE(rig.call_text(5, "?!?", 9).from_cache) << "a prompt without letters counts as no text";
  EXPECT_TRUE(rig.call_text(6, "...", 9).from_cache) << "and so uses its cluster";
  EXPECT_EQ(rig.policy->embeddings(), 1U);
}

TEST(cache_text, exact_mode_ignores_prompt_text) {
  cache_rig rig({});
  rig.call_text(1, ticket);
  EXPECT_FALSE(rig.call_text(2, ticket).from_cache);
  EXPECT_EQ(rig.policy->embeddings(), 0U);
  EXPECT_TRUE(rig.call_text(1, haiku).from_cache) << "the key decides";
}

TEST(cache_text, embeddings_are_bounded_by_embeddings_max_oldest_out) {
  cache_options o = text_options(0.9);
  o.embeddings_max = 2;
  cache_rig rig(o);
  rig.call_text(1, ticket);
  rig.call_text(2, haiku);
  rig.call_text(3, "What is the capital of France?");
  EXPECT_EQ(rig.policy->embeddings(), 2U);
  EXPECT_EQ(rig.policy->entries(), 3U) << "only the embedding is dropped";
  EXPECT_TRUE(rig.call_text(5, "write a HAIKU about autumn leaves falling on a quiet mountain lake at dawn")
                  .from_cache);
  EXPECT_FALSE(rig.call_text(4, ticket_reworded).from_cache) << "the first prompt's embedding was the oldest";
  EXPECT_TRUE(rig.call_text(1, "anything").from_cache) << "its answer still hits by key";
  EXPECT_EQ(rig.policy->embeddings(), 2U);
  EXPECT_FALSE(rig.call_text(6, haiku).from_cache) << "storing key 4's prompt dropped the haiku's embedding";
}

TEST(cache_text, evicted_and_expired_entries_do_not_answer_by_text) {
  cache_options o = text_options(0.9);
  o.entries_max = 2;
  o.ttl_ms = 1000;
  cache_rig rig(o);
  rig.call_text(1, ticket);
  rig.call_text(2, haiku);
  rig.call_text(3, "What is the capital of France?");  // evicts key 1 and its embedding
  EXPECT_EQ(rig.policy->embeddings(), 2U);
  EXPECT_FALSE(rig.call_text(4, ticket_reworded).from_cache);
  rig.advance_ms(2000);
  EXPECT_FALSE(rig.call_text(5, "what is the capital of france").from_cache) << "expired";
  EXPECT_LE(rig.policy->embeddings(), 2U);
}

TEST(cache_text, a_similar_prompt_answer_can_be_served_stale) {
  cache_options o = text_options(0.9);
  o.ttl_ms = 100;
  o.stale_ms_max = 1000;
  o.serve_stale_on = {outcome_class::overloaded};
  cache_rig rig(o);
  rig.answers = {cached_answer(70, 7), outcome::failure(outcome_class::overloaded)};
  rig.call_text(1, ticket);
  rig.advance_ms(500);
  const outcome stale = rig.call_text(2, ticket_one_word);
  EXPECT_TRUE(stale.ok());
  EXPECT_TRUE(stale.from_cache);
  EXPECT_EQ(stale.output_tokens, 7U);
  EXPECT_EQ(rig.sink.events.back().kind, policy_event_kind::cache_stale_served);
  EXPECT_EQ(rig.sink.events.back().detail, "semantic");
  EXPECT_GT(rig.sink.events.back().value, 900000U);
}

TEST(cache_text, the_cache_keeps_no_view_of_the_caller_s_text) {
  cache_rig rig(text_options(0.9));
  {
    std::string prompt(ticket);
    rig.call_text(1, prompt);
    prompt.assign(prompt.size(), 'x');  // the caller reuses its buffer once the call is over
  }
  EXPECT_TRUE(rig.call_text(2, ticket_reworded).from_cache);
}

TEST(cache_text, the_same_calls_give_the_same_events) {
  auto run = [] {
    cache_options o = text_options(0.8);
    o.embeddings_max = 3;
    o.entries_max = 5;
    cache_rig rig(o);
    const std::string_view prompts[] = {ticket, haiku, ticket_one_word, "What is the capital of France?",
                                        ticket_reworded, "what is the capital of spain", "Write a haiku about dawn"};
    for (std::uint64_t i = 0; i < 40; ++i) rig.call_text(1 + i % 9, prompts[(i * 5) % 7]);
    std::string trace;
    for (const auto& e : rig.sink.events) {
      trace += std::string(to_string(e.kind)) + " " + std::to_string(e.request_id) + " " + std::string(e.detail) +
               " " + std::to_string(e.value) + ";";
    }
    return trace;
  };
  const std::string first = run();
  EXPECT_EQ(first, run());
  EXPECT_NE(first.find("semantic"), std::string::npos);
}

}  // namespace
}  // namespace squall
