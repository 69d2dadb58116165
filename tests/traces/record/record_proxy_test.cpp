// The recording proxy end to end: a squall fake provider (or a scripted server) upstream on loopback
// port 0, the proxy in-process, a real HTTP client in front.
#include "traces/record/record_proxy.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "fake_providers/fake_server.hpp"
#include "tests/support/canned_http_server.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::traces::record {
namespace {

using nlohmann::json;
using fake::testing::client;
using fake::testing::parse_sse;
using fake::testing::reply;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

sim::provider_config provider(const std::string& api, double ms_per_token = 1) {
  sim::provider_config c;
  c.name = api;
  c.api = api;
  c.models = {{api == "openai" ? "gpt-4o-mini" : "claude-sonnet-4", sim::model_price{1, 2}}};
  c.ttft_ms = sim::distribution::constant(5);
  c.ms_per_output_token = sim::distribution::constant(ms_per_token);
  c.error_latency_ms = sim::distribution::constant(2);
  return c;
}

struct upstream {
  explicit upstream(const std::string& api, double ms_per_token = 1) : server({provider(api, ms_per_token)}) {
    const auto e = server.start();
    EXPECT_FALSE(e) << *e;
  }
  std::uint16_t port() const { return server.endpoints().at(0).port; }
  std::string origin() const { return server.endpoints().at(0).origin; }
  fake::fake_server server;
};

// The proxy and what it recorded.
struct recorder {
  explicit recorder(const std::string& upstream_url, record_options o = {}) {
    o.upstream = upstream_url;
    auto created = record_proxy::create(o);
    EXPECT_TRUE(created) << created.error().describe();
    proxy = std::move(created.value());
    const auto e = proxy->start([this](trace_attempt&& a) {
      std::lock_guard lock(mutex);
      attempts.push_back(std::move(a));
    });
    EXPECT_FALSE(e) << *e;
  }
  std::vector<trace_attempt> recorded() {
    std::lock_guard lock(mutex);
    return attempts;
  }
  // Waits (with a generous bound, not a speed assertion) until `n` exchanges are recorded.
  std::vector<trace_attempt> wait_for(std::size_t n) {
    for (int i = 0; i < 1000 && recorded().size() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return recorded();
  }
  std::unique_ptr<record_proxy> proxy;
  std::mutex mutex;
  std::vector<trace_attempt> attempts;
};

json chat(std::uint32_t max_tokens, bool stream) {
  json b = {{"model", "gpt-4o-mini"},
            {"messages", json::array({{{"role", "user"}, {"content", "one two three four five"}}})},
            {"max_tokens", max_tokens}};
  if (stream) {
    b["stream"] = true;
    b["stream_options"] = {{"include_usage", true}};
  }
  return b;
}

json message(std::uint32_t max_tokens, bool stream) {
  json b = {{"model", "claude-sonnet-4"},
            {"messages", json::array({{{"role", "user"}, {"content", "six seven eight"}}})},
            {"max_tokens", max_tokens}};
  if (stream) b["stream"] = true;
  return b;
}

// The fake stamps answers with the wall-clock second; two servers may straddle one.
// (No std::regex: GCC 12 flags its internals under the sanitizer presets.)
std::string without_created(const std::string& body) {
  static const std::string key = "\"created\":";
  std::string out;
  std::size_t at = 0;
  for (std::size_t hit = body.find(key); hit != std::string::npos; hit = body.find(key, at)) {
    out.append(body, at, hit + key.size() - at);
    out += '0';
    at = hit + key.size();
    while (at < body.size() && body[at] >= '0' && body[at] <= '9') ++at;
  }
  out.append(body, at);
  return out;
}

template <class Edit>
record_options options(Edit edit) {
  record_options o;
  edit(o);
  return o;
}

// What a stream says, without how the fake happened to group its tokens into events (that follows its
// timer ticks, which a loaded machine shifts): the text, the ids, the usage and the event types in order.
std::string stream_digest(const std::string& body) {
  std::string text, others;
  for (const auto& e : parse_sse(body)) {
    const json d = json::parse(e.data, nullptr, false);
    if (d.is_discarded()) {
      others += e.data + "|";
      continue;
    }
    if (d.contains("choices") && !d["choices"].empty() && d["choices"][0]["delta"].contains("content")) {
      text += d["choices"][0]["delta"]["content"].get<std::string>();
      continue;
    }
    if (d.value("type", "") == "content_block_delta") {
      text += d["delta"]["text"].get<std::string>();
      continue;
    }
    others += e.event + ":" + without_created(e.data) + "|";
  }
  return text + "#" + others;
}

const std::vector<std::pair<std::string, std::string>> squall_ids = {{"x-squall-request-id", "41"},
                                                                      {"x-squall-attempt", "2"}};

TEST(RecordProxy, PlainJsonAnswerPassesThroughUnchangedAndIsRecorded) {
  upstream direct("openai"), proxied("openai");  // same seed: the same answer to the same request
  recorder rec(proxied.origin());
  client d(direct.port()), p(rec.proxy->port());
  const reply want = d.post("/v1/chat/completions", chat(7, false), squall_ids);
  const reply got = p.post("/v1/chat/completions", chat(7, false), squall_ids);
  ASSERT_EQ(want.status, 200) << want.body;
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(without_created(got.body), without_created(want.body));
  EXPECT_EQ(got.header("content-type"), want.header("content-type"));
  EXPECT_EQ(got.header("x-request-id"), want.header("x-request-id"));

  const auto attempts = rec.wait_for(1);
  ASSERT_EQ(attempts.size(), 1U);
  const trace_attempt& a = attempts[0];
  EXPECT_EQ(a.provider, "openai");
  EXPECT_EQ(a.api, "openai");
  EXPECT_EQ(a.endpoint, "/v1/chat/completions");
  EXPECT_EQ(a.model, "gpt-4o-mini");
  EXPECT_FALSE(a.stream);
  EXPECT_EQ(a.request_id, "41");
  EXPECT_EQ(a.attempt, 2U);
  EXPECT_EQ(a.input_tokens, 5U);
  EXPECT_EQ(a.output_tokens, 7U);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.outcome, "ok");
  ASSERT_TRUE(a.latency_ms);
  EXPECT_GE(*a.latency_ms, 0.0);
  EXPECT_GE(a.t_ms, 0.0);
  EXPECT_EQ(a.prompt_sha256, prompt_sha256_hex("one two three four five"));
  EXPECT_EQ(a.prompt, "");  // not kept without --keep-prompts
  // Keep-alive on both sides: the same client connection serves the next request.
  EXPECT_TRUE(p.connected());
  EXPECT_EQ(p.post("/v1/chat/completions", chat(1, false)).status, 200);
  EXPECT_EQ(rec.wait_for(2).size(), 2U);
}

TEST(RecordProxy, OpenAiStreamPassesThroughAndIsRecorded) {
  upstream direct("openai"), proxied("openai");
  recorder rec(proxied.origin(), options([](record_options& o) { o.provider = "primary"; }));
  client d(direct.port()), p(rec.proxy->port());
  const reply want = d.post("/v1/chat/completions", chat(30, true), squall_ids);
  const reply got = p.post("/v1/chat/completions", chat(30, true), squall_ids);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(got.header("transfer-encoding"), "chunked");
  EXPECT_EQ(stream_digest(got.body), stream_digest(want.body));
  EXPECT_EQ(parse_sse(got.body).back().data, "[DONE]");

  const auto attempts = rec.wait_for(1);
  ASSERT_EQ(attempts.size(), 1U);
  const trace_attempt& a = attempts[0];
  EXPECT_EQ(a.provider, "primary");
  EXPECT_TRUE(a.stream);
  EXPECT_EQ(a.outcome, "ok");
  EXPECT_EQ(a.input_tokens, 5U);
  EXPECT_EQ(a.output_tokens, 30U);
  ASSERT_TRUE(a.ttft_ms && a.latency_ms);
  EXPECT_LE(*a.ttft_ms, *a.latency_ms);
}

TEST(RecordProxy, AnthropicStreamPassesThroughAndIsRecorded) {
  upstream direct("anthropic"), proxied("anthropic");
  recorder rec(proxied.origin());
  client d(direct.port()), p(rec.proxy->port());
  const reply want = d.post("/v1/messages", message(12, true), squall_ids);
  const reply got = p.post("/v1/messages", message(12, true), squall_ids);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(stream_digest(got.body), stream_digest(want.body));
  EXPECT_EQ(parse_sse(got.body).back().event, "message_stop");

  const auto attempts = rec.wait_for(1);
  ASSERT_EQ(attempts.size(), 1U);
  const trace_attempt& a = attempts[0];
  EXPECT_EQ(a.provider, "anthropic");
  EXPECT_EQ(a.api, "anthropic");
  EXPECT_EQ(a.endpoint, "/v1/messages");
  EXPECT_EQ(a.model, "claude-sonnet-4");
  EXPECT_EQ(a.input_tokens, 3U);
  EXPECT_EQ(a.output_tokens, 12U);
  EXPECT_EQ(a.outcome, "ok");
  EXPECT_TRUE(a.ttft_ms);
}

TEST(RecordProxy, StreamBodyBytesAreExactlyTheUpstreamsBytes) {
  // A scripted upstream, so the expected bytes are known exactly: odd splits, a comment, CRLF endings.
  const std::string body =
      ": keep-alive\r\n\r\nevent: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"m\","
      "\"usage\":{\"input_tokens\":4,\"output_tokens\":1}}}\r\n\r\nevent: content_block_delta\ndata: {\"type\":"
      "\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"h\\u00e9\"}}\n\nevent: message_delta\ndata: "
      "{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":6}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  testing::canned_http_server up([&](const testing::received_request&) {
    testing::canned_reply r;
    r.write(testing::http_stream_head());
    for (std::size_t at = 0; at < body.size(); at += 37) r.write(testing::http_chunk(body.substr(at, 37)), 1);
    r.write(testing::http_last_chunk);
    return r;
  });
  recorder rec("http://127.0.0.1:" + std::to_string(up.port()));
  client p(rec.proxy->port());
  const reply got = p.post("/v1/messages", message(6, true));
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, body);
  const auto attempts = rec.wait_for(1);
  ASSERT_EQ(attempts.size(), 1U);
  EXPECT_EQ(attempts[0].outcome, "ok");
  EXPECT_EQ(attempts[0].input_tokens, 4U);
  EXPECT_EQ(attempts[0].output_tokens, 6U);
  EXPECT_TRUE(attempts[0].ttft_ms);
}

// A client that reads a response incrementally: the header, then body bytes as they come.
class stream_client {
 public:
  explicit stream_client(std::uint16_t port) {
    stream_.expires_after(std::chrono::seconds(20));
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  void send(const std::string& target, const json& body) {
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = body.dump();
    req.prepare_payload();
    http::write(stream_, req);
    http::read_header(stream_, buffer_, parser_);
  }
  int status() { return static_cast<int>(parser_.get().result_int()); }
  // Reads until some body bytes arrive; empty once the body is complete.
  std::string read_some() {
    while (!parser_.is_done()) {
      std::array<char, 4096> buf{};
      parser_.get().body().data = buf.data();
      parser_.get().body().size = buf.size();
      boost::system::error_code ec;
      http::read_some(stream_, buffer_, parser_, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) throw boost::system::system_error(ec);
      const std::size_t got = buf.size() - parser_.get().body().size;
      if (got > 0) return std::string(buf.data(), got);
    }
    return {};
  }
  void close() {
    boost::system::error_code ignored;
    stream_.socket().close(ignored);
  }

 private:
  asio::io_context io_;
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
  http::response_parser<http::buffer_body> parser_;
};

TEST(RecordProxy, StreamReachesTheClientBeforeTheUpstreamHasFinished) {
  upstream slow("openai", 20);  // 100 tokens at 20 ms each: the answer takes about two seconds
  recorder rec(slow.origin());
  stream_client c(rec.proxy->port());
  c.send("/v1/chat/completions", chat(100, true));
  ASSERT_EQ(c.status(), 200);
  const std::string first = c.read_some();
  EXPECT_NE(first.find("data: "), std::string::npos);
  // The proxy records an exchange only when its answer has ended: none is recorded yet, so the first
  // bytes were relayed while the upstream was still sending.
  EXPECT_EQ(rec.recorded().size(), 0U);
  std::string rest;
  for (std::string more = c.read_some(); !more.empty(); more = c.read_some()) rest += more;
  EXPECT_NE(rest.find("[DONE]"), std::string::npos);
  const auto attempts = rec.wait_for(1);
  ASSERT_EQ(attempts.size(), 1U);
  EXPECT_EQ(attempts[0].outcome, "ok");
  EXPECT_EQ(attempts[0].output_tokens, 100U);
}

TEST(RecordProxy, InjectedRateLimitIsRecordedWithItsRetryHeaders) {
  upstream up("openai");
  client control(up.port());
  ASSERT_EQ(control.post("/squall/faults", json{{"for_s", 600}, {"errors", {{"429", 1.0}}}, {"retry_after_s", 3}}).status,
            201);
  recorder rec(up.origin());
  client p(rec.proxy->port());
  const reply got = p.post("/v1/chat/completions", chat(5, false));
  ASSERT_EQ(got.status, 429);
  EXPECT_EQ(got.header("retry-after"), "3");

  const auto attempts = rec.wait_for(1);
  ASSERT_EQ(attempts.size(), 1U);
  const trace_attempt& a = attempts[0];
  EXPECT_EQ(a.status, 429);
  EXPECT_EQ(a.outcome, "rate_limited");
  EXPECT_FALSE(a.error_type.empty());
  bool retry_after = false, retry_after_ms = false;
  for (const auto& [name, value] : a.headers) {
    if (name == "retry-after") retry_after = value == "3";
    if (name == "retry-after-ms") retry_after_ms = value == "3000";
    EXPECT_NE(name, "content-type");  // only kept headers
  }
  EXPECT_TRUE(retry_after);
  EXPECT_TRUE(retry_after_ms);
}

TEST(RecordProxy, CutStreamIsCutForTheClientAndRecordedAsConnectionError) {
  upstream up("openai");
  client control(up.port());
  ASSERT_EQ(control.post("/squall/faults", json{{"for_s", 600}, {"wire", {{"stream_cut", 1.0}}}}).status, 201);
  recorder rec(up.origin());
  client p(rec.proxy->port());
  const reply got = p.post("/v1/chat/completions", chat(40, true));
  EXPECT_EQ(got.status, 200);
  EXPECT_TRUE(got.error);  // the body broke off for the client too
  EXPECT_EQ(got.body.find("[DONE]"), std::string::npos);

  const auto attempts = rec.wait_for(1);
  ASSERT_EQ(attempts.size(), 1U);
  EXPECT_EQ(attempts[0].status, 200);
  EXPECT_EQ(attempts[0].outcome, "connection_error");
  EXPECT_TRUE(attempts[0].latency_ms);
}

TEST(RecordProxy, RefusedUpstreamIsRecordedWithStatusZero) {
  std::uint16_t dead_port = 0;
  {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    dead_port = a.local_endpoint().port();
  }  // closed: connecting is refused
  recorder rec("http://127.0.0.1:" + std::to_string(dead_port));
  client p(rec.proxy->port());
  const reply got = p.post("/v1/chat/completions", chat(5, false));
  EXPECT_EQ(got.status, 0);  // the client meets a broken connection, as it would directly
  EXPECT_TRUE(got.error);
  const auto attempts = rec.wait_for(1);
  ASSERT_EQ(attempts.size(), 1U);
  EXPECT_EQ(attempts[0].status, 0);
  EXPECT_EQ(attempts[0].outcome, "connection_error");
}

TEST(RecordProxy, ClientLeavingMidStreamClosesTheUpstreamAndIsRecordedAsCancelled) {
  using testing::canned_http_server;
  using testing::canned_reply;
  canned_http_server up([](const testing::received_request&) {
    canned_reply r;
    r.write(testing::http_stream_head());
    r.write(testing::http_chunk("data: {\"choices\":[{\"delta\":{\"content\":\" hi\"}}]}\n\n"));
    r.hang();
    return r;
  });
  recorder rec("http://127.0.0.1:" + std::to_string(up.port()));
  stream_client c(rec.proxy->port());
  c.send("/v1/chat/completions", chat(5, true));
  ASSERT_EQ(c.status(), 200);
  EXPECT_NE(c.read_some().find("hi"), std::string::npos);
  c.close();
  const auto attempts = rec.wait_for(1);
  ASSERT_EQ(attempts.size(), 1U);
  EXPECT_EQ(attempts[0].outcome, "cancelled");
  EXPECT_EQ(attempts[0].status, 200);
  EXPECT_TRUE(attempts[0].ttft_ms);
  EXPECT_FALSE(attempts[0].latency_ms);
  for (int i = 0; i < 1000 && up.client_closes() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(up.client_closes(), 1);  // the proxy closed its upstream connection
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(RecordProxy, SecretsReachTheUpstreamButNeverTheTraceFile) {
  using testing::canned_http_server;
  using testing::canned_reply;
  canned_http_server up([](const testing::received_request& r) {
    const bool anthropic = r.target == "/v1/messages";
    canned_reply reply;
    reply.write(testing::http_response(
        200, "OK",
        anthropic ? R"({"content":[{"type":"text","text":"x"}],"usage":{"input_tokens":1,"output_tokens":1}})"
                  : R"({"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}})",
        {{"x-request-id", "req_1"}, {"set-cookie", "session=COOKIE-SECRET"}}));
    return reply;
  });
  const std::string path = (std::filesystem::temp_directory_path() / ("squall_record_secrets_" +
                                                                      std::to_string(::getpid()) + ".jsonl")).string();
  {
    trace_header header;
    header.source = "record";
    auto writer = trace_writer::open(path, header);
    ASSERT_TRUE(writer) << writer.error().describe();
    record_options o;
    o.upstream = "http://127.0.0.1:" + std::to_string(up.port());
    auto proxy = record_proxy::create(o);
    ASSERT_TRUE(proxy);
    trace_writer& w = **writer;
    ASSERT_FALSE((*proxy)->start([&w](trace_attempt&& a) { w.append(std::move(a)); }));
    client p((*proxy)->port());
    EXPECT_EQ(p.post("/v1/chat/completions", chat(1, false),
                     {{"Authorization", "Bearer sk-proj-SECRET-ONE"}, {"OpenAI-Organization", "org-SECRET-TWO"}})
                  .status,
              200);
    EXPECT_EQ(p.post("/v1/messages", message(1, false),
                     {{"x-api-key", "sk-ant-SECRET-THREE"}, {"anthropic-version", "2023-06-01"},
                      {"Cookie", "a=SECRET-FOUR"}})
                  .status,
              200);
    (*proxy)->stop();
    EXPECT_EQ(w.written(), 2U);
    ASSERT_FALSE(w.finish());
  }
  const auto seen = up.requests();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].header("authorization"), "Bearer sk-proj-SECRET-ONE");  // passed through
  EXPECT_EQ(seen[1].header("x-api-key"), "sk-ant-SECRET-THREE");
  EXPECT_EQ(seen[0].target, "/v1/chat/completions");

  const std::string bytes = read_file(path);
  std::filesystem::remove(path);
  EXPECT_NE(bytes.find("\"x-request-id\":\"req_1\""), std::string::npos) << bytes;
  EXPECT_EQ(bytes.find("SECRET"), std::string::npos) << bytes;
  EXPECT_EQ(bytes.find("sk-"), std::string::npos) << bytes;
  EXPECT_EQ(bytes.find("one two three"), std::string::npos) << bytes;  // prompts only as a hash
}

TEST(RecordProxy, KeepPromptsKeepsTheText) {
  upstream up("openai");
  recorder rec(up.origin(), options([](record_options& o) { o.keep_prompts = true; }));
  client p(rec.proxy->port());
  EXPECT_EQ(p.post("/v1/chat/completions", chat(1, false)).status, 200);
  const auto attempts = rec.wait_for(1);
  ASSERT_EQ(attempts.size(), 1U);
  EXPECT_EQ(attempts[0].prompt, "one two three four five");
}

TEST(RecordProxy, OversizedRequestIsRefusedByTheProxyAndNotRecorded) {
  upstream up("openai");
  recorder rec(up.origin(), options([](record_options& o) { o.request_body_bytes_max = 1024; }));
  client p(rec.proxy->port());
  json big = chat(1, false);
  big["messages"][0]["content"] = std::string(4096, 'a');
  EXPECT_EQ(p.post("/v1/chat/completions", big).status, 413);
  EXPECT_EQ(rec.proxy->stats().refused_requests, 1U);
  EXPECT_EQ(rec.recorded().size(), 0U);
}

TEST(RecordProxy, OptionsAreValidated) {
  auto remote = record_proxy::create(options([](record_options& o) { o.upstream = "http://10.1.2.3:80"; }));
  ASSERT_FALSE(remote);
  EXPECT_NE(remote.error().describe().find("--allow-remote"), std::string::npos);
  auto https = record_proxy::create(options([](record_options& o) { o.upstream = "https://api.openai.com"; }));
  ASSERT_FALSE(https);
  EXPECT_NE(https.error().describe().find("--upstream"), std::string::npos);
  auto query = record_proxy::create(options([](record_options& o) { o.upstream = "http://127.0.0.1:9/v1?api-version=1"; }));
  ASSERT_FALSE(query);
  EXPECT_NE(query.error().describe().find("expected no query string"), std::string::npos) << query.error().describe();
  auto listen = record_proxy::create(options([](record_options& o) {
    o.upstream = "http://127.0.0.1:9";
    o.listen = "0.0.0.0:0";
  }));
  ASSERT_FALSE(listen);
  EXPECT_NE(listen.error().describe().find("--listen"), std::string::npos);
  auto bad = record_proxy::create(options([](record_options& o) {
    o.upstream = "http://127.0.0.1:9";
    o.listen = "nonsense";
  }));
  ASSERT_FALSE(bad);
  EXPECT_TRUE(record_proxy::create(options([](record_options& o) {
    o.upstream = "http://10.1.2.3:80";
    o.allow_remote = true;
  })));
}

}  // namespace
}  // namespace squall::traces::record
