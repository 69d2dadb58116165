// The HTTP fake providers' faults end to end: every injectable status with its provider's error body,
// server rate limits, bad requests, outages (reset, hang, refuse), wire faults and slow first tokens.
#include "fake_providers/fake_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/error.hpp>
#include <chrono>
#include <thread>

#include "fake_providers/wire_format.hpp"
#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

using nlohmann::json;
using testing::arm;
using testing::chat;
using testing::client;
using testing::message;
using testing::parse_sse;
using testing::reply;
using testing::anthropic_config;
using testing::openai_config;
using testing::running;

TEST(FakeServer, EveryInjectableStatusHasTheProvidersErrorBody) {
  for (const bool anthropic : {false, true}) {
    for (const int status : {400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 529}) {
      sim::provider_config cfg = anthropic ? anthropic_config() : openai_config();
      sim::fault_window w;
      w.at_s = 0;
      w.for_s = 600;
      w.errors = {{status, 1.0}};
      if (status == 429 || status == 503 || status == 529) w.retry_after_s = 2.5;
      cfg.faults = {w};
      running r({cfg});
      client c(r.port());
      reply rep = anthropic ? c.post("/v1/messages", message(3)) : c.post("/v1/chat/completions", chat(3));
      SCOPED_TRACE(std::string(anthropic ? "anthropic " : "openai ") + std::to_string(status));
      ASSERT_EQ(rep.status, status);
      const json b = rep.json();
      if (anthropic) {
        EXPECT_EQ(b["type"], "error");
        EXPECT_EQ(b["error"]["type"], default_error_type(api_style::anthropic, status));
        EXPECT_TRUE(b["error"]["message"].is_string());
        EXPECT_EQ(b["request_id"], rep.header("request-id"));
      } else {
        ASSERT_TRUE(b["error"].is_object());
        EXPECT_TRUE(b["error"]["message"].is_string());
        EXPECT_TRUE(b["error"].contains("param"));
        EXPECT_TRUE(b["error"].contains("code"));
        EXPECT_FALSE(rep.header("x-request-id").empty());
      }
      if (w.retry_after_s) {
        EXPECT_EQ(rep.header("retry-after"), "3");
        EXPECT_EQ(rep.header("retry-after-ms"), "2500");
      } else {
        EXPECT_FALSE(rep.has("retry-after"));
      }
    }
  }
}

TEST(FakeServer, Anthropic529IsOverloadedError) {
  sim::provider_config cfg = anthropic_config();
  sim::fault_window w;
  w.for_s = 600;
  w.errors = {{529, 1.0}};
  cfg.faults = {w};
  running r({cfg});
  client c(r.port());
  reply rep = c.post("/v1/messages", message(3));
  ASSERT_EQ(rep.status, 529);
  EXPECT_EQ(rep.json()["error"]["type"], "overloaded_error");
}

TEST(FakeServer, ServerRateLimitAnswers429WithHeaders) {
  for (const bool anthropic : {false, true}) {
    sim::provider_config cfg = anthropic ? anthropic_config() : openai_config();
    cfg.rpm = 2;
    running r({cfg});
    client c(r.port());
    auto send = [&] { return anthropic ? c.post("/v1/messages", message(1)) : c.post("/v1/chat/completions", chat(1)); };
    reply ok = send();
    ASSERT_EQ(ok.status, 200);
    const std::string prefix = anthropic ? "anthropic-ratelimit-requests-" : "x-ratelimit-";
    const std::string limit = anthropic ? prefix + "limit" : "x-ratelimit-limit-requests";
    const std::string remaining = anthropic ? prefix + "remaining" : "x-ratelimit-remaining-requests";
    const std::string reset = anthropic ? prefix + "reset" : "x-ratelimit-reset-requests";
    EXPECT_EQ(ok.header(limit), "2");
    EXPECT_EQ(ok.header(remaining), "1");
    EXPECT_FALSE(ok.header(reset).empty());
    EXPECT_EQ(send().status, 200);
    reply limited = send();
    ASSERT_EQ(limited.status, 429);
    EXPECT_EQ(limited.header(remaining), "0");
    EXPECT_GE(std::stoi(limited.header("retry-after")), 1);
    EXPECT_GE(std::stoi(limited.header("retry-after-ms")), 1);
    if (anthropic) {
      EXPECT_EQ(limited.json()["error"]["type"], "rate_limit_error");
    } else {
      EXPECT_EQ(limited.json()["error"]["code"], "rate_limit_exceeded");
      EXPECT_EQ(limited.json()["error"]["type"], "requests");
    }
  }
}

TEST(FakeServer, BadRequestsGetTheProvidersErrors) {
  running r({openai_config(), anthropic_config()});
  client c(r.port(0));
  reply bad_json = c.post("/v1/chat/completions", std::string("{\"model\": "));
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.json()["error"]["type"], "invalid_request_error");
  reply no_model = c.post("/v1/chat/completions", json{{"messages", json::array()}});
  EXPECT_EQ(no_model.status, 400);
  EXPECT_EQ(no_model.json()["error"]["param"], "model");
  reply no_messages = c.post("/v1/chat/completions", json{{"model", "gpt-4o-mini"}});
  EXPECT_EQ(no_messages.status, 400);
  EXPECT_EQ(no_messages.json()["error"]["param"], "messages");
  EXPECT_EQ(no_messages.json()["error"]["code"], "missing_required_parameter");
  json neg = chat(1);
  neg["max_tokens"] = 0;
  EXPECT_EQ(c.post("/v1/chat/completions", neg).json()["error"]["code"], "integer_below_min_value");
  json unknown = chat(1);
  unknown["model"] = "gpt-9";
  reply nf = c.post("/v1/chat/completions", unknown);
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.json()["error"]["code"], "model_not_found");
  reply wrong_method = c.get("/v1/chat/completions");
  EXPECT_EQ(wrong_method.status, 405);
  reply no_path = c.post("/v1/nothing", chat(1));
  EXPECT_EQ(no_path.status, 404);
  EXPECT_EQ(no_path.json()["error"]["message"], "Invalid URL (POST /v1/nothing)");
  EXPECT_EQ(c.post("/v1/messages", message(1)).status, 404) << "an OpenAI-style provider has no /v1/messages";
  reply bad_id = c.post("/v1/chat/completions", chat(1), {{"x-squall-request-id", "abc"}});
  EXPECT_EQ(bad_id.status, 400);

  client a(r.port(1));
  json no_max = message(1);
  no_max.erase("max_tokens");
  reply am = a.post("/v1/messages", no_max);
  EXPECT_EQ(am.status, 400);
  EXPECT_EQ(am.json()["type"], "error");
  EXPECT_EQ(am.json()["error"]["type"], "invalid_request_error");
  EXPECT_EQ(am.json()["error"]["message"], "max_tokens: Field required");
  json bad_model = message(1);
  bad_model["model"] = "claude-0";
  reply anf = a.post("/v1/messages", bad_model);
  EXPECT_EQ(anf.status, 404);
  EXPECT_EQ(anf.json()["error"]["type"], "not_found_error");
  EXPECT_EQ(a.post("/v1/messages", std::string("[1,2")).json()["error"]["type"], "invalid_request_error");
}

TEST(FakeServer, GarbageBytesGet400AndTheServerGoesOn) {
  server_options o;
  o.header_bytes_max = 1024;
  o.body_bytes_max = 2048;
  running r({openai_config()}, o);
  boost::system::error_code ec;
  {
    client c(r.port(), 2000);
    const std::string out = c.raw(std::string("\x00\x01\x02 garbage\r\n\r\n", 16), ec);
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0U) << out;
  }
  {
    client c(r.port(), 2000);
    const std::string out = c.raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n", ec);
    EXPECT_EQ(out.rfind("HTTP/1.1 431", 0), 0U) << out;
  }
  {
    client c(r.port(), 2000);
    const std::string out =
        c.raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{", ec);
    EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0U) << out;
  }
  rng noise(7);
  for (int i = 0; i < 200; ++i) {
    std::string bytes(noise.below(600) + 1, '\0');
    for (char& ch : bytes) ch = static_cast<char>(noise.below(256));
    if (i % 3 == 0) bytes = "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 5\r\n\r\n" + bytes;
    client c(r.port(), 2000);
    c.raw(bytes, ec, true);
  }
  client c(r.port());
  EXPECT_EQ(c.get("/healthz").status, 200);
  EXPECT_EQ(c.post("/v1/chat/completions", chat(2)).status, 200);
}

TEST(FakeServer, ResetOutageDropsTheConnection) {
  running r({openai_config()});
  ASSERT_EQ(arm(r.port(), json{{"for_s", 60}, {"outage", "reset"}}).status, 201);
  client c(r.port());
  reply rep = c.post("/v1/chat/completions", chat(1));
  EXPECT_EQ(rep.status, 0);
  EXPECT_TRUE(rep.error);
}

TEST(FakeServer, HangOutageHoldsTheRequestUntilTheClientLeaves) {
  running r({openai_config()});
  ASSERT_EQ(arm(r.port(), json{{"for_s", 60}, {"outage", "hang"}}).status, 201);
  {
    client c(r.port(), 300);
    reply rep = c.post("/v1/chat/completions", chat(1));
    EXPECT_EQ(rep.status, 0);
    EXPECT_TRUE(rep.error) << "no answer within the client's timeout";
  }
  // The server notices the client left and frees the hung request.
  client m(r.port());
  std::string metrics;
  for (int i = 0; i < 200; ++i) {
    metrics = m.get("/metrics").body;
    if (metrics.find("squall_fake_hung{provider=\"openai\"} 0") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(metrics.find("squall_fake_hung{provider=\"openai\"} 0"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("squall_fake_faults_injected_total{provider=\"openai\",kind=\"hang\"} 1"), std::string::npos);
}

TEST(FakeServer, RefuseOutageClosesTheListenerUntilCleared) {
  running r({openai_config()});
  ASSERT_EQ(arm(r.port(), json{{"for_s", 60}, {"outage", "refuse"}}).status, 201);
  EXPECT_EQ(testing::connect_error(r.port()), boost::asio::error::connection_refused);
}

TEST(FakeServer, RefuseWindowInTheScenarioEndsAndTheListenerComesBack) {
  sim::provider_config cfg = openai_config();
  sim::fault_window w;
  w.at_s = 0;
  w.for_s = 0.3;
  w.outage = sim::outage_kind::refuse;
  cfg.faults = {w};
  running r({cfg});
  EXPECT_EQ(testing::connect_error(r.port()), boost::asio::error::connection_refused);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  client c(r.port());
  EXPECT_EQ(c.get("/healthz").status, 200);
}

TEST(FakeServer, MalformedBodyIsA200ThatDoesNotParse) {
  running r({openai_config(), anthropic_config()});
  ASSERT_EQ(arm(r.port(0), json{{"for_s", 60}, {"wire", {{"malformed", 1.0}}}}).status, 201);
  client c(r.port(0));
  reply plain = c.post("/v1/chat/completions", chat(5));
  EXPECT_EQ(plain.status, 200);
  EXPECT_TRUE(plain.json().is_discarded()) << plain.body;
  reply stream = c.post("/v1/chat/completions", chat(5, true));
  EXPECT_EQ(stream.status, 200);
  int broken = 0;
  for (const auto& e : parse_sse(stream.body)) broken += e.data != "[DONE]" && json::parse(e.data, nullptr, false).is_discarded();
  EXPECT_EQ(broken, 1);

  ASSERT_EQ(arm(r.port(1), json{{"for_s", 60}, {"wire", {{"malformed", 1.0}}}}).status, 201);
  client a(r.port(1));
  reply as = a.post("/v1/messages", message(5, true));
  broken = 0;
  for (const auto& e : parse_sse(as.body)) broken += json::parse(e.data, nullptr, false).is_discarded();
  EXPECT_EQ(broken, 1);
}

TEST(FakeServer, StreamCutEndsTheBodyMidway) {
  running r({openai_config()});
  ASSERT_EQ(arm(r.port(), json{{"for_s", 60}, {"wire", {{"stream_cut", 1.0}}}}).status, 201);
  client c(r.port());
  reply stream = c.post("/v1/chat/completions", chat(100, true));
  EXPECT_EQ(stream.status, 200);
  EXPECT_TRUE(stream.error) << "the chunked body never ends";
  EXPECT_EQ(stream.body.find("[DONE]"), std::string::npos);
  std::string text;
  for (const auto& e : parse_sse(stream.body)) text += json::parse(e.data)["choices"][0]["delta"].value("content", "");
  EXPECT_GT(count_words(text), 0U);
  EXPECT_LT(count_words(text), 100U);
  client c2(r.port());
  reply plain = c2.post("/v1/chat/completions", chat(100));
  EXPECT_TRUE(plain.error) << "the body is shorter than its Content-Length";
}

TEST(FakeServer, ErrorEventAfterA200) {
  running r({openai_config(), anthropic_config()});
  for (std::size_t i = 0; i < 2; ++i) {
    ASSERT_EQ(arm(r.port(i), json{{"for_s", 60}, {"wire", {{"error_event", 1.0}}}}).status, 201);
  }
  client a(r.port(1));
  reply as = a.post("/v1/messages", message(40, true));
  EXPECT_EQ(as.status, 200);
  EXPECT_FALSE(as.error);
  const auto events = parse_sse(as.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "error");
  EXPECT_EQ(json::parse(events.back().data)["error"]["type"], "overloaded_error");
  reply ap = a.post("/v1/messages", message(40));
  EXPECT_EQ(ap.status, 529);

  client o(r.port(0));
  reply os = o.post("/v1/chat/completions", chat(40, true));
  EXPECT_EQ(os.status, 200);
  const auto oe = parse_sse(os.body);
  ASSERT_FALSE(oe.empty());
  EXPECT_TRUE(json::parse(oe.back().data).contains("error"));
  EXPECT_EQ(os.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(o.post("/v1/chat/completions", chat(40)).status, 503);
}

TEST(FakeServer, SlowFirstTokenDelaysTheAnswerAtLeastThatLong) {
  running r({openai_config()});
  ASSERT_EQ(arm(r.port(), json{{"for_s", 60}, {"ttft_x", 25}}).status, 201);  // 20 ms -> 500 ms
  client c(r.port());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(c.post("/v1/chat/completions", chat(1, true)).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(450));
}

}  // namespace
}  // namespace squall::fake
