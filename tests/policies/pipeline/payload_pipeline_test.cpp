// Each policy keeps one meaning with production payloads: whatever answers a call from memory (cache,
// idempotency, coalescing, last-good degradation) gives back the exact bytes the provider sent; static
// degradation gives its configured text; prompt trimming trims the real messages; batching never answers
// one caller with another's result.

#include <deque>
#include <string>

#include <gtest/gtest.h>

#include "policies/pipeline/pipeline.hpp"
#include "policies/prompt_trim/trim_messages.hpp"
#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_receiver;
using testing::recording_sink;

// A provider whose every answer is different: answer n says "answer n" and echoes the prompt it got.
outcome numbered_answer(const call_context& c, int n) {
  outcome o;
  o.http_status = 200;
  auto a = std::make_shared<answer_payload>();
  a->text = "answer " + std::to_string(n) + " to: " + std::string(c.req.prompt());
  a->body = R"({"id":"r)" + std::to_string(n) + R"(","text":")" + a->text + "\"}";
  o.answer = std::move(a);
  return o;
}

struct rig {
  sim::event_loop loop;
  recording_sink sink;
  int answers = 0;
  bool failing = false;
  fake_transport transport{loop, from_ms(20), [this](const call_context& c, std::uint32_t) {
                             if (failing) return outcome::failure(outcome_class::overloaded);
                             return numbered_answer(c, ++answers);
                           }};
  std::unique_ptr<pipeline> p;
  std::deque<call_context> calls;
  std::deque<recording_receiver> receivers;

  explicit rig(const char* policies) {
    auto spec = parse_pipeline(json::parse(policies), "$");
    EXPECT_TRUE(spec) << spec.error().describe();
    p = std::make_unique<pipeline>(*spec, loop, sink, 7, transport);
  }
  // Starts a call; run() completes it.
  recording_receiver& start(const std::string& text, std::uint64_t key = 0) {
    call_context& c = calls.emplace_back();
    c.req.id = calls.size();
    c.req.model = "m";
    c.req.payload = make_chat_payload({{"user", text}});
    c.req.cache_key = key;
    c.req.idempotency_key = key;
    recording_receiver& r = receivers.emplace_back();
    p->start(call_scope{&c, time_never}, r);
    return r;
  }
  void run() {
    while (loop.step()) {
    }
  }
  outcome call(const std::string& text, std::uint64_t key = 0) {
    recording_receiver& r = start(text, key);
    run();
    EXPECT_EQ(r.calls, 1);
    return r.last;
  }
};

TEST(payload_pipeline, a_cache_hit_returns_the_stored_body_byte_for_byte) {
  rig r(R"({"policies":[{"type":"cache","ttl_ms":60000}]})");
  const outcome first = r.call("What is 2+2?", 11);
  const outcome second = r.call("What is 2+2?", 11);
  ASSERT_TRUE(first.answer && second.answer);
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(second.answer->body, first.answer->body);
  EXPECT_EQ(second.answer->text, "answer 1 to: What is 2+2?");
  EXPECT_EQ(r.transport.started(), 1);
}

TEST(payload_pipeline, an_idempotent_replay_returns_the_first_answer_byte_for_byte) {
  rig r(R"({"policies":[{"type":"idempotency","ttl_ms":60000}]})");
  const outcome first = r.call("Charge the card", 99);
  const outcome replay = r.call("Charge the card", 99);
  ASSERT_TRUE(first.answer && replay.answer);
  EXPECT_EQ(replay.answer->body, first.answer->body);
  EXPECT_EQ(r.transport.started(), 1);
}

TEST(payload_pipeline, coalesced_callers_all_get_the_payers_answer_byte_for_byte) {
  rig r(R"({"policies":[{"type":"coalesce"}]})");
  recording_receiver& a = r.start("Summarize the report", 5);
  recording_receiver& b = r.start("Summarize the report", 5);
  recording_receiver& c = r.start("Summarize the report", 5);
  r.run();
  ASSERT_TRUE(a.last.answer && b.last.answer && c.last.answer);
  EXPECT_EQ(b.last.answer->body, a.last.answer->body);
  EXPECT_EQ(c.last.answer->body, a.last.answer->body);
  EXPECT_EQ(r.transport.started(), 1);
}

TEST(payload_pipeline, static_degradation_answers_with_its_configured_text) {
  rig r(R"({"policies":[{"type":"degrade","answer":"static","text":"We are busy; try again soon."}]})");
  r.failing = true;
  const outcome o = r.call("hello");
  EXPECT_TRUE(o.degraded);
  ASSERT_TRUE(o.answer);
  EXPECT_EQ(o.answer->text, "We are busy; try again soon.");
  EXPECT_EQ(o.answer->finish_reason, "degraded");
}

TEST(payload_pipeline, last_good_degradation_returns_the_remembered_answer_byte_for_byte) {
  rig r(R"({"policies":[{"type":"degrade","answer":"last_good","text":"fallback"}]})");
  const outcome good = r.call("weather in Oslo", 3);
  r.failing = true;
  const outcome degraded = r.call("weather in Oslo", 3);
  ASSERT_TRUE(good.answer && degraded.answer);
  EXPECT_TRUE(degraded.degraded);
  EXPECT_EQ(degraded.answer->body, good.answer->body);
  const outcome unknown = r.call("weather in Bergen", 4);
  ASSERT_TRUE(unknown.answer);
  EXPECT_EQ(unknown.answer->text, "fallback") << "no remembered answer: the static text";
}

TEST(payload_pipeline, prompt_trimming_trims_the_messages_the_provider_receives) {
  rig r(R"({"policies":[{"type":"prompt_trim","input_tokens_max":10}]})");
  std::vector<chat_message> seen;
  fake_transport transport(r.loop, from_ms(1), [&](const call_context& c, std::uint32_t) {
    seen = c.req.payload->messages;
    return outcome{};
  });
  auto spec = parse_pipeline(json::parse(R"({"policies":[{"type":"prompt_trim","input_tokens_max":10}]})"), "$");
  ASSERT_TRUE(spec);
  pipeline p(*spec, r.loop, r.sink, 7, transport);
  call_context c;
  c.req.payload = make_chat_payload({{"system", "Be kind."},                        // 2 tokens
                                     {"user", "An old question nobody needs."},     // 8
                                     {"assistant", "An old answer."},               // 4
                                     {"user", "The question being asked now."}});   // 8
  c.req.input_tokens = estimate_message_tokens(c.req.payload->messages);
  recording_receiver rec;
  p.start(call_scope{&c, time_never}, rec);
  r.run();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].content, "Be kind.");
  EXPECT_EQ(seen[1].content, "The question being asked now.");
  EXPECT_EQ(c.req.input_tokens, 10U);
  EXPECT_EQ(r.sink.count(policy_event_kind::prompt_trimmed), 1U);
}

TEST(payload_pipeline, batching_never_answers_one_caller_with_anothers_result) {
  rig r(R"({"policies":[{"type":"batching","batch_size_max":4,"window_ms":50}]})");
  recording_receiver& a = r.start("first question");
  recording_receiver& b = r.start("second question");
  r.run();
  ASSERT_TRUE(a.last.answer && b.last.answer);
  EXPECT_NE(a.last.answer->text.find("first question"), std::string::npos);
  EXPECT_NE(b.last.answer->text.find("second question"), std::string::npos);
  EXPECT_EQ(r.transport.started(), 2) << "chat calls with payloads go alone";
}

TEST(trim_messages, cuts_turns_then_the_start_of_the_last_then_system_text_on_character_boundaries) {
  const std::vector<chat_message> m = {{"system", "rules rules rules"}, {"user", "old"}, {"user", "ééééééééé final"}};
  // 5 + 1 + 6 tokens: "old" goes, then 3 tokens (12 bytes) off the start of the last turn.
  const auto kept = trim_messages(m, 8);
  ASSERT_EQ(kept.size(), 2U);
  EXPECT_EQ(kept[0].content, "rules rules rules");
  EXPECT_EQ(kept[1].content, "ééé final") << "the latest words are kept, whole characters only";
  const auto odd = trim_messages({{"user", "€€€€"}}, 2);  // 12 bytes; the tail of 8 starts mid-character
  ASSERT_EQ(odd.size(), 1U);
  EXPECT_EQ(odd[0].content, "€€");
  const auto tiny = trim_messages(m, 1);
  EXPECT_LE(estimate_message_tokens(tiny), 1U);
  EXPECT_EQ(tiny[0].content, "rule") << "system text loses its end last";
  EXPECT_EQ(trim_messages(m, 1000).size(), 3U) << "within the budget nothing changes";
}

}  // namespace
}  // namespace squall
