// The wire formats without a network: URLs, prompt text, request bodies, answers, errors and SSE.

#include "policies/http/wire.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "policies/core/rng.hpp"

#include "policies/http/url.hpp"

namespace squall {
namespace {

TEST(http_url, parses_host_port_and_path) {
  auto u = parse_http_url("http://127.0.0.1:8080/v1/");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->path, "/v1");
  auto v6 = parse_http_url("http://[::1]:9");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->path, "");
  auto plain = parse_http_url("http://localhost");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->port, "80");
  EXPECT_FALSE(plain->tls);
}

TEST(http_url, https_is_tls_on_port_443_unless_named) {
  auto u = parse_http_url("https://api.openai.com/v1");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "api.openai.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->path, "/v1");
  auto local = parse_http_url("https://[::1]:8443");
  ASSERT_TRUE(local);
  EXPECT_TRUE(local->tls);
  EXPECT_EQ(local->host, "::1");
  EXPECT_EQ(local->port, "8443");
}

TEST(http_url, refuses_what_it_cannot_speak_and_says_why) {
  EXPECT_NE(parse_http_url("ftp://api.openai.com/v1").error().message.find("expected http://"), std::string::npos);
  EXPECT_NE(parse_http_url("https:/h").error().message.find("expected http://"), std::string::npos);
  EXPECT_NE(parse_http_url("127.0.0.1:80").error().message.find("expected http://"), std::string::npos);
  EXPECT_NE(parse_http_url("http://:80").error().message.find("host is missing"), std::string::npos);
  EXPECT_NE(parse_http_url("http://h:99999").error().message.find("at most 65535"), std::string::npos);
  EXPECT_NE(parse_http_url("http://h:").error().message.find("port is empty"), std::string::npos);
  EXPECT_NE(parse_http_url("http://h/v1#x").error().message.find("no fragment"), std::string::npos);
  // A query is kept (Azure OpenAI's api-version; see http_transport_options_test.cpp), but not one that
  // would break the request line.
  EXPECT_NE(parse_http_url("http://h/v1?x=1 2").error().message.find("query holds"), std::string::npos);
}

TEST(http_url, loopback_means_127_slash_8_ipv6_one_and_localhost_only) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.255.3.4"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
  EXPECT_FALSE(is_loopback_host("192.168.1.1"));
  EXPECT_FALSE(is_loopback_host("128.0.0.1"));
  EXPECT_FALSE(is_loopback_host("api.openai.com"));
  EXPECT_FALSE(is_loopback_host("localhost.example.com"));
}

TEST(wire, prompt_text_has_one_word_per_token_and_is_deterministic) {
  const std::string a = prompt_text(500, 7);
  EXPECT_EQ(std::count(a.begin(), a.end(), ' '), 499);
  EXPECT_EQ(a, prompt_text(500, 7));
  EXPECT_NE(a, prompt_text(500, 8));
  EXPECT_EQ(prompt_text(0, 1).find(' '), std::string::npos) << "never an empty message";
}

TEST(wire, openai_and_anthropic_request_bodies) {
  const auto o = nlohmann::json::parse(encode_request(api_kind::openai, "gpt-4o-mini", 10, 20, true, 3));
  EXPECT_EQ(o["model"], "gpt-4o-mini");
  EXPECT_EQ(o["max_tokens"], 20);
  EXPECT_EQ(o["stream"], true);
  EXPECT_EQ(o["stream_options"]["include_usage"], true);
  EXPECT_EQ(o["messages"][0]["role"], "user");
  const auto a = nlohmann::json::parse(encode_request(api_kind::anthropic, "claude-3-5-haiku", 10, 0, false, 3));
  EXPECT_EQ(a["max_tokens"], 1) << "both APIs require max_tokens >= 1";
  EXPECT_EQ(a["stream"], false);
  EXPECT_FALSE(a.contains("stream_options"));
  EXPECT_EQ(request_path(api_kind::openai), "/chat/completions");
  EXPECT_EQ(request_path(api_kind::anthropic), "/messages");
}

TEST(wire, decodes_answers_and_refuses_malformed_ones) {
  auto o = decode_answer(api_kind::openai,
                         R"({"id":"x","model":"gpt-4o-mini","choices":[{"message":{"content":"hi"}}],
                             "usage":{"prompt_tokens":12,"completion_tokens":34}})");
  EXPECT_TRUE(o.valid);
  EXPECT_EQ(o.input_tokens, 12U);
  EXPECT_EQ(o.output_tokens, 34U);
  auto a = decode_answer(api_kind::anthropic, R"({"content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":5,"output_tokens":6}})");
  EXPECT_TRUE(a.valid);
  EXPECT_EQ(a.output_tokens, 6U);
  EXPECT_FALSE(decode_answer(api_kind::openai, R"({"choices":[{"mess)").valid);
  EXPECT_FALSE(decode_answer(api_kind::openai, R"({"content":[]})").valid) << "an Anthropic body to an OpenAI call";
  EXPECT_FALSE(decode_answer(api_kind::anthropic, "[]").valid);
}

// decode_answer reads without building a tree; these are the tree's rules it must keep.
TEST(wire, answers_are_read_by_the_rules_of_a_json_tree) {
  // Keys of the same name deeper down do not count; the top level's do.
  auto nested = decode_answer(api_kind::openai, R"({"choices":[{"usage":{"prompt_tokens":1},"model":"inner"}],
      "meta":{"usage":{"prompt_tokens":2}},"model":"outer","usage":{"prompt_tokens":3,"x":{"completion_tokens":9}}})");
  EXPECT_TRUE(nested.valid);
  EXPECT_EQ(nested.model, "outer");
  EXPECT_EQ(nested.input_tokens, 3U);
  EXPECT_EQ(nested.output_tokens, std::nullopt);
  // A repeated key counts with its last value, as in a tree.
  auto repeated = decode_answer(api_kind::openai, R"({"choices":{},"usage":{"prompt_tokens":1},"choices":[],
      "usage":{"completion_tokens":2}})");
  EXPECT_TRUE(repeated.valid);
  EXPECT_EQ(repeated.input_tokens, std::nullopt);
  EXPECT_EQ(repeated.output_tokens, 2U);
  EXPECT_FALSE(decode_answer(api_kind::openai, R"({"choices":[],"choices":"no"})").valid);
  // Counts must be unsigned integers that fit 32 bits; the model a string.
  auto odd = decode_answer(api_kind::anthropic, R"({"content":[],"model":7,"usage":{"input_tokens":-1,
      "output_tokens":4294967296}})");
  EXPECT_TRUE(odd.valid);
  EXPECT_EQ(odd.model, "");
  EXPECT_EQ(odd.input_tokens, std::nullopt);
  EXPECT_EQ(odd.output_tokens, std::nullopt);
  EXPECT_EQ(decode_answer(api_kind::anthropic, R"({"content":[],"usage":{"output_tokens":4294967295}})").output_tokens,
            4294967295U);
  // Not JSON, not an object, trailing bytes: invalid, and nothing half-read is returned.
  for (const char* bad : {R"({"choices":[]} x)", R"("choices")", ""}) {
    const auto d = decode_answer(api_kind::openai, bad);
    EXPECT_FALSE(d.valid) << bad;
    EXPECT_FALSE(d.object) << bad;
    EXPECT_EQ(d.model, "") << bad;
    EXPECT_EQ(d.input_tokens, std::nullopt) << bad;
  }
  // An object without the chat list (an embeddings answer): not a chat answer, but an object whose usage
  // a raw call to that endpoint bills by.
  const auto embeddings = decode_answer(api_kind::openai, R"({"data":[],"model":"m","usage":{"prompt_tokens":1}})");
  EXPECT_FALSE(embeddings.valid);
  EXPECT_TRUE(embeddings.object);
  EXPECT_EQ(embeddings.model, "m");
  EXPECT_EQ(embeddings.input_tokens, 1U);
}

// The rules spelled out on an nlohmann tree, which keeps a repeated key's last value.
decoded_answer decode_with_a_tree(api_kind api, std::string_view body) {
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return {};
  const bool gemini = api == api_kind::gemini;
  const auto list = doc.find(gemini ? "candidates" : api == api_kind::openai ? "choices" : "content");
  decoded_answer d;
  d.object = true;
  d.valid = list != doc.end() && list->is_array();
  if (const auto m = doc.find(gemini ? "modelVersion" : "model"); m != doc.end() && m->is_string()) {
    d.model = m->get<std::string>();
  }
  auto count = [](const nlohmann::json& usage, const char* key) -> std::optional<std::uint32_t> {
    const auto v = usage.find(key);
    // A non-negative integer that fits 32 bits ("-0" is one, though nlohmann keeps it as signed).
    if (v == usage.end() || !v->is_number_integer() || (!v->is_number_unsigned() && v->get<std::int64_t>() != 0) ||
        v->get<std::uint64_t>() > 4294967295U) {
      return std::nullopt;
    }
    return static_cast<std::uint32_t>(v->get<std::uint64_t>());
  };
  if (const auto u = doc.find(gemini ? "usageMetadata" : "usage"); u != doc.end() && u->is_object()) {
    d.input_tokens = count(*u, gemini ? "promptTokenCount" : api == api_kind::openai ? "prompt_tokens" : "input_tokens");
    d.output_tokens =
        count(*u, gemini ? "candidatesTokenCount" : api == api_kind::openai ? "completion_tokens" : "output_tokens");
  }
  return d;
}

std::string describe(const decoded_answer& d) {
  auto n = [](const std::optional<std::uint32_t>& v) { return v ? std::to_string(*v) : std::string("none"); };
  return "valid=" + std::to_string(d.valid) + " object=" + std::to_string(d.object) + " model=" + d.model + " in=" + n(d.input_tokens) +
         " out=" + n(d.output_tokens);
}

// Random answers, mostly answer-shaped: the keys both readers look at, values of every type (integers
// beyond 64 bits and 32 bits, negative, fractional), repeated keys, and now and then a cut or a tail.
std::string random_answer(rng& r) {
  auto chance = [&](double p) { return r.uniform() < p; };
  auto pick = [&](std::initializer_list<const char*> options) {
    return std::string(options.begin()[r.below(options.size())]);
  };
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    switch (r.below(depth > 0 ? 8 : 6)) {
      case 0: return pick({"null", "true", "false"});
      case 1: return pick({"0", "7", "4294967295", "4294967296", "18446744073709551615", "123456789012345678901234"});
      case 2: return pick({"-1", "2.5", "1e3", "-0"});
      case 3: return pick({R"("gpt-4o")", R"("")", R"("\u00e9\n")", R"("x y")"});
      case 4: return pick({"[]", "{}"});
      case 5: return pick({R"([{"message":{"content":"hi"}}])", R"([{"type":"text","text":"hi"}])"});
      case 6: {
        std::string o = "{";
        for (std::uint64_t i = r.below(4); i > 0; --i) {
          o += (o.size() > 1 ? "," : "");
          o += pick({R"("prompt_tokens")", R"("completion_tokens")", R"("input_tokens")", R"("output_tokens")",
                     R"("promptTokenCount")", R"("candidatesTokenCount")", R"("x")"});
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
  for (std::uint64_t i = 1 + r.below(6); i > 0; --i) {
    body += (body.size() > 1 ? "," : "");
    body += pick({R"("model")", R"("choices")", R"("content")", R"("usage")", R"("id")", R"("modelVersion")",
                  R"("candidates")", R"("usageMetadata")"});
    body += ":" + value(2);
  }
  body += "}";
  if (chance(0.05)) body.resize(r.below(body.size()));
  if (chance(0.03)) body += pick({" x", "\n", "}", " "});
  return body;
}

TEST(wire, both_answer_readers_follow_the_trees_rules_on_random_answers) {
  rng r(20261124);
  int valid = 0;
  for (int i = 0; i < 20'000; ++i) {
    const std::string body = random_answer(r);
    for (const api_kind api : {api_kind::openai, api_kind::anthropic, api_kind::gemini}) {
      const decoded_answer expected = decode_with_a_tree(api, body);
      const decoded_answer fast = decode_answer(api, body);
      const decoded_answer sax = decode_answer_by_tree_rules(api, body);
      ASSERT_EQ(describe(fast), describe(expected)) << body;
      ASSERT_EQ(describe(sax), describe(expected)) << body;
      valid += expected.valid ? 1 : 0;
    }
  }
  EXPECT_GT(valid, 5'000) << "too few valid answers for the comparison to mean much";
}

TEST(wire, request_bodies_are_exact_and_escape_the_model_name) {
  const std::string prompt = prompt_text(3, 5);
  EXPECT_EQ(encode_request(api_kind::openai, "m\"x", 3, 7, false, 5),
            R"({"model":"m\"x","messages":[{"role":"user","content":")" + prompt +
                R"("}],"max_tokens":7,"stream":false})");
  EXPECT_EQ(encode_request(api_kind::anthropic, "c", 3, 7, true, 5),
            R"({"model":"c","max_tokens":7,"messages":[{"role":"user","content":")" + prompt +
                R"("}],"stream":true})");
}

TEST(wire, error_types_from_both_shapes) {
  EXPECT_EQ(decode_error_type(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"),
            "overloaded_error");
  EXPECT_EQ(decode_error_type(R"({"error":{"message":"x","type":"requests","code":"rate_limit_exceeded"}})"), "requests");
  EXPECT_EQ(decode_error_type(R"({"error":{"message":"x","type":"invalid_request_error","code":"insufficient_quota"}})"),
            "insufficient_quota") << "OpenAI's quota code wins over its type";
  EXPECT_EQ(decode_error_type("<html>bad gateway</html>"), "");
  EXPECT_EQ(status_for_error_type("overloaded_error"), 529);
  EXPECT_EQ(status_for_error_type("rate_limit_error"), 429);
  EXPECT_EQ(status_for_error_type("something_new"), 500);
}

TEST(wire, gemini_request_paths_and_bodies) {
  EXPECT_EQ(to_string(api_kind::gemini), "gemini");
  EXPECT_EQ(api_kind_from_string("gemini"), api_kind::gemini);
  EXPECT_EQ(gemini_request_path("gemini-2.0-flash", false), "/v1beta/models/gemini-2.0-flash:generateContent");
  EXPECT_EQ(gemini_request_path("gemini-2.0-flash", true), "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse");
  EXPECT_EQ(gemini_request_path("a b/c?", false), "/v1beta/models/a%20b%2Fc%3F:generateContent")
      << "a model name cannot leave its path segment";
  const std::string prompt = prompt_text(3, 5);
  EXPECT_EQ(encode_request(api_kind::gemini, "ignored", 3, 7, true, 5),
            R"({"contents":[{"role":"user","parts":[{"text":")" + prompt +
                R"("}]}],"generationConfig":{"maxOutputTokens":7}})");
}

TEST(wire, gemini_answers_errors_and_retry_delays) {
  const auto a = decode_answer(api_kind::gemini, R"({"candidates":[{"content":{"parts":[{"text":"hi"}],"role":"model"},
      "finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":5,"totalTokenCount":8},
      "modelVersion":"gemini-2.0-flash","responseId":"r1"})");
  EXPECT_TRUE(a.valid);
  EXPECT_EQ(a.model, "gemini-2.0-flash");
  EXPECT_EQ(a.input_tokens, 3U);
  EXPECT_EQ(a.output_tokens, 5U);
  EXPECT_FALSE(decode_answer(api_kind::gemini, R"({"choices":[]})").valid);

  const std::string exhausted = R"({"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED",
      "details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[]},
                 {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"43.5s"}]}})";
  EXPECT_EQ(decode_error_type(exhausted), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(decode_retry_delay_s(exhausted), 43.5);
  EXPECT_EQ(decode_retry_delay_s(R"({"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2s"}]}})"), 2.0);
  for (const char* none : {R"({"error":{"code":503,"status":"UNAVAILABLE"}})",
                           R"({"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"soon"}]}})",
                           R"({"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"-1s"}]}})",
                           "not json"}) {
    EXPECT_EQ(decode_retry_delay_s(none), std::nullopt) << none;
  }
  EXPECT_EQ(status_for_error_type("RESOURCE_EXHAUSTED"), 429);
  EXPECT_EQ(status_for_error_type("UNAVAILABLE"), 503);
  EXPECT_EQ(status_for_error_type("INTERNAL"), 500);
  EXPECT_EQ(status_for_error_type("INVALID_ARGUMENT"), 400);
  EXPECT_EQ(status_for_error_type("NOT_FOUND"), 404);
  EXPECT_EQ(status_for_error_type("PERMISSION_DENIED"), 403);
  EXPECT_EQ(status_for_error_type("UNAUTHENTICATED"), 401);
}

TEST(stream_decoder, gemini_responses_end_with_a_finish_reason_and_errors_carry_a_status) {
  stream_decoder d(api_kind::gemini, true);
  EXPECT_TRUE(d.on_event({"", R"({"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],
      "usageMetadata":{"promptTokenCount":4,"totalTokenCount":4},"modelVersion":"g","responseId":"r9"})"}));
  EXPECT_TRUE(d.saw_content());
  EXPECT_FALSE(d.done()) << "no finishReason yet";
  EXPECT_TRUE(d.on_event({"", R"({"candidates":[{"content":{"parts":[{"text":"lo"}],"role":"model"},"finishReason":"MAX_TOKENS",
      "index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2,"totalTokenCount":6},"modelVersion":"g"})"}));
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.text(), "Hello");
  EXPECT_EQ(d.finish_reason(), "MAX_TOKENS");
  EXPECT_EQ(d.response_id(), "r9");
  EXPECT_EQ(d.model(), "g");
  EXPECT_EQ(d.input_tokens(), 4U);
  EXPECT_EQ(d.output_tokens(), 2U);
  EXPECT_FALSE(d.on_event({"", R"({"candidates":[{"content":{"parts":[{"text":" tru)"}));
  EXPECT_FALSE(d.on_event({"", R"({"something":"else"})"}));

  stream_decoder e(api_kind::gemini, true);
  EXPECT_TRUE(e.on_event({"", R"({"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}})"}));
  EXPECT_TRUE(e.errored());
  EXPECT_EQ(e.error_type(), "UNAVAILABLE");
  EXPECT_EQ(e.error_message(), "The model is overloaded.");
}

TEST(sse_reader, splits_events_across_arbitrary_feeds_and_line_endings) {
  const std::string stream =
      ": keep-alive\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\nevent: ping\ndata: {}\n\ndata: line1\rdata: line2\r\r";
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    sse_reader r;
    ASSERT_TRUE(r.feed(stream.substr(0, cut)));
    std::vector<sse_reader::event> got;
    while (auto e = r.next()) got.push_back(*e);
    ASSERT_TRUE(r.feed(stream.substr(cut)));
    while (auto e = r.next()) got.push_back(*e);
    ASSERT_EQ(got.size(), 3U) << "cut at " << cut;
    EXPECT_EQ(got[0].name, "message_start");
    EXPECT_EQ(got[0].data, "{\"a\":1}");
    EXPECT_EQ(got[1].name, "ping");
    EXPECT_EQ(got[2].name, "");
    EXPECT_EQ(got[2].data, "line1\nline2");
  }
}

TEST(sse_reader, a_line_without_end_is_bounded) {
  sse_reader r(64);
  EXPECT_FALSE(r.feed("data: " + std::string(100, 'x')));
  EXPECT_FALSE(r.feed("\n\n")) << "stays failed";
}

TEST(stream_decoder, openai_content_usage_and_done) {
  stream_decoder d(api_kind::openai);
  EXPECT_TRUE(d.on_event({"", R"({"model":"m","choices":[{"delta":{"role":"assistant","content":""}}]})"}));
  EXPECT_FALSE(d.saw_content()) << "an empty first delta is not a token";
  EXPECT_TRUE(d.on_event({"", R"({"choices":[{"delta":{"content":"Hi"}}]})"}));
  EXPECT_TRUE(d.saw_content());
  EXPECT_TRUE(d.on_event({"", R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}})"}));
  EXPECT_FALSE(d.done());
  EXPECT_TRUE(d.on_event({"", "[DONE]"}));
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.input_tokens(), 3U);
  EXPECT_EQ(d.output_tokens(), 4U);
  EXPECT_EQ(d.model(), "m");
  EXPECT_FALSE(d.on_event({"", "{not json"}));
}

TEST(stream_decoder, anthropic_events_and_error_event) {
  stream_decoder d(api_kind::anthropic);
  EXPECT_TRUE(d.on_event({"message_start", R"({"type":"message_start","message":{"model":"c","usage":{"input_tokens":9,"output_tokens":1}}})"}));
  EXPECT_TRUE(d.on_event({"ping", R"({"type": "ping"})"}));
  EXPECT_TRUE(d.on_event({"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})"}));
  EXPECT_TRUE(d.saw_content());
  EXPECT_TRUE(d.on_event({"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}})"}));
  EXPECT_TRUE(d.on_event({"message_stop", R"({"type":"message_stop"})"}));
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.input_tokens(), 9U);
  EXPECT_EQ(d.output_tokens(), 15U);

  stream_decoder e(api_kind::anthropic);
  EXPECT_TRUE(e.on_event({"error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"}));
  EXPECT_TRUE(e.errored());
  EXPECT_EQ(e.error_type(), "overloaded_error");
}

}  // namespace
}  // namespace squall
