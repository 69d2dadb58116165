// What the recording proxy reads from the bytes it relays, without a network.
#include "traces/record/exchange.hpp"

#include <gtest/gtest.h>

namespace squall::traces::record {
namespace {

TEST(RecordExchange, ApiFollowsThePath) {
  EXPECT_EQ(api_for_path("/v1/messages"), api_kind::anthropic);
  EXPECT_EQ(api_for_path("/v1/messages?beta=true"), api_kind::anthropic);
  EXPECT_EQ(api_for_path("/v1/chat/completions"), api_kind::openai);
  EXPECT_EQ(api_for_path("/v1/embeddings"), api_kind::openai);
  EXPECT_EQ(path_of("/v1/chat/completions?x=1"), "/v1/chat/completions");
  EXPECT_EQ(api_for_path("/v1beta/models/gemini-2.0-flash:generateContent"), api_kind::gemini);
  EXPECT_EQ(api_for_path("/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"), api_kind::gemini);
}

TEST(RecordExchange, AGeminiPathNamesTheModelAndWhetherItStreams) {
  request_facts facts;
  read_gemini_path("/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", facts);
  EXPECT_EQ(facts.model, "gemini-2.0-flash");
  EXPECT_TRUE(facts.stream);
  request_facts plain;
  read_gemini_path("/v1/models/gemini-2.5-pro:generateContent", plain);
  EXPECT_EQ(plain.model, "gemini-2.5-pro");
  EXPECT_FALSE(plain.stream);
  request_facts other;
  read_gemini_path("/v1/chat/completions", other);
  read_gemini_path("/v1beta/models/x:countTokens", other);
  read_gemini_path(":generateContent", other);
  EXPECT_EQ(other.model, "");
}

TEST(RecordExchange, RequestBodyGivesModelStreamAndPromptText) {
  const request_facts openai = read_request_body(
      R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"one two three"}]})");
  EXPECT_EQ(openai.model, "gpt-4o-mini");
  EXPECT_TRUE(openai.stream);
  ASSERT_TRUE(openai.prompt);
  EXPECT_EQ(*openai.prompt, "one two three");  // a single text message is the text itself

  const request_facts anthropic = read_request_body(
      R"({"model":"claude","system":"be brief","messages":[{"role":"user","content":[{"type":"text","text":"a b"},{"type":"image"}]},{"role":"assistant","content":"c"}]})");
  EXPECT_FALSE(anthropic.stream);
  ASSERT_TRUE(anthropic.prompt);
  EXPECT_EQ(*anthropic.prompt, "be brief\na b\nc");

  const request_facts embeddings = read_request_body(R"({"model":"e","input":["x","y"]})");
  ASSERT_TRUE(embeddings.prompt);
  EXPECT_EQ(*embeddings.prompt, "x\ny");

  const request_facts broken = read_request_body("{not json");
  EXPECT_EQ(broken.model, "");
  EXPECT_FALSE(broken.prompt);
}

TEST(RecordExchange, AttemptFromSquallHeadersElseTheSdkRetryCount) {
  attempt_identity a = read_identity("r17", "3", "0");
  EXPECT_EQ(a.request_id, "r17");
  EXPECT_EQ(a.attempt, 3U);
  a = read_identity("", "", "2");
  EXPECT_EQ(a.request_id, "");
  EXPECT_EQ(a.attempt, 3U);  // two retries before: the third attempt
  a = read_identity("", "0", "x");
  EXPECT_EQ(a.attempt, 0U);  // unknown
}

TEST(RecordExchange, OpenAiStreamGivesFirstTokenAndUsage) {
  answer_watcher w(api_kind::openai, 200, true);
  EXPECT_TRUE(w.streaming());
  EXPECT_FALSE(w.feed("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n"));
  // An event split across two reads: the first token is seen when its end arrives.
  EXPECT_FALSE(w.feed("data: {\"choices\":[{\"delta\":{\"content\":\" hi\"}}]}"));
  EXPECT_TRUE(w.feed("\n\n"));
  EXPECT_FALSE(w.feed("data: {\"choices\":[{\"delta\":{\"content\":\" more\"}}]}\n\n"));
  EXPECT_FALSE(w.feed("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n"));
  trace_attempt a;
  w.finish(true, a);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.outcome, "ok");
  EXPECT_EQ(a.input_tokens, 5U);
  EXPECT_EQ(a.output_tokens, 2U);
}

TEST(RecordExchange, StreamWithoutItsEndIsAConnectionError) {
  answer_watcher w(api_kind::openai, 200, true);
  w.feed("data: {\"choices\":[{\"delta\":{\"content\":\" hi\"}}]}\n\n");
  trace_attempt cut;
  w.finish(false, cut);
  EXPECT_EQ(cut.status, 200);
  EXPECT_EQ(cut.outcome, "connection_error");
  trace_attempt ended_early;  // a well-framed body that never said [DONE]
  w.finish(true, ended_early);
  EXPECT_EQ(ended_early.outcome, "connection_error");
}

TEST(RecordExchange, AnthropicErrorEventClassifiesAsItsType) {
  answer_watcher w(api_kind::anthropic, 200, true);
  w.feed("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude\",\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n");
  w.feed("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"x\"}}\n\n");
  trace_attempt a;
  w.finish(true, a);
  EXPECT_EQ(a.error_type, "overloaded_error");
  EXPECT_EQ(a.outcome, "overloaded");
  EXPECT_EQ(a.input_tokens, 9U);
}

TEST(RecordExchange, ErrorBodyGivesTypeAndOutcome) {
  answer_watcher w(api_kind::openai, 429, false);
  EXPECT_FALSE(w.streaming());
  w.feed(R"({"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}})");
  trace_attempt a;
  w.finish(true, a);
  EXPECT_EQ(a.status, 429);
  EXPECT_EQ(a.error_type, "requests");
  EXPECT_EQ(a.outcome, "rate_limited");

  answer_watcher quota(api_kind::openai, 429, false);
  quota.feed(R"({"error":{"type":"insufficient_quota","code":"insufficient_quota"}})");
  trace_attempt q;
  quota.finish(true, q);
  EXPECT_EQ(q.outcome, "quota");
}

TEST(RecordExchange, JsonAnswerUsageAndMalformedBodies) {
  answer_watcher w(api_kind::anthropic, 200, false);
  w.feed(R"({"content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":3,)");
  w.feed(R"("output_tokens":4}})");
  trace_attempt a;
  w.finish(true, a);
  EXPECT_EQ(a.outcome, "ok");
  EXPECT_EQ(a.input_tokens, 3U);
  EXPECT_EQ(a.output_tokens, 4U);

  answer_watcher bad(api_kind::openai, 200, false);
  bad.feed("{\"choices\": [tru");
  trace_attempt b;
  bad.finish(true, b);
  EXPECT_EQ(b.outcome, "server_error");

  answer_watcher big(api_kind::openai, 200, false, 1024);  // too large to decode: still ok, tokens unknown
  big.feed(std::string(2000, ' '));
  trace_attempt g;
  big.finish(true, g);
  EXPECT_EQ(g.outcome, "ok");
  EXPECT_FALSE(g.input_tokens);
}

}  // namespace
}  // namespace squall::traces::record
