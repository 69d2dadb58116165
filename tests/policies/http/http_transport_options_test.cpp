// The HTTP transport's endpoint and connection options against loopback servers: base URLs with a query
// (Azure OpenAI's api-version), the header carrying the key, extra headers and the User-Agent, keys read
// for every attempt (environment, callback), and the HTTP CONNECT proxy.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "fake_providers/fake_server.hpp"
#include "fake_providers/tls_certificate.hpp"
#include "policies/http/http_transport.hpp"
#include "policies/http/proxy_tunnel.hpp"
#include "policies/http/url.hpp"
#include "tests/policies/http/connect_proxy.hpp"
#include "tests/policies/http/transport_harness.hpp"
#include "tests/support/canned_http_server.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::canned_http_server;
using testing::connect_proxy;
using testing::transport_harness;
using testing::canned_reply;
using testing::http_response;
using testing::received_request;
using testing::recording_receiver;

const std::string openai_answer =
    R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,)"
    R"("message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":3,"completion_tokens":1}})";

canned_http_server::responder answer_ok() {
  return [](const received_request&) { return canned_reply{}.write(http_response(200, "OK", openai_answer)); };
}

// A transport built from `options`; each call runs the io_context until its outcome arrives.
struct options_rig {
  boost::asio::io_context io;
  asio_runtime rt{io};
  std::unique_ptr<http_transport> transport;

  explicit options_rig(http_transport_options o) {
    auto made = http_transport::create(rt, std::move(o));
    EXPECT_TRUE(made) << (made ? "" : made.error().describe());
    if (made) transport = std::move(made.value());
  }

  outcome call(payload_ptr payload = make_chat_payload({{"user", "hi"}})) {
    call_context c;
    c.req.model = "gpt-4o";
    c.req.payload = std::move(payload);
    recording_receiver rec;
    transport->start(call_scope{&c, time_never}, rec);
    io.restart();
    io.run();
    EXPECT_EQ(rec.calls, 1);
    return rec.last;
  }
};

http_endpoint endpoint(const std::string& base_url, api_kind api = api_kind::openai, std::string key = "sk-1") {
  http_endpoint e;
  e.provider = "p";
  e.api = api;
  e.base_url = base_url;
  e.api_key = std::move(key);
  return e;
}

std::string create_error(http_transport_options o) {
  boost::asio::io_context io;
  asio_runtime rt{io};
  auto made = http_transport::create(rt, std::move(o));
  return made ? std::string("(created)") : made.error().describe();
}

// ----- base URLs with a query ------------------------------------------------------------------------

TEST(http_url, keeps_the_query_of_a_base_url) {
  auto url = parse_http_url("https://x.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "x.openai.azure.com");
  EXPECT_EQ(url->path, "/openai/deployments/gpt4o");
  EXPECT_EQ(url->query, "api-version=2024-10-21");
  EXPECT_EQ(parse_http_url("http://h:8080?a=b")->query, "a=b");
  EXPECT_EQ(parse_http_url("http://h/v1")->query, "");
  EXPECT_FALSE(parse_http_url("http://h/v1?a=b\r\nX: y"));
  EXPECT_FALSE(parse_http_url("http://h/v1?a=b#frag"));
}

TEST(http_transport_options, an_azure_endpoint_sends_api_key_the_deployment_path_and_the_api_version) {
  canned_http_server server(answer_ok());
  http_transport_options o;
  http_endpoint e = endpoint(server.base_url("/openai/deployments/gpt4o?api-version=2024-10-21"), api_kind::openai,
                             "azure-key");
  e.auth = http_auth::api_key;
  o.endpoints.push_back(e);
  options_rig rig(std::move(o));
  EXPECT_EQ(rig.call().kind, outcome_class::ok);
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1U);
  EXPECT_EQ(reqs[0].target, "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(reqs[0].header("api-key"), "azure-key");
  EXPECT_EQ(reqs[0].header("authorization"), "") << "the key travels once, in Azure's header";
}

TEST(http_transport_options, a_raw_body_on_its_own_path_keeps_the_query) {
  canned_http_server server(answer_ok());
  http_transport_options o;
  o.endpoints.push_back(endpoint(server.base_url("/openai/deployments/emb?api-version=2024-10-21")));
  options_rig rig(std::move(o));
  rig.call(make_raw_payload(R"({"input":"a"})", "/embeddings"));
  ASSERT_EQ(server.requests().size(), 1U);
  EXPECT_EQ(server.requests()[0].target, "/openai/deployments/emb/embeddings?api-version=2024-10-21");
}

// ----- the key's header ------------------------------------------------------------------------------

TEST(http_transport_options, the_key_header_follows_the_api_unless_the_endpoint_names_one) {
  canned_http_server server(answer_ok());
  http_transport_options o;
  o.endpoints.push_back(endpoint(server.base_url(), api_kind::openai, "k-openai"));
  http_endpoint anthropic = endpoint(server.base_url(), api_kind::anthropic, "k-anthropic");
  anthropic.provider = "a";
  o.endpoints.push_back(anthropic);
  http_endpoint bearer_anthropic = anthropic;  // an Anthropic-compatible gateway that wants a bearer token
  bearer_anthropic.provider = "b";
  bearer_anthropic.auth = http_auth::bearer;
  o.endpoints.push_back(bearer_anthropic);
  http_endpoint x_openai = endpoint(server.base_url(), api_kind::openai, "k-x");
  x_openai.provider = "x";
  x_openai.auth = http_auth::x_api_key;
  o.endpoints.push_back(x_openai);
  options_rig rig(std::move(o));
  for (const char* provider : {"p", "a", "b", "x"}) {
    call_context c;
    c.req.provider = provider;
    c.req.model = "m";
    c.req.payload = make_chat_payload({{"user", "hi"}});
    recording_receiver rec;
    rig.transport->start(call_scope{&c, time_never}, rec);
    rig.io.restart();
    rig.io.run();
  }
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4U);
  EXPECT_EQ(reqs[0].header("authorization"), "Bearer k-openai");
  EXPECT_EQ(reqs[1].header("x-api-key"), "k-anthropic");
  EXPECT_EQ(reqs[1].header("authorization"), "");
  EXPECT_EQ(reqs[2].header("authorization"), "Bearer k-anthropic");
  EXPECT_EQ(reqs[2].header("x-api-key"), "");
  EXPECT_EQ(reqs[2].header("anthropic-version"), "2023-06-01") << "still the Anthropic API";
  EXPECT_EQ(reqs[3].header("x-api-key"), "k-x");
}

// ----- extra headers and the User-Agent -----------------------------------------------------------

TEST(http_transport_options, extra_headers_and_the_user_agent_go_out_with_every_request) {
  canned_http_server server(answer_ok());
  http_transport_options o;
  http_endpoint e = endpoint(server.base_url());
  e.headers = {{"OpenAI-Organization", "org-7"}, {"anthropic-beta", "prompt-caching-2024-07-31"}};
  o.endpoints.push_back(e);
  o.user_agent = "ask-service/1.2 squall";
  options_rig rig(std::move(o));
  rig.call();
  rig.call();
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2U);
  for (const auto& r : reqs) {
    EXPECT_EQ(r.header("openai-organization"), "org-7");
    EXPECT_EQ(r.header("anthropic-beta"), "prompt-caching-2024-07-31");
    EXPECT_EQ(r.header("user-agent"), "ask-service/1.2 squall");
  }
}

TEST(http_transport_options, the_default_user_agent_is_squall) {
  canned_http_server server(answer_ok());
  http_transport_options o;
  o.endpoints.push_back(endpoint(server.base_url()));
  options_rig rig(std::move(o));
  rig.call();
  EXPECT_EQ(server.requests().at(0).header("user-agent"), "squall");
}

TEST(http_transport_options, bad_headers_are_refused_naming_the_endpoint_and_the_header) {
  http_transport_options o;
  http_endpoint e = endpoint("http://127.0.0.1:9/v1");
  e.provider = "openai";
  e.headers = {{"OpenAI-Organization", "org-7"}, {"Bad Name", "x"}};
  o.endpoints.push_back(e);
  EXPECT_NE(create_error(o).find("endpoints[0] (openai): headers[1]: \"Bad Name\" is not a header name"),
            std::string::npos)
      << create_error(o);

  o.endpoints[0].headers = {{"X-Ok", "a\r\nInjected: yes"}};
  EXPECT_NE(create_error(o).find("endpoints[0] (openai): headers[0]: the value of X-Ok holds a line break"),
            std::string::npos)
      << create_error(o);

  o.endpoints[0].headers = {{"Content-Length", "5"}};
  EXPECT_NE(create_error(o).find("transport's own header"), std::string::npos) << create_error(o);

  o.endpoints[0].headers.clear();
  o.user_agent = "a\nb";
  EXPECT_NE(create_error(o).find("user_agent"), std::string::npos) << create_error(o);
}

// ----- keys read for every attempt ---------------------------------------------------------------

TEST(http_transport_options, a_key_callback_is_asked_for_every_attempt_so_rotation_needs_no_rebuild) {
  canned_http_server server(answer_ok());
  http_transport_options o;
  http_endpoint e = endpoint(server.base_url(), api_kind::openai, "");
  int calls = 0;
  e.api_key_provider = [&calls] { return "sk-rotated-" + std::to_string(++calls); };
  o.endpoints.push_back(e);
  options_rig rig(std::move(o));
  rig.call();
  rig.call();
  rig.call();
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3U);
  EXPECT_EQ(reqs[0].header("authorization"), "Bearer sk-rotated-1");
  EXPECT_EQ(reqs[1].header("authorization"), "Bearer sk-rotated-2");
  EXPECT_EQ(reqs[2].header("authorization"), "Bearer sk-rotated-3");
  EXPECT_GE(reqs[2].connection, 1) << "the same keep-alive connection may carry a new key";
}

TEST(http_transport_options, a_key_from_the_environment_is_read_for_every_attempt) {
  canned_http_server server(answer_ok());
  http_transport_options o;
  http_endpoint e = endpoint(server.base_url(), api_kind::anthropic, "");
  e.api_key_env = "SQUALL_TEST_OPTIONS_KEY";
  o.endpoints.push_back(e);
  options_rig rig(std::move(o));
  ::setenv("SQUALL_TEST_OPTIONS_KEY", "ak-first", 1);
  rig.call();
  ::setenv("SQUALL_TEST_OPTIONS_KEY", "ak-second", 1);
  rig.call();
  ::unsetenv("SQUALL_TEST_OPTIONS_KEY");
  const outcome missing = rig.call();
  EXPECT_EQ(missing.kind, outcome_class::invalid_request);
  ASSERT_TRUE(missing.answer);
  EXPECT_NE(missing.answer->error_message.find("SQUALL_TEST_OPTIONS_KEY"), std::string::npos)
      << missing.answer->error_message;
  EXPECT_EQ(rig.transport->last_error(), missing.answer->error_message);
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2U) << "no request goes out without its key";
  EXPECT_EQ(reqs[0].header("x-api-key"), "ak-first");
  EXPECT_EQ(reqs[1].header("x-api-key"), "ak-second");
}

TEST(http_transport_options, a_key_callback_that_throws_or_breaks_lines_fails_the_attempt_not_the_process) {
  canned_http_server server(answer_ok());
  http_transport_options o;
  http_endpoint e = endpoint(server.base_url(), api_kind::openai, "");
  int calls = 0;
  e.api_key_provider = [&calls]() -> std::string {
    if (++calls == 1) throw std::runtime_error("vault unreachable");
    return "sk\r\nInjected: yes";
  };
  o.endpoints.push_back(e);
  options_rig rig(std::move(o));
  EXPECT_EQ(rig.call().kind, outcome_class::invalid_request);
  EXPECT_NE(rig.transport->last_error().find("vault unreachable"), std::string::npos) << rig.transport->last_error();
  EXPECT_EQ(rig.call().kind, outcome_class::invalid_request);
  EXPECT_NE(rig.transport->last_error().find("line break"), std::string::npos) << rig.transport->last_error();
  EXPECT_TRUE(server.requests().empty());
}

TEST(http_transport_options, one_key_source_per_endpoint) {
  http_transport_options o;
  http_endpoint e = endpoint("http://127.0.0.1:9/v1", api_kind::openai, "sk-1");
  e.api_key_env = "OPENAI_API_KEY";
  o.endpoints.push_back(e);
  EXPECT_NE(create_error(o).find("at most one of api_key, api_key_env and api_key_provider"), std::string::npos)
      << create_error(o);
}


// ----- the proxy (HTTP CONNECT) ------------------------------------------------------------------

using testing::contains;

TEST(http_transport_options, a_plain_endpoint_is_reached_through_the_proxys_tunnel) {
  canned_http_server server(answer_ok());
  connect_proxy proxy;
  http_transport_options o;
  o.endpoints.push_back(endpoint(server.base_url()));
  o.proxy = proxy.url();
  options_rig rig(std::move(o));
  EXPECT_EQ(rig.call().kind, outcome_class::ok) << rig.transport->last_error();
  EXPECT_EQ(rig.call().kind, outcome_class::ok) << rig.transport->last_error();
  const std::string target = "127.0.0.1:" + std::to_string(server.port());
  const auto heads = proxy.heads();
  ASSERT_EQ(heads.size(), 1U) << "the second request reuses the tunnelled keep-alive connection";
  EXPECT_EQ(heads[0], "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n");
  EXPECT_EQ(proxy.tunnels(), 1);
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2U);
  EXPECT_EQ(reqs[0].target, "/v1/chat/completions") << "an origin-form request inside the tunnel";
  EXPECT_EQ(reqs[0].header("host"), target);
  EXPECT_EQ(reqs[1].connection, reqs[0].connection);
}

TEST(http_transport_options, a_proxy_that_refuses_the_tunnel_is_a_connection_error_naming_it) {
  canned_http_server server(answer_ok());
  connect_proxy proxy("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\n"
                      "Content-Length: 0\r\n\r\n");
  http_transport_options o;
  o.endpoints.push_back(endpoint(server.base_url()));
  o.proxy = proxy.url();
  options_rig rig(std::move(o));
  const outcome failed = rig.call();
  EXPECT_EQ(failed.kind, outcome_class::connection_error);
  const std::string& why = rig.transport->last_error();
  EXPECT_TRUE(contains(why, "proxy 127.0.0.1:" + std::to_string(proxy.port()))) << why;
  EXPECT_TRUE(contains(why, "407 Proxy Authentication Required")) << why;
  ASSERT_TRUE(failed.answer);
  EXPECT_EQ(failed.answer->error_message, why);
  EXPECT_TRUE(server.requests().empty());
}

TEST(http_transport_options, a_proxy_that_is_not_listening_is_a_connection_error_naming_it) {
  canned_http_server server(answer_ok());
  std::string dead;
  {
    connect_proxy gone;
    dead = gone.url();
  }
  http_transport_options o;
  o.endpoints.push_back(endpoint(server.base_url()));
  o.proxy = dead;
  options_rig rig(std::move(o));
  EXPECT_EQ(rig.call().kind, outcome_class::connection_error);
  EXPECT_TRUE(contains(rig.transport->last_error(), "cannot connect to proxy")) << rig.transport->last_error();
}

TEST(http_transport_options, a_proxy_that_never_answers_counts_under_connect_timeout_ms) {
  // Accepts connections in the kernel's backlog and never reads: CONNECT goes out, no answer comes.
  boost::asio::io_context silent_io;
  boost::asio::ip::tcp::acceptor silent(silent_io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const std::string silent_where = "127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  canned_http_server server(answer_ok());
  http_transport_options o;
  o.endpoints.push_back(endpoint(server.base_url()));
  o.proxy = "http://" + silent_where;
  o.connect_timeout_ms = 100;
  options_rig rig(std::move(o));
  EXPECT_EQ(rig.call().kind, outcome_class::connection_error);
  const std::string& why = rig.transport->last_error();
  EXPECT_TRUE(contains(why, "through proxy " + silent_where)) << why;
  EXPECT_TRUE(contains(why, "connect_timeout_ms")) << why;
  EXPECT_TRUE(server.requests().empty());
}

TEST(http_transport_options, no_proxy_hosts_are_reached_directly) {
  canned_http_server server(answer_ok());
  connect_proxy proxy;
  http_transport_options o;
  o.endpoints.push_back(endpoint(server.base_url()));
  o.proxy = proxy.url();
  o.no_proxy = "internal.example, 127.0.0.1";
  options_rig rig(std::move(o));
  EXPECT_EQ(rig.call().kind, outcome_class::ok) << rig.transport->last_error();
  EXPECT_TRUE(proxy.heads().empty());
  EXPECT_EQ(server.requests().size(), 1U);
}

TEST(http_transport_options, no_proxy_matches_suffixes_exact_addresses_and_star) {
  using http_detail::no_proxy_matches;
  EXPECT_TRUE(no_proxy_matches("example.com", "api.example.com"));
  EXPECT_TRUE(no_proxy_matches(".example.com", "api.example.com"));
  EXPECT_TRUE(no_proxy_matches("*.example.com", "example.com"));
  EXPECT_TRUE(no_proxy_matches(" other.org , EXAMPLE.com", "Api.Example.Com"));
  EXPECT_FALSE(no_proxy_matches("example.com", "badexample.com"));
  EXPECT_TRUE(no_proxy_matches("10.0.0.1", "10.0.0.1"));
  EXPECT_FALSE(no_proxy_matches("0.0.1", "10.0.0.1")) << "addresses match exactly, not by suffix";
  EXPECT_TRUE(no_proxy_matches("[::1]", "::1"));
  EXPECT_TRUE(no_proxy_matches("*", "anything.example"));
  EXPECT_FALSE(no_proxy_matches("", "api.openai.com"));
}

TEST(http_transport_options, the_environment_names_the_proxy_only_when_asked) {
  canned_http_server server(answer_ok());
  connect_proxy proxy;
  ::setenv("HTTP_PROXY", proxy.url().c_str(), 1);
  ::unsetenv("NO_PROXY");
  ::unsetenv("no_proxy");
  {
    http_transport_options o;
    o.endpoints.push_back(endpoint(server.base_url()));
    options_rig rig(std::move(o));  // proxy_from_environment stays false
    EXPECT_EQ(rig.call().kind, outcome_class::ok);
    EXPECT_TRUE(proxy.heads().empty());
  }
  {
    http_transport_options o;
    o.endpoints.push_back(endpoint(server.base_url()));
    o.proxy_from_environment = true;
    options_rig rig(std::move(o));
    EXPECT_EQ(rig.call().kind, outcome_class::ok) << rig.transport->last_error();
    EXPECT_EQ(proxy.heads().size(), 1U);
  }
  ::setenv("NO_PROXY", "127.0.0.1", 1);
  {
    http_transport_options o;
    o.endpoints.push_back(endpoint(server.base_url()));
    o.proxy_from_environment = true;
    options_rig rig(std::move(o));
    EXPECT_EQ(rig.call().kind, outcome_class::ok);
    EXPECT_EQ(proxy.heads().size(), 1U) << "NO_PROXY exempts the endpoint";
  }
  ::unsetenv("NO_PROXY");
  ::unsetenv("HTTP_PROXY");
}

TEST(http_transport_options, loopback_only_checks_the_proxy_too) {
  http_transport_options o;
  o.endpoints.push_back(endpoint("http://127.0.0.1:9/v1"));
  o.endpoints[0].provider = "openai";
  o.proxy = "http://192.0.2.10:3128";
  o.loopback_only = true;
  const std::string why = create_error(o);
  EXPECT_TRUE(contains(why, "endpoints[0] (openai): proxy \"192.0.2.10\" resolves to 192.0.2.10, which is not a loopback"))
      << why;
  o.proxy = "https://127.0.0.1:3128";
  EXPECT_TRUE(contains(create_error(o), "a proxy is http://host:port")) << create_error(o);
}

// ----- through the proxy over TLS -----------------------------------------------------------------

sim::provider_config quick_openai() {
  sim::provider_config c;
  c.name = "openai";
  c.api = "openai";
  c.models = {{"gpt-4o-mini", sim::model_price{0.15, 0.60}}};
  c.ttft_ms = sim::distribution::constant(5);
  c.ms_per_output_token = sim::distribution::constant(1);
  c.error_latency_ms = sim::distribution::constant(1);
  return c;
}

TEST(http_transport_options, an_https_endpoint_runs_tls_end_to_end_inside_the_tunnel) {
  const fake::certificate_authority ca = fake::make_certificate_authority();
  const auto ca_path =
      std::filesystem::temp_directory_path() / ("squall-proxy-test-" + std::to_string(::getpid()) + "-ca.pem");
  std::ofstream(ca_path) << ca.certificate_pem;
  fake::server_options so;
  so.tls = fake::make_server_certificate(ca, fake::loopback_names());
  fake::fake_server provider(std::vector<sim::provider_config>{quick_openai()}, so);
  const auto started = provider.start();
  ASSERT_FALSE(started) << *started;
  const std::uint16_t port = provider.endpoints().at(0).port;
  connect_proxy proxy;
  {
    transport_harness h("https://127.0.0.1:" + std::to_string(port) + "/v1", [&](http_transport_options& o) {
      o.ca_file = ca_path.string();
      o.proxy = proxy.url();
      o.loopback_only = true;
    });
    const outcome o = h.call();
    EXPECT_EQ(o.kind, outcome_class::ok) << h.transport->last_error();
    EXPECT_EQ(o.output_tokens, 7U);
    EXPECT_EQ(h.transport->stats().tls_handshakes, 1U);
    const auto heads = proxy.heads();
    ASSERT_EQ(heads.size(), 1U);
    EXPECT_TRUE(heads[0].starts_with("CONNECT 127.0.0.1:" + std::to_string(port) + " HTTP/1.1\r\n")) << heads[0];
  }
  std::filesystem::remove(ca_path);
}

}  // namespace
}  // namespace squall
