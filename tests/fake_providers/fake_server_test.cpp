// The HTTP fake providers end to end: real servers on loopback port 0, a real HTTP client.
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
using testing::client;
using testing::parse_sse;
using testing::reply;
using testing::anthropic_config;
using testing::openai_config;
using testing::running;
using testing::chat;
using testing::message;

TEST(FakeServer, ReportsOneEndpointPerProviderWithTheSdkBaseUrl) {
  running r({openai_config(), anthropic_config()});
  ASSERT_EQ(r.server.endpoints().size(), 2U);
  const endpoint_info* o = r.server.find("openai");
  const endpoint_info* a = r.server.find("anthropic");
  ASSERT_TRUE(o && a);
  EXPECT_NE(o->port, 0);
  EXPECT_NE(o->port, a->port);
  EXPECT_EQ(o->base_url, "http://127.0.0.1:" + std::to_string(o->port) + "/v1");
  EXPECT_EQ(a->base_url, "http://127.0.0.1:" + std::to_string(a->port));
  // squall's own transport appends "/messages" to an Anthropic base URL (a live run against an Anthropic
  // fake was all 404s when it was given the SDK's).
  EXPECT_EQ(o->transport_base_url, o->base_url);
  EXPECT_EQ(a->transport_base_url, a->base_url + "/v1");
  EXPECT_EQ(r.server.find("nope"), nullptr);
}

TEST(FakeServer, HealthzAndModels) {
  running r({openai_config(), anthropic_config()});
  client c(r.port(0));
  EXPECT_EQ(c.get("/healthz").status, 200);
  reply models = c.get("/v1/models");
  ASSERT_EQ(models.status, 200);
  EXPECT_EQ(models.json()["object"], "list");
  ASSERT_EQ(models.json()["data"].size(), 2U);
  EXPECT_EQ(models.json()["data"][0]["id"], "gpt-4o-mini");
  EXPECT_EQ(c.get("/v1/models/gpt-4o-mini").json()["id"], "gpt-4o-mini");
  reply missing = c.get("/v1/models/gpt-9");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json()["error"]["code"], "model_not_found");

  client a(r.port(1));
  reply am = a.get("/v1/models");
  ASSERT_EQ(am.status, 200);
  EXPECT_EQ(am.json()["data"][0]["type"], "model");
  EXPECT_EQ(am.json()["has_more"], false);
}

TEST(FakeServer, ChatCompletionJsonCarriesUsageFromMaxTokensAndThePrompt) {
  running r({openai_config()});
  client c(r.port());
  reply rep = c.post("/v1/chat/completions", chat(7));
  ASSERT_EQ(rep.status, 200) << rep.body;
  EXPECT_EQ(rep.header("content-type"), "application/json");
  EXPECT_EQ(rep.header("x-request-id").rfind("req_", 0), 0U);
  const json b = rep.json();
  EXPECT_EQ(b["object"], "chat.completion");
  EXPECT_EQ(b["id"].get<std::string>().rfind("chatcmpl-", 0), 0U);
  EXPECT_EQ(b["model"], "gpt-4o-mini");
  EXPECT_EQ(b["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(b["choices"][0]["finish_reason"], "length");  // the scenario's 200 tokens, cut at max_tokens
  EXPECT_EQ(count_words(b["choices"][0]["message"]["content"].get<std::string>()), 7U);
  EXPECT_EQ(b["usage"]["prompt_tokens"], 5);
  EXPECT_EQ(b["usage"]["completion_tokens"], 7);
  EXPECT_EQ(b["usage"]["total_tokens"], 12);
  // Keep-alive: the same connection serves the next request.
  EXPECT_TRUE(c.connected());
  EXPECT_EQ(c.post("/v1/chat/completions", chat(1)).status, 200);
}

TEST(FakeServer, ChatCompletionStreamSendsChunksAUsageChunkAndDone) {
  running r({openai_config()});
  client c(r.port());
  reply rep = c.post("/v1/chat/completions", chat(30, true, true));
  ASSERT_EQ(rep.status, 200);
  EXPECT_EQ(rep.header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(rep.header("transfer-encoding"), "chunked");
  const auto events = parse_sse(rep.body);
  ASSERT_GE(events.size(), 4U);
  EXPECT_EQ(events.back().data, "[DONE]");
  const json first = json::parse(events.front().data);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(first["usage"].is_null());
  std::string text;
  for (std::size_t i = 0; i + 3 < events.size(); ++i) {
    const json e = json::parse(events[i].data);
    text += e["choices"][0]["delta"].value("content", "");
    EXPECT_TRUE(e.contains("usage") && e["usage"].is_null());
  }
  EXPECT_EQ(count_words(text), 30U);
  const json finish = json::parse(events[events.size() - 3].data);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "length");
  const json usage = json::parse(events[events.size() - 2].data);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["prompt_tokens"], 5);
  EXPECT_EQ(usage["usage"]["completion_tokens"], 30);
  EXPECT_EQ(usage["usage"]["total_tokens"], 35);
}

TEST(FakeServer, ChatStreamWithoutIncludeUsageHasNoUsage) {
  running r({openai_config()});
  client c(r.port());
  reply rep = c.post("/v1/chat/completions", chat(5, true));
  ASSERT_EQ(rep.status, 200);
  const auto events = parse_sse(rep.body);
  ASSERT_GE(events.size(), 2U);
  EXPECT_EQ(events.back().data, "[DONE]");
  for (std::size_t i = 0; i + 1 < events.size(); ++i) EXPECT_FALSE(json::parse(events[i].data).contains("usage"));
}

TEST(FakeServer, EmbeddingsAsFloatsAndAsBase64) {
  running r({openai_config()});
  client c(r.port());
  reply f = c.post("/v1/embeddings", json{{"model", "text-embedding-3-small"}, {"input", json::array({"a b", "c"})},
                                          {"dimensions", 8}});
  ASSERT_EQ(f.status, 200) << f.body;
  ASSERT_EQ(f.json()["data"].size(), 2U);
  EXPECT_EQ(f.json()["data"][1]["index"], 1);
  EXPECT_EQ(f.json()["data"][0]["embedding"].size(), 8U);
  EXPECT_EQ(f.json()["usage"]["prompt_tokens"], 3);
  reply b = c.post("/v1/embeddings", json{{"model", "text-embedding-3-small"}, {"input", "hello world"},
                                          {"dimensions", 8}, {"encoding_format", "base64"}});
  ASSERT_EQ(b.status, 200);
  EXPECT_EQ(b.json()["data"][0]["embedding"].get<std::string>().size(), 44U);  // 32 bytes in base64
}

TEST(FakeServer, AnthropicMessageJson) {
  running r({anthropic_config()});
  client c(r.port());
  reply rep = c.post("/v1/messages", message(9));
  ASSERT_EQ(rep.status, 200) << rep.body;
  EXPECT_EQ(rep.header("request-id").rfind("req_", 0), 0U);
  const json b = rep.json();
  EXPECT_EQ(b["type"], "message");
  EXPECT_EQ(b["role"], "assistant");
  EXPECT_EQ(b["id"].get<std::string>().rfind("msg_", 0), 0U);
  EXPECT_EQ(b["stop_reason"], "max_tokens");
  EXPECT_EQ(count_words(b["content"][0]["text"].get<std::string>()), 9U);
  EXPECT_EQ(b["usage"]["input_tokens"], 5);  // "a b c" + "be brief"
  EXPECT_EQ(b["usage"]["output_tokens"], 9);
}

TEST(FakeServer, AnthropicStreamFollowsTheEventSequence) {
  running r({anthropic_config()});
  client c(r.port());
  reply rep = c.post("/v1/messages", message(25, true));
  ASSERT_EQ(rep.status, 200);
  const auto events = parse_sse(rep.body);
  ASSERT_GE(events.size(), 7U);
  EXPECT_EQ(events[0].event, "message_start");
  EXPECT_EQ(json::parse(events[0].data)["message"]["usage"]["input_tokens"], 5);
  EXPECT_EQ(events[1].event, "content_block_start");
  EXPECT_EQ(events[2].event, "ping");
  std::string text;
  std::size_t i = 3;
  for (; i < events.size() && events[i].event == "content_block_delta"; ++i) {
    text += json::parse(events[i].data)["delta"]["text"].get<std::string>();
  }
  EXPECT_EQ(count_words(text), 25U);
  ASSERT_EQ(events.size(), i + 3);
  EXPECT_EQ(events[i].event, "content_block_stop");
  EXPECT_EQ(events[i + 1].event, "message_delta");
  EXPECT_EQ(json::parse(events[i + 1].data)["usage"]["output_tokens"], 25);
  EXPECT_EQ(events[i + 2].event, "message_stop");
}

TEST(FakeServer, SameSeedAndRequestIdGiveTheSameBytes) {
  auto body_of = [](std::uint64_t seed, const std::string& id) {
    server_options o;
    o.seed = seed;
    running r({openai_config()}, o);
    client c(r.port());
    return c.post("/v1/chat/completions", chat(12), {{"x-squall-request-id", id}, {"x-squall-attempt", "1"}})
        .json()["choices"][0]["message"]["content"]
        .get<std::string>();
  };
  EXPECT_EQ(body_of(5, "42"), body_of(5, "42"));
  EXPECT_NE(body_of(5, "42"), body_of(5, "43"));
}

TEST(FakeServer, OutputTokensComeFromTheWorkloadDistributionWithoutMaxTokens) {
  server_options o;
  o.output_tokens = sim::distribution::constant(4);
  running r({openai_config()}, o);
  client c(r.port());
  json b = chat(1);
  b.erase("max_tokens");
  EXPECT_EQ(c.post("/v1/chat/completions", b).json()["usage"]["completion_tokens"], 4);
}

TEST(FakeServer, MaxTokensCutsALongerAnswerAndTheAnswerSaysSo) {
  running r({openai_config(), anthropic_config()});
  client o(r.server.find("openai")->port);
  client a(r.server.find("anthropic")->port);
  // x-squall-output-tokens states the answer's natural length (squall's load generator sends it).
  auto openai_finish = [&](const char* natural, std::uint32_t max_tokens, bool stream) {
    const reply rep = o.post("/v1/chat/completions", chat(max_tokens, stream), {{"x-squall-output-tokens", natural}});
    EXPECT_EQ(rep.status, 200) << rep.body;
    if (!stream) {
      const json b = rep.json();
      EXPECT_EQ(b["usage"]["completion_tokens"], std::min(static_cast<std::uint32_t>(std::stoul(natural)), max_tokens));
      return b["choices"][0]["finish_reason"].get<std::string>();
    }
    const auto events = parse_sse(rep.body);
    return json::parse(events[events.size() - 2].data)["choices"][0]["finish_reason"].get<std::string>();
  };
  EXPECT_EQ(openai_finish("3", 10, false), "stop");
  EXPECT_EQ(openai_finish("10", 10, false), "stop");  // exactly max_tokens is a natural end, not a cut
  EXPECT_EQ(openai_finish("30", 10, false), "length");
  EXPECT_EQ(openai_finish("3", 10, true), "stop");
  EXPECT_EQ(openai_finish("30", 10, true), "length");

  const json short_answer = a.post("/v1/messages", message(10), {{"x-squall-output-tokens", "4"}}).json();
  EXPECT_EQ(short_answer["stop_reason"], "end_turn");
  EXPECT_EQ(short_answer["usage"]["output_tokens"], 4);
  const auto events = parse_sse(a.post("/v1/messages", message(10, true), {{"x-squall-output-tokens", "40"}}).body);
  const json delta = json::parse(events[events.size() - 2].data);
  EXPECT_EQ(delta["type"], "message_delta");
  EXPECT_EQ(delta["delta"]["stop_reason"], "max_tokens");
  EXPECT_EQ(delta["usage"]["output_tokens"], 10);

  EXPECT_EQ(o.post("/v1/chat/completions", chat(5), {{"x-squall-output-tokens", "many"}}).status, 400);
}

TEST(FakeServer, ControlApiArmsListsAndClears) {
  sim::provider_config cfg = openai_config();
  sim::fault_window w;
  w.at_s = 0;
  w.for_s = 600;
  w.latency_x = 2;
  cfg.faults = {w};
  running r({cfg});
  client c(r.port());
  reply armed = c.post("/squall/faults", json{{"for_s", 30}, {"errors", {{"503", 1.0}}}, {"retry_after_s", 1}});
  ASSERT_EQ(armed.status, 201) << armed.body;
  EXPECT_EQ(armed.json()["id"], 1);
  EXPECT_LT(armed.json()["at_s"].get<double>(), 5);
  reply during = c.post("/v1/chat/completions", chat(1));
  EXPECT_EQ(during.status, 503);
  EXPECT_EQ(during.header("retry-after"), "1");

  const json list = c.get("/squall/faults").json();
  ASSERT_EQ(list["armed"].size(), 1U);
  // The armed window splits the scenario's: before it (maybe empty), it, after it.
  bool active_is_armed = false;
  for (const auto& item : list["timeline"]) {
    if (item["active"] == true) active_is_armed = item.contains("errors");
  }
  EXPECT_TRUE(active_is_armed) << list.dump();

  reply bad = c.post("/squall/faults", json{{"for_s", 30}, {"errors", {{"999", 1.0}}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json()["error"]["path"], "$.errors.999");
  EXPECT_EQ(c.post("/squall/faults", std::string("nope")).status, 400);
  EXPECT_EQ(c.post("/squall/faults", json{{"for_s", 30}}).status, 400) << "a window must do something";

  reply cleared = c.request("DELETE", "/squall/faults", "");
  EXPECT_EQ(cleared.json()["cleared"], 1);
  EXPECT_EQ(c.post("/v1/chat/completions", chat(1)).status, 200);
  EXPECT_EQ(c.get("/squall/faults").json()["timeline"].size(), 1U) << "the scenario's window is back whole";
  c.request("DELETE", "/squall/faults?all=true", "");
  EXPECT_TRUE(c.get("/squall/faults").json()["timeline"].empty());
}

TEST(FakeServer, MetricsInPrometheusText) {
  running r({openai_config()});
  client c(r.port());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(c.post("/v1/chat/completions", chat(10)).status, 200);
  c.post("/v1/chat/completions", std::string("{"));
  reply m = c.get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.header("content-type").rfind("text/plain; version=0.0.4", 0), 0U);
  const std::string& t = m.body;
  EXPECT_NE(t.find("# TYPE squall_fake_responses_total counter"), std::string::npos);
  EXPECT_NE(t.find("squall_fake_responses_total{provider=\"openai\",status=\"200\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("squall_fake_responses_total{provider=\"openai\",status=\"400\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("squall_fake_requests_total{provider=\"openai\"} 4\n"), std::string::npos);
  EXPECT_NE(t.find("squall_fake_tokens_total{provider=\"openai\",direction=\"input\"} 15\n"), std::string::npos);
  EXPECT_NE(t.find("squall_fake_tokens_total{provider=\"openai\",direction=\"output\"} 30\n"), std::string::npos);
  EXPECT_NE(t.find("squall_fake_cost_usd_total{provider=\"openai\"} "), std::string::npos);
  EXPECT_NE(t.find("squall_fake_in_flight{provider=\"openai\"} 0\n"), std::string::npos);
  EXPECT_NE(t.find("# TYPE squall_fake_queue_depth gauge"), std::string::npos);
  // Each line is a comment or "name{labels} value".
  std::size_t at = 0;
  while (at < t.size()) {
    const std::size_t end = t.find('\n', at);
    ASSERT_NE(end, std::string::npos);
    const std::string line = t.substr(at, end - at);
    at = end + 1;
    if (line[0] == '#') continue;
    EXPECT_NE(line.find("} "), std::string::npos) << line;
  }
}

TEST(FakeServer, AFullQueueShedsWith503) {
  sim::provider_config cfg = openai_config();
  cfg.slots = 1;
  cfg.queue = 1;
  cfg.ttft_ms = sim::distribution::constant(400);
  running r({cfg});
  std::atomic<int> ok{0}, shed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      client c(r.port());
      const int s = c.post("/v1/chat/completions", chat(1)).status;
      ok += s == 200;
      shed += s == 503;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 2);
  EXPECT_EQ(shed.load(), 1);
}

TEST(FakeServer, ConnectionsBeyondTheLimitAreClosed) {
  server_options o;
  o.connections_max = 2;
  running r({openai_config()}, o);
  client a(r.port()), b(r.port());
  ASSERT_EQ(a.get("/healthz").status, 200);
  ASSERT_EQ(b.get("/healthz").status, 200);
  client c(r.port(), 2000);
  reply third = c.get("/healthz");
  EXPECT_EQ(third.status, 0);
  a.close();
  for (int i = 0; i < 100; ++i) {
    client d(r.port(), 2000);
    if (d.get("/healthz").status == 200) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "a freed connection slot is never reused";
}

TEST(FakeServer, IdleConnectionsCloseWhileBusyAndActiveOnesStayOpen) {
  server_options o;
  o.idle_timeout_s = 0.3;
  sim::provider_config cfg = openai_config();
  cfg.ttft_ms = sim::distribution::constant(600);  // an answer that takes twice the idle timeout
  running r({cfg}, o);

  // Silent, or stalled in the middle of a header: closed after the timeout (raw reads until the close).
  for (const std::string& bytes : {std::string(), std::string("GET /healthz HTTP/1.1\r\nHo")}) {
    client c(r.port(), 5000);
    boost::system::error_code ec;
    const auto began = std::chrono::steady_clock::now();
    const std::string out = c.raw(bytes, ec);
    const auto waited = std::chrono::steady_clock::now() - began;
    EXPECT_EQ(ec, boost::asio::error::eof) << "bytes: " << bytes;
    EXPECT_TRUE(out.empty()) << out;
    EXPECT_GE(waited, std::chrono::milliseconds(250)) << "bytes: " << bytes;
    EXPECT_LT(waited, std::chrono::milliseconds(4500)) << "bytes: " << bytes;
  }

  // Requests every 100 ms on one keep-alive connection for three times the timeout: never closed.
  client active(r.port(), 5000);
  for (int i = 0; i < 9; ++i) {
    reply h = active.get("/healthz");
    ASSERT_EQ(h.status, 200) << "request " << i << ": " << h.error.message();
    ASSERT_TRUE(active.connected()) << "request " << i;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  // A request in service longer than the timeout is answered, and its connection then idles out anew.
  client slow(r.port(), 5000);
  reply answer = slow.post("/v1/chat/completions", chat(1));
  EXPECT_EQ(answer.status, 200) << answer.error.message();
  EXPECT_EQ(slow.get("/healthz").status, 200);
}

TEST(FakeServer, StopsWithRequestsInFlight) {
  auto r = std::make_unique<running>(std::vector<sim::provider_config>{openai_config()});
  ASSERT_EQ(arm(r->port(), json{{"for_s", 60}, {"outage", "hang"}}).status, 201);
  std::thread t([port = r->port()] {
    client c(port, 5000);
    c.post("/v1/chat/completions", chat(1));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  r->server.stop();
  t.join();
  r.reset();
  SUCCEED();
}

}  // namespace
}  // namespace squall::fake
