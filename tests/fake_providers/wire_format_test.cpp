#include "fake_providers/wire_format.hpp"

#include <gtest/gtest.h>

#include <cstdint>

#include "fake_providers/fault_control.hpp"

namespace squall::fake {
namespace {

using nlohmann::json;

TEST(WireFormat, CountsWordsAsTokens) {
  EXPECT_EQ(count_words(""), 0U);
  EXPECT_EQ(count_words("  one\ttwo\nthree  "), 3U);
  const json messages = json::parse(R"([{"role":"system","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"a b c"},{"type":"image_url","image_url":{"url":"x y"}}]}])");
  EXPECT_EQ(count_prompt_tokens(messages), 5U);
}

TEST(WireFormat, GeneratesExactlyTheAskedWordsDeterministically) {
  rng a(3), b(3);
  const std::string text = generate_words(a, 17);
  EXPECT_EQ(count_words(text), 17U);
  EXPECT_EQ(text, generate_words(b, 17));
}

TEST(WireFormat, Base64OfFloats) {
  EXPECT_EQ(base64_floats({1.0f}), "AACAPw==");  // 0x3f800000 little-endian
  EXPECT_EQ(base64_floats({1.0f, 1.0f, 1.0f}).size(), 16U);
}

TEST(WireFormat, GoDurations) {
  EXPECT_EQ(go_duration(0.02), "20ms");
  EXPECT_EQ(go_duration(1.5), "1.5s");
  EXPECT_EQ(go_duration(360), "6m0s");
  EXPECT_EQ(go_duration(0), "0s");
}

TEST(WireFormat, ErrorBodiesHaveEachProvidersShape) {
  const json o = json::parse(error_body(api_style::openai, error_spec{400, "bad", "", "messages", std::nullopt}, ""));
  EXPECT_EQ(o, json::parse(R"({"error":{"message":"bad","type":"invalid_request_error","param":"messages","code":null}})"));
  const json a = json::parse(error_body(api_style::anthropic, error_spec{529, "", "", std::nullopt, std::nullopt}, "req_1"));
  EXPECT_EQ(a, json::parse(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"})"));
}

TEST(WireFormat, ErrorBodiesWithACutCharacterStillDumpInsteadOfThrowing) {
  // Issue 13: a message cut inside a multi-byte character made dump() throw type_error.316, which
  // aborted the server. The body carries U+FFFD in its place.
  const std::string cut = std::string(29, 'x') + "\xC3";
  for (const api_style api : {api_style::openai, api_style::anthropic}) {
    std::string body;
    ASSERT_NO_THROW(body = error_body(api, error_spec{400, cut, "", std::nullopt, std::nullopt}, "req_1"));
    const json parsed = json::parse(body);
    EXPECT_EQ(parsed["error"]["message"].get<std::string>(), std::string(29, 'x') + "\xEF\xBF\xBD");
  }
}

TEST(WireFormat, FloatArraysTakeTheShortestTextThatReadsBackAndStayWithinTheBound) {
  rng r(11);
  for (const std::uint32_t dims : {1U, 8U, 1536U, 3072U}) {
    std::string text;
    const std::vector<float> v = embedding_vector(r, dims);
    append_float_array(text, v);
    const json back = json::parse(text);
    ASSERT_EQ(back.size(), dims);
    for (std::uint32_t i = 0; i < dims; ++i) ASSERT_EQ(back[i].get<float>(), v[i]) << i;
    // The bound's share for one vector (the rest is the answer's frame and the item's keys).
    EXPECT_LE(text.size(), embeddings_answer_bytes_bound(1, dims, false) - 256 - 80);
  }
  std::string extremes;
  append_float_array(extremes, {-1.17549435e-38F, 3.40282347e+38F, -0.0F, 1e-45F});
  EXPECT_EQ(json::parse(extremes).size(), 4U);
  // 2,048 x 3,072 floats would be about 100 MB of text: the bound says so before anything is built.
  EXPECT_GT(embeddings_answer_bytes_bound(2048, 3072, false), std::size_t{64} << 20);
  EXPECT_EQ(embeddings_answer_bytes_bound(SIZE_MAX / 2, 3072, false), SIZE_MAX);
}

// The fake provider's embeddings are a function of the text: what a semantic cache needs to be tested
// through a real endpoint. Same text, same vector; a rewording close; another question far.
TEST(WireFormat, TextEmbeddingsAreUnitVectorsThatFollowTheText) {
  auto cosine = [](const std::vector<float>& a, const std::vector<float>& b) {
    double dot = 0;
    for (std::size_t i = 0; i < a.size(); ++i) dot += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    return dot;
  };
  for (const std::uint32_t dims : {8U, 256U, 512U, 1536U, 3072U}) {
    const auto france = text_embedding_vector("What is the capital of France?", dims);
    ASSERT_EQ(france.size(), dims);
    EXPECT_NEAR(cosine(france, france), 1.0, 1e-5) << dims;
    EXPECT_EQ(text_embedding_vector("what is the CAPITAL of france", dims), france) << "the same words";
    if (dims >= 512) {
      const double reworded = cosine(france, text_embedding_vector("What is the capital city of France?", dims));
      const double other = cosine(france, text_embedding_vector("Write a haiku about autumn leaves.", dims));
      EXPECT_GT(reworded, 0.8) << dims;
      EXPECT_LT(other, 0.4) << dims;
    }
  }
  const auto none = text_embedding_vector("?!", 4);
  EXPECT_EQ(none, text_embedding_vector("...", 4)) << "no letters: the dense part alone, the same for both";
  EXPECT_NEAR(cosine(none, none), 1.0, 1e-5);
  // Dense, as a real model's vectors: every component has digits.
  for (const float x : text_embedding_vector("a short text", 1536)) EXPECT_NE(x, 0.0f);
}

TEST(WireFormat, ResponseHeadsAndChunks) {
  EXPECT_EQ(response_head(200, {{"A", "b"}}, 5, true),
            "HTTP/1.1 200 OK\r\nA: b\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(response_head(529, {}, std::nullopt, false),
            "HTTP/1.1 529 Site Overloaded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(chunk("hello world12345"), "10\r\nhello world12345\r\n");
  EXPECT_EQ(chunk(""), "0\r\n\r\n");
  EXPECT_EQ(sse("ping", "{}"), "event: ping\ndata: {}\n\n");
}

sim::fault_window win(double at, double len, double latency_x) {
  sim::fault_window w;
  w.at_s = at;
  w.for_s = len;
  w.latency_x = latency_x;
  return w;
}

TEST(FaultControl, ArmedWindowsWinWhereTheyOverlapAndTheScenarioGoesOnAround) {
  fault_control f({win(10, 100, 2)}, 4);
  auto armed = f.arm(json{{"at_s", 10}, {"for_s", 20}, {"latency_x", 5}}, time_point{from_s(40)});
  ASSERT_TRUE(armed.ok()) << armed.error().describe();
  EXPECT_EQ((*armed)["at_s"], 50.0);
  const auto t = f.timeline();
  ASSERT_EQ(t.size(), 3U);
  EXPECT_EQ(t[0].at_s, 10);
  EXPECT_EQ(t[0].for_s, 40);
  EXPECT_EQ(t[1].latency_x, 5);
  EXPECT_EQ(t[2].at_s, 70);
  EXPECT_EQ(t[2].for_s, 40);
  EXPECT_EQ(fault_control::next_boundary_after(t, time_point{from_s(55)}), time_point{from_s(70)});
  EXPECT_EQ(f.clear(false), 1U);
  EXPECT_EQ(f.timeline().size(), 1U);
}

TEST(FaultControl, RejectsBadWindowsWithTheirPathAndBoundsTheArmedCount) {
  fault_control f({}, 1);
  auto bad = f.arm(json{{"for_s", 1}, {"outage", "explode"}}, time_point{});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().path, "$.outage");
  ASSERT_TRUE(f.arm(json{{"for_s", 100}, {"latency_x", 3}}, time_point{}).ok());
  auto full = f.arm(json{{"for_s", 100}, {"latency_x", 3}}, time_point{});
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.error().message.find("at most 1"), std::string::npos);
  // An expired window no longer counts.
  EXPECT_TRUE(f.arm(json{{"for_s", 100}, {"latency_x", 3}}, time_point{from_s(200)}).ok());
}

}  // namespace
}  // namespace squall::fake
