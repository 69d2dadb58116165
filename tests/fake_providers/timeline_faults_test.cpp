// The fault timeline's issue-16 additions on the wire: what a real HTTP request sees of named error
// kinds, content faults, the handshake outage, scoped windows, first_n and attempts. Real servers on
// loopback port 0, a real HTTP client.
#include <gtest/gtest.h>

#include "fake_providers/fake_server.hpp"
#include "policies/core/classify.hpp"
#include "sim/provider/provider_model.hpp"
#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

using nlohmann::json;
using testing::anthropic_config;
using testing::client;
using testing::openai_config;
using testing::parse_sse;
using testing::reply;
using testing::running;

json chat_body(bool stream = false) {
  json b = {{"model", "gpt-4o-mini"}, {"messages", json::array({{{"role", "user"}, {"content", "one two"}}})},
            {"max_tokens", 100}};
  if (stream) b["stream"] = true;
  return b;
}

json message_body(bool stream = false) {
  json b = {{"model", "claude-sonnet-4"}, {"messages", json::array({{{"role", "user"}, {"content", "a b"}}})},
            {"max_tokens", 100}};
  if (stream) b["stream"] = true;
  return b;
}

sim::provider_config with(sim::provider_config c, sim::fault_window w) {
  w.at_s = 0;
  w.for_s = 600;
  c.faults = {w};
  return c;
}

// What squall's HTTP transport reads as the error type (policies/http/wire.cpp error_type_of).
std::string classified_type(const json& body) {
  const json& e = body["error"];
  if (e.contains("code") && e["code"] == "insufficient_quota") return "insufficient_quota";
  return e["type"].get<std::string>();
}

TEST(TimelineFaults, NamedErrorKindsAreWrittenSoTheClassifierAgreesWithTheSimulation) {
  for (const bool anthropic : {false, true}) {
    for (std::size_t k = 0; k < sim::error_kinds.size(); ++k) {
      const auto kind = static_cast<sim::error_kind>(k + 1);
      const sim::error_kind_info& info = sim::error_kinds[k];
      sim::fault_window w;
      w.errors = {sim::injected_error{info.status, 1.0, kind}};
      const sim::provider_config cfg = with(anthropic ? anthropic_config() : openai_config(), w);
      running r({cfg});
      client c(r.port());
      const reply rep = anthropic ? c.post("/v1/messages", message_body()) : c.post("/v1/chat/completions", chat_body());
      SCOPED_TRACE(std::string(anthropic ? "anthropic " : "openai ") + std::string(info.name));
      ASSERT_EQ(rep.status, info.status);
      const json b = rep.json();
      EXPECT_EQ(b["error"]["message"], info.message);
      // The simulation's class for this kind, from the same model, is the classifier's for this body.
      sim::provider_model model(cfg);
      squall::request req;
      req.model = anthropic ? "claude-sonnet-4" : "gpt-4o-mini";
      sim::attempt_draws draws;
      draws.error_u = 0.0;  // the window's mix has probability 1: any draw below it picks the kind
      const sim::admission a = model.admit(time_point{}, req, draws);
      EXPECT_EQ(classify_http(rep.status, classified_type(b)), a.cls) << b.dump();
    }
  }
}

TEST(TimelineFaults, Anthropics500OverloadedAndTemporaryLimitHaveTheirExactShape) {
  sim::fault_window w;
  w.errors = {sim::injected_error{500, 1.0, sim::error_kind::overloaded_500}};
  running r({with(anthropic_config(), w)});
  client c(r.port());
  const json b = c.post("/v1/messages", message_body()).json();
  EXPECT_EQ(b["type"], "error");
  EXPECT_EQ(b["error"]["type"], "api_error");
  EXPECT_EQ(b["error"]["message"], "Overloaded");

  sim::fault_window q;
  q.errors = {sim::injected_error{429, 1.0, sim::error_kind::insufficient_quota}};
  running o({with(openai_config(), q)});
  client oc(o.port());
  const json e = oc.post("/v1/chat/completions", chat_body()).json()["error"];
  EXPECT_EQ(e["type"], "insufficient_quota");
  EXPECT_EQ(e["code"], "insufficient_quota");
}

TEST(TimelineFaults, ContentFaultsAreTwoHundredsWithBadContent) {
  auto answer = [](double sim::content_mix::*which, bool stream) {
    sim::fault_window w;
    w.content.*which = 1.0;
    running r({with(openai_config(), w)});
    client c(r.port());
    return c.post("/v1/chat/completions", chat_body(stream), {{"x-squall-output-tokens", "20"}});
  };
  const reply empty = answer(&sim::content_mix::empty, false);
  ASSERT_EQ(empty.status, 200);
  EXPECT_EQ(empty.json()["choices"][0]["message"]["content"], "");
  EXPECT_EQ(empty.json()["usage"]["completion_tokens"], 20) << "billed all the same";

  const reply cut = answer(&sim::content_mix::truncated, false);
  ASSERT_EQ(cut.status, 200);
  EXPECT_EQ(cut.json()["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(cut.json()["usage"]["completion_tokens"], 10) << "half the answer, as in the simulation";

  const reply bad = answer(&sim::content_mix::invalid_json, false);
  ASSERT_EQ(bad.status, 200);
  const std::string text = bad.json()["choices"][0]["message"]["content"];
  EXPECT_EQ(text.rfind("{\"answer\": \"", 0), 0U) << text;
  EXPECT_TRUE(json::parse(text, nullptr, false).is_discarded()) << text;

  const reply empty_stream = answer(&sim::content_mix::empty, true);
  ASSERT_EQ(empty_stream.status, 200);
  std::string streamed;
  for (const auto& e : parse_sse(empty_stream.body)) {
    if (e.data == "[DONE]") continue;
    const json chunk = json::parse(e.data);
    if (!chunk["choices"].empty() && chunk["choices"][0]["delta"].contains("content")) {
      streamed += chunk["choices"][0]["delta"]["content"].get<std::string>();
    }
  }
  EXPECT_EQ(streamed, "");
}

TEST(TimelineFaults, AHandshakeOutageAnswersPlainHttpWithAnHttp2FrameAndCloses) {
  sim::fault_window w;
  w.outage = sim::outage_kind::handshake;
  running r({with(openai_config(), w)});
  client c(r.port());
  boost::system::error_code ec;
  const std::string got = c.raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", ec);
  EXPECT_EQ(got, std::string("\0\0\0\x04\0\0\0\0\0", 9)) << "an empty HTTP/2 SETTINGS frame, then the close";
  client after(r.port());
  EXPECT_EQ(after.post("/v1/chat/completions", chat_body()).status, 0) << "no HTTP answer for any connection";
}

TEST(TimelineFaults, ScopedWindowsFirstNAndAttemptsChooseTheirAttempts) {
  sim::fault_window embeddings_only;
  embeddings_only.errors = {{503, 1.0}};
  embeddings_only.endpoints = {sim::endpoint_kind::embeddings};
  running r({with(openai_config(), embeddings_only)});
  client c(r.port());
  EXPECT_EQ(c.post("/v1/chat/completions", chat_body()).status, 200);
  EXPECT_EQ(c.post("/v1/embeddings", json{{"model", "text-embedding-3-small"}, {"input", "a b"}}).status, 503);

  sim::fault_window first_two;
  first_two.errors = {{429, 1.0}};
  first_two.first_n = 2;
  running f({with(openai_config(), first_two)});
  client fc(f.port());
  EXPECT_EQ(fc.post("/v1/chat/completions", chat_body()).status, 429);
  EXPECT_EQ(fc.post("/v1/chat/completions", chat_body()).status, 429);
  EXPECT_EQ(fc.post("/v1/chat/completions", chat_body()).status, 200);

  sim::fault_window first_attempt;
  first_attempt.errors = {sim::injected_error{429, 1.0, sim::error_kind::rate_limit_account}};
  first_attempt.attempts = 1;
  running a({with(openai_config(), first_attempt)});
  client ac(a.port());
  EXPECT_EQ(ac.post("/v1/chat/completions", chat_body(), {{"x-squall-request-id", "7"}, {"x-squall-attempt", "1"}}).status, 429);
  EXPECT_EQ(ac.post("/v1/chat/completions", chat_body(), {{"x-squall-request-id", "7"}, {"x-squall-attempt", "2"}}).status, 200);
  // Without the header the server counts the attempts of each request id itself.
  EXPECT_EQ(ac.post("/v1/chat/completions", chat_body(), {{"x-squall-request-id", "8"}}).status, 429);
  EXPECT_EQ(ac.post("/v1/chat/completions", chat_body(), {{"x-squall-request-id", "8"}}).status, 200);
}

}  // namespace
}  // namespace squall::fake
