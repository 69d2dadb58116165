// Issue 13's cases against a real server on loopback: inputs that crashed it or ran it unbounded get a
// 400 (or a 500) in the provider's shape, and the server answers the next request as if nothing happened.
#include <gtest/gtest.h>

#include <boost/beast/http.hpp>
#include <new>
#include <string>

#include "fake_providers/fake_server.hpp"
#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

using nlohmann::json;
using testing::anthropic_config;
using testing::client;
using testing::openai_config;
using testing::reply;
using testing::running;

std::string nested_array(std::size_t depth) { return std::string(depth, '[') + "1" + std::string(depth, ']'); }

void expect_healthy(std::uint16_t port) {
  client c(port);
  EXPECT_EQ(c.get("/healthz").status, 200) << "the server stopped answering";
}

// The value of one sample of /metrics, or -1 when absent.
double metric(std::uint16_t port, const std::string& sample) {
  client c(port);
  const std::string text = c.get("/metrics").body;
  const std::size_t at = text.find(sample + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + sample.size() + 1));
}

TEST(FakeServerHostileInput, ControlApiOutageOfThirtyAccentedLettersIsA400NotAnAbort) {
  // The window parser cut its message inside a two-byte "é"; dumping it threw type_error.316, which
  // ended the server.
  running r({openai_config()});
  std::string outage;
  for (int i = 0; i < 30; ++i) outage += "\xC3\xA9";
  client c(r.port());
  const reply bad = c.post("/squall/faults", json{{"for_s", 30}, {"outage", outage}});
  ASSERT_EQ(bad.status, 400) << bad.body;
  const json body = json::parse(bad.body);  // valid JSON, valid UTF-8
  EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  EXPECT_EQ(body["error"]["path"], "$.outage");
  EXPECT_NE(body["error"]["message"].get<std::string>().find("outage"), std::string::npos) << bad.body;
  expect_healthy(r.port());
}

TEST(FakeServerHostileInput, DeepJsonInTheControlApiAndInAChatMessageIsA400NotAStackOverflow) {
  running r({openai_config(), anthropic_config()});
  client c(r.port(0));
  const reply control = c.post("/squall/faults", "{\"for_s\": 30, \"errors\": " + nested_array(100'000) + "}");
  ASSERT_EQ(control.status, 400) << control.body.substr(0, 300);
  EXPECT_EQ(control.json()["error"]["path"].get<std::string>().rfind("$.errors[0][0]", 0), 0U) << control.body;
  EXPECT_NE(control.json()["error"]["message"].get<std::string>().find("nested more than 64 deep"), std::string::npos);

  const std::string chat_body =
      R"({"model":"gpt-4o-mini","max_tokens":3,"messages":[{"role":"user","content":)" + nested_array(100'000) + "}]}";
  const reply chat = c.post("/v1/chat/completions", chat_body);
  ASSERT_EQ(chat.status, 400) << chat.body.substr(0, 300);
  EXPECT_EQ(chat.json()["error"]["type"], "invalid_request_error");
  EXPECT_NE(chat.json()["error"]["message"].get<std::string>().find("$.messages[0].content"), std::string::npos)
      << chat.body;

  client a(r.port(1));
  const std::string message_body = R"({"model":"claude-sonnet-4","max_tokens":3,"messages":[{"role":"user","content":)" +
                                   nested_array(100'000) + "}]}";
  const reply message = a.post("/v1/messages", message_body);
  ASSERT_EQ(message.status, 400) << message.body.substr(0, 300);
  EXPECT_EQ(message.json()["type"], "error");
  EXPECT_EQ(message.json()["error"]["type"], "invalid_request_error");
  expect_healthy(r.port(0));
  expect_healthy(r.port(1));
}

TEST(FakeServerHostileInput, EmbeddingsOverTheInputLimitGetOpenAIsError) {
  running r({openai_config()});
  client c(r.port());
  const reply over = c.post("/v1/embeddings", json{{"model", "text-embedding-3-small"},
                                                   {"input", json::array_t(2049, "w")}, {"dimensions", 8}});
  ASSERT_EQ(over.status, 400) << over.body;
  EXPECT_EQ(over.json(), json::parse(R"({"error":{"message":"Invalid 'input': array too long. Expected an array with )"
                                     R"(maximum length 2048, but got an array with length 2049 instead.","type":)"
                                     R"("invalid_request_error","param":"input","code":"array_above_max_length"}})"));
}

TEST(FakeServerHostileInput, AnEmbeddingsAnswerOverTheLimitIsA400BeforeItIsBuilt) {
  // 2,048 inputs of 3,072 dimensions: about 100 MB of JSON; it used to be built (peak memory several
  // times that) and then the connection was reset. Now a 400 says what and how to ask instead.
  running r({openai_config()});
  client c(r.port());
  const reply huge = c.post("/v1/embeddings", json{{"model", "text-embedding-3-small"},
                                                   {"input", json::array_t(2048, "w")}, {"dimensions", 3072}});
  ASSERT_EQ(huge.status, 400) << huge.body.substr(0, 300);
  EXPECT_EQ(huge.json()["error"]["type"], "invalid_request_error");
  EXPECT_EQ(huge.json()["error"]["param"], "input");
  const std::string message = huge.json()["error"]["message"];
  EXPECT_NE(message.find("2048 inputs of 3072 dimensions"), std::string::npos) << message;
  EXPECT_NE(message.find("at most 67108864 bytes"), std::string::npos) << message;
  EXPECT_NE(message.find("base64"), std::string::npos) << message;
  expect_healthy(r.port());
}

TEST(FakeServerHostileInput, AnEmbeddingsAnswerOverSixteenMebibytesArrivesWhole) {
  // 1,000 x 1,536 floats: about 17 MB of JSON, over the old 16 MiB outbox limit that reset the
  // connection; under the answer limit, so it arrives.
  running r({openai_config()});
  client c(r.port(), 60'000);
  const reply big = c.post("/v1/embeddings", json{{"model", "text-embedding-3-small"},
                                                  {"input", json::array_t(1000, "w")}, {"dimensions", 1536}});
  ASSERT_EQ(big.status, 200) << big.error.message() << " " << big.body.substr(0, 300);
  EXPECT_GT(big.body.size(), std::size_t{16} << 20);
  const json body = json::parse(big.body);
  ASSERT_EQ(body["data"].size(), 1000U);
  EXPECT_EQ(body["data"][999]["index"], 999);
  EXPECT_EQ(body["data"][999]["embedding"].size(), 1536U);
}

// A handler that throws: before, the exception left the I/O thread and std::terminate ended the server.
struct thrown_at {
  std::string where;
  int kind = 0;  // 0: bad_alloc, 1: an nlohmann type error, 2: a Beast system error
};

TEST(FakeServerHostileInput, AHandlerThatThrowsGetsA500InTheProvidersShapeAndTheServerServesOn) {
  for (const std::string where : {"request", "answer"}) {
    for (int kind = 0; kind < 3; ++kind) {
      SCOPED_TRACE(where + " " + std::to_string(kind));
      server_options o;
      // The hook runs on the server's I/O thread only; the test thread reads nothing it writes.
      o.fault_hook_for_tests = [where, kind](std::string_view at) {
        if (at != where) return;
        if (kind == 0) throw std::bad_alloc();
        if (kind == 1) (void)json("text").at("key");  // type_error.304
        throw boost::system::system_error(boost::beast::http::error::bad_target);
      };
      running r({openai_config(), anthropic_config()}, o);
      // The hook throws for every request routed ("request") or answered ("answer") on this server;
      // /healthz is routed too, so a server that stays up shows it by answering each with a 500.
      client c(r.port(0));
      const reply failed = c.post("/v1/chat/completions",
                                  json{{"model", "gpt-4o-mini"}, {"max_tokens", 2},
                                       {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}});
      ASSERT_EQ(failed.status, 500) << failed.body;
      EXPECT_EQ(failed.header("connection"), "close");
      EXPECT_EQ(failed.json()["error"]["type"], "server_error") << failed.body;
      client a(r.port(1));
      const reply anthropic = a.post("/v1/messages", json{{"model", "claude-sonnet-4"}, {"max_tokens", 2},
                                                          {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}});
      ASSERT_EQ(anthropic.status, 500) << anthropic.body;
      EXPECT_EQ(anthropic.json()["type"], "error");
      EXPECT_EQ(anthropic.json()["error"]["type"], "api_error") << anthropic.body;
      if (where == "answer") {
        // Nothing but AI answers goes through the hook: the server is up and counts what it caught.
        expect_healthy(r.port(0));
        EXPECT_EQ(metric(r.port(0), "squall_fake_internal_errors_total{provider=\"openai\",where=\"answer\"}"), 1);
        EXPECT_EQ(metric(r.port(0), "squall_fake_busy_slots{provider=\"openai\"}"), 0) << "the slot was freed";
      } else {
        for (int i = 0; i < 3; ++i) EXPECT_EQ(client(r.port(0)).get("/healthz").status, 500);
      }
    }
  }
}

}  // namespace
}  // namespace squall::fake
