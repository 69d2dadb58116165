// Production payloads on the wire, without a network: the caller's messages written in each API's
// request format, and the provider's answer text, finish reason, id and error message read back.

#include "policies/http/wire_payload.hpp"

#include <gtest/gtest.h>

#include <functional>

#include <nlohmann/json.hpp>

#include "policies/core/rng.hpp"

namespace squall {
namespace {

using njson = nlohmann::json;

TEST(wire_payload, openai_body_carries_every_message_with_its_role) {
  const payload_ptr p = make_chat_payload(
      {{"system", "Be brief."}, {"user", "Why is the sky \"blue\"?\n"}, {"assistant", "Rayleigh."}, {"user", "é?"}},
      128, 0.25);
  const njson body = njson::parse(encode_payload_request(api_kind::openai, "gpt-4o", *p, 4096, true));
  EXPECT_EQ(body["model"], "gpt-4o");
  ASSERT_EQ(body["messages"].size(), 4U);
  EXPECT_EQ(body["messages"][0], (njson{{"role", "system"}, {"content", "Be brief."}}));
  EXPECT_EQ(body["messages"][1]["content"], "Why is the sky \"blue\"?\n");
  EXPECT_EQ(body["messages"][3]["content"], "é?");
  EXPECT_EQ(body["max_tokens"], 128);
  EXPECT_DOUBLE_EQ(body["temperature"].get<double>(), 0.25);
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  EXPECT_EQ(p->prompt, "Be brief.\nWhy is the sky \"blue\"?\n\nRayleigh.\né?");
}

TEST(wire_payload, openai_body_without_a_limit_sends_none_instead_of_one_token) {
  const payload_ptr p = make_chat_payload({{"user", "hi"}});
  const njson body = njson::parse(encode_payload_request(api_kind::openai, "m", *p, 4096, false));
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_FALSE(body.contains("temperature"));
  EXPECT_EQ(body["stream"], false);
}

TEST(wire_payload, anthropic_body_lifts_system_messages_and_always_has_a_limit) {
  const payload_ptr p = make_chat_payload({{"system", "One."}, {"user", "hi"}, {"system", "Two."}});
  const njson body = njson::parse(encode_payload_request(api_kind::anthropic, "claude", *p, 1000, false));
  EXPECT_EQ(body["system"], "One.\n\nTwo.");
  ASSERT_EQ(body["messages"].size(), 1U);
  EXPECT_EQ(body["messages"][0]["role"], "user");
  EXPECT_EQ(body["max_tokens"], 1000);
  const payload_ptr limited = make_chat_payload({{"user", "hi"}}, 5);
  EXPECT_EQ(njson::parse(encode_payload_request(api_kind::anthropic, "c", *limited, 1000, false))["max_tokens"], 5);
}

TEST(wire_payload, answers_give_text_finish_reason_and_id) {
  answer_payload a;
  ASSERT_TRUE(read_answer_text(api_kind::openai,
                               R"({"id":"chatcmpl-9","choices":[{"index":0,"message":{"role":"assistant",)"
                               R"("content":"Paris."},"finish_reason":"stop"}]})",
                               a));
  EXPECT_EQ(a.text, "Paris.");
  EXPECT_EQ(a.finish_reason, "stop");
  EXPECT_EQ(a.response_id, "chatcmpl-9");

  answer_payload b;
  ASSERT_TRUE(read_answer_text(api_kind::anthropic,
                               R"({"id":"msg_1","content":[{"type":"text","text":"Par"},{"type":"tool_use"},)"
                               R"({"type":"text","text":"is."}],"stop_reason":"max_tokens"})",
                               b));
  EXPECT_EQ(b.text, "Paris.");
  EXPECT_EQ(b.finish_reason, "max_tokens");
  EXPECT_EQ(b.response_id, "msg_1");

  answer_payload c;
  EXPECT_FALSE(read_answer_text(api_kind::openai, R"({"id":"x"})", c));
  EXPECT_FALSE(read_answer_text(api_kind::anthropic, "not json", c));
}

TEST(wire_payload, errors_give_type_and_message) {
  answer_payload a;
  read_error_text(R"({"error":{"message":"Rate limit reached for gpt-4o","type":"requests","code":"rate_limit_exceeded"}})", a);
  EXPECT_EQ(a.error_type, "requests");
  EXPECT_EQ(a.error_message, "Rate limit reached for gpt-4o");
  answer_payload b;
  read_error_text(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", b);
  EXPECT_EQ(b.error_type, "overloaded_error");
  EXPECT_EQ(b.error_message, "Overloaded");
  answer_payload c;
  read_error_text("<html>bad gateway</html>", c);
  EXPECT_EQ(c.error_type, "");
  EXPECT_EQ(c.error_message, "");
}

TEST(wire_payload, streams_collect_text_finish_reason_and_id_only_when_asked) {
  stream_decoder openai(api_kind::openai, true);
  for (const char* data : {R"({"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})",
                           R"({"id":"c1","choices":[{"index":0,"delta":{"content":"Hel"}}]})",
                           R"({"id":"c1","choices":[{"index":1,"delta":{"content":"other choice"}}]})",
                           R"({"id":"c1","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"length"}]})",
                           "[DONE]"}) {
    ASSERT_TRUE(openai.on_event({"", data}));
  }
  EXPECT_EQ(openai.text(), "Hello");
  EXPECT_EQ(openai.finish_reason(), "length");
  EXPECT_EQ(openai.response_id(), "c1");

  stream_decoder anthropic(api_kind::anthropic, true);
  ASSERT_TRUE(anthropic.on_event({"message_start", R"({"type":"message_start","message":{"id":"msg_7","model":"c"}})"}));
  ASSERT_TRUE(anthropic.on_event({"content_block_delta", R"({"type":"content_block_delta","delta":{"type":"text_delta","text":"Hi "}})"}));
  ASSERT_TRUE(anthropic.on_event({"content_block_delta", R"({"type":"content_block_delta","delta":{"type":"text_delta","text":"there"}})"}));
  ASSERT_TRUE(anthropic.on_event({"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}})"}));
  EXPECT_EQ(anthropic.text(), "Hi there");
  EXPECT_EQ(anthropic.finish_reason(), "end_turn");
  EXPECT_EQ(anthropic.response_id(), "msg_7");

  stream_decoder numbers_only(api_kind::anthropic);
  ASSERT_TRUE(numbers_only.on_event({"content_block_delta", R"({"type":"content_block_delta","delta":{"text":"x"}})"}));
  EXPECT_TRUE(numbers_only.saw_content());
  EXPECT_EQ(numbers_only.text(), "") << "the load generator pays for no text it does not need";
}

// Random answers shaped like chat answers (ids, choices with messages, content blocks, repeated keys, deep
// nesting, big integers, cut and trailing text): the simdjson path and the tree agree on every one.
std::string random_chat_answer(rng& r) {
  auto pick = [&](std::initializer_list<const char*> options) {
    return std::string(options.begin()[r.below(options.size())]);
  };
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    switch (r.below(depth > 0 ? 9 : 6)) {
      case 0: return pick({"null", "true", "1", "123456789012345678901234", "-0"});
      case 1: return pick({R"("stop")", R"("")", R"("caf\u00e9 \"x\"\n")", R"("end_turn")", R"("text")"});
      case 2: return pick({R"("chatcmpl-1")", R"("msg_2")", R"("\ud83d\ude00")"});
      case 3: return pick({"[]", "{}"});
      case 4: return pick({R"([{"message":{"content":"hi"},"finish_reason":"stop"}])", R"([{"type":"text","text":"hi"}])",
                           R"([{"content":{"parts":[{"text":"hi"},{"text":1}]},"finishReason":"STOP"}])"});
      case 5: return pick({R"({"content":"a","content":"b"})", R"([[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]])"});
      case 6:
      case 7: {
        std::string o = "{";
        for (std::uint64_t i = r.below(4); i > 0; --i) {
          o += (o.size() > 1 ? "," : "");
          o += pick({R"("message")", R"("content")", R"("finish_reason")", R"("type")", R"("text")", R"("role")",
                     R"("parts")", R"("finishReason")"});
          o += ":" + value(depth - 1);
        }
        return o + "}";
      }
      default: {
        std::string a = "[";
        for (std::uint64_t i = r.below(3); i > 0; --i) a += (a.size() > 1 ? "," : "") + value(depth - 1);
        return a + "]";
      }
    }
  };
  std::string body = "{";
  for (std::uint64_t i = 1 + r.below(5); i > 0; --i) {
    body += (body.size() > 1 ? "," : "");
    const std::string key = pick({R"("id")", R"("choices")", R"("content")", R"("stop_reason")", R"("usage")",
                                  R"("candidates")", R"("responseId")"});
    body += key + ":";
    // Half the lists are well formed, so that many answers carry text.
    if ((key == R"("choices")" || key == R"("content")" || key == R"("candidates")") && r.uniform() < 0.5) {
      body += key == R"("choices")"      ? R"([{"message":{"content":"hi \u00e9"},"finish_reason":"length"}])"
              : key == R"("candidates")" ? R"([{"content":{"parts":[{"text":"a"},{"functionCall":{}},{"text":"b"}]},"finishReason":"MAX_TOKENS"}])"
                                         : R"([{"type":"text","text":"a"},{"type":"tool_use"},{"type":"text","text":"b"}])";
    } else {
      body += value(3);
    }
  }
  body += "}";
  if (r.uniform() < 0.05) body.resize(r.below(body.size()));
  if (r.uniform() < 0.03) body += pick({" x", "\n", "}"});
  return body;
}

std::string describe(bool ok, const answer_payload& a) {
  return std::to_string(ok) + "|" + a.text + "|" + a.finish_reason + "|" + a.response_id;
}

TEST(wire_payload, gemini_body_lifts_system_messages_and_names_the_model_role) {
  const payload_ptr p = make_chat_payload(
      {{"system", "Be brief."}, {"user", "Why?"}, {"assistant", "Rayleigh."}, {"system", "Really."}, {"user", "é?"}}, 64, 0.5);
  const njson body = njson::parse(encode_payload_request(api_kind::gemini, "gemini-2.0-flash", *p, 4096, true));
  EXPECT_FALSE(body.contains("model")) << "the model is in the path";
  EXPECT_FALSE(body.contains("stream"));
  EXPECT_EQ(body["systemInstruction"]["parts"][0]["text"], "Be brief.\n\nReally.");
  ASSERT_EQ(body["contents"].size(), 3U);
  EXPECT_EQ(body["contents"][0], (njson{{"role", "user"}, {"parts", {{{"text", "Why?"}}}}}));
  EXPECT_EQ(body["contents"][1]["role"], "model");
  EXPECT_EQ(body["contents"][2]["parts"][0]["text"], "é?");
  EXPECT_EQ(body["generationConfig"]["maxOutputTokens"], 64);
  EXPECT_DOUBLE_EQ(body["generationConfig"]["temperature"].get<double>(), 0.5);
  const njson bare = njson::parse(encode_payload_request(api_kind::gemini, "g", *make_chat_payload({{"user", "hi"}}), 4096, false));
  EXPECT_FALSE(bare.contains("generationConfig")) << "no limit sent when the caller names none";
  EXPECT_FALSE(bare.contains("systemInstruction"));

  answer_payload a;
  ASSERT_TRUE(read_answer_text(api_kind::gemini, R"({"candidates":[{"content":{"parts":[{"text":"Hel"},{"text":"lo"}],
      "role":"model"},"finishReason":"MAX_TOKENS"}],"usageMetadata":{},"responseId":"r1"})", a));
  EXPECT_EQ(a.text, "Hello");
  EXPECT_EQ(a.finish_reason, "MAX_TOKENS");
  EXPECT_EQ(a.response_id, "r1");
  answer_payload e;
  read_error_text(R"({"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}})", e);
  EXPECT_EQ(e.error_type, "RESOURCE_EXHAUSTED");
  EXPECT_EQ(e.error_message, "Resource has been exhausted");
}

TEST(wire_payload, the_fast_answer_reader_agrees_with_the_tree_on_random_answers) {
  rng r(20261207);
  int read = 0;
  for (int i = 0; i < 10'000; ++i) {
    const std::string body = random_chat_answer(r);
    for (const api_kind api : {api_kind::openai, api_kind::anthropic, api_kind::gemini}) {
      answer_payload fast, tree;
      const bool fast_ok = read_answer_text(api, body, fast);
      const bool tree_ok = read_answer_text_by_tree_rules(api, body, tree);
      ASSERT_EQ(describe(fast_ok, fast), describe(tree_ok, tree)) << body;
      read += tree_ok && !tree.text.empty() ? 1 : 0;
    }
  }
  EXPECT_GT(read, 1'000) << "too few answers with text for the comparison to mean much";
}

}  // namespace
}  // namespace squall
