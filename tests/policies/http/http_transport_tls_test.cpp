// The transport over TLS (issue 14) against squall's fake provider serving HTTPS in-process with a
// certificate from a throwaway CA: answers arrive when the CA is trusted, and a certificate from another
// CA, one that does not name the host, or a server that does not speak TLS end the attempt with a
// connection_error whose reason last_error() tells. Loopback, port 0.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "fake_providers/fake_server.hpp"
#include "fake_providers/tls_certificate.hpp"
#include "tests/policies/http/transport_harness.hpp"
#include "tests/support/canned_http_server.hpp"

namespace squall {
namespace {

using testing::transport_harness;

using testing::contains;

sim::provider_config quick_tls_openai() {
  sim::provider_config c;
  c.name = "openai";
  c.api = "openai";
  c.models = {{"gpt-4o-mini", sim::model_price{0.15, 0.60}}};
  c.ttft_ms = sim::distribution::constant(5);
  c.ms_per_output_token = sim::distribution::constant(1);
  c.error_latency_ms = sim::distribution::constant(1);
  return c;
}

// A PEM file in the temporary directory, removed with the object.
struct pem_file {
  std::filesystem::path path;
  explicit pem_file(const std::string& pem, const std::string& name) {
    path = std::filesystem::temp_directory_path() / ("squall-tls-test-" + std::to_string(::getpid()) + "-" + name + ".pem");
    std::ofstream(path) << pem;
  }
  ~pem_file() { std::filesystem::remove(path); }
  pem_file(const pem_file&) = delete;
  pem_file& operator=(const pem_file&) = delete;
};

// The fake provider over HTTPS with a certificate for `names`, signed by its own throwaway CA.
struct https_provider {
  fake::certificate_authority ca = fake::make_certificate_authority();
  pem_file ca_file{ca.certificate_pem, "ca"};
  std::unique_ptr<fake::fake_server> server;

  explicit https_provider(const std::vector<std::string>& names = fake::loopback_names(), double idle_timeout_s = 60) {
    fake::server_options o;
    o.tls = fake::make_server_certificate(ca, names);
    o.idle_timeout_s = idle_timeout_s;
    server = std::make_unique<fake::fake_server>(std::vector<sim::provider_config>{quick_tls_openai()}, o);
    const auto e = server->start();
    EXPECT_FALSE(e) << *e;
  }
  std::uint16_t port() const { return server->endpoints().at(0).port; }
  std::string url(const std::string& host = "127.0.0.1") const {
    return "https://" + host + ":" + std::to_string(port()) + "/v1";
  }
};

std::function<void(http_transport_options&)> trusting(const std::filesystem::path& ca) {
  return [ca](http_transport_options& o) { o.ca_file = ca.string(); };
}

TEST(http_transport_tls, an_https_endpoint_answers_when_its_ca_is_trusted) {
  https_provider p;
  EXPECT_EQ(p.server->endpoints().at(0).base_url, p.url());
  transport_harness h(p.url(), trusting(p.ca_file.path));
  const outcome first = h.call();
  EXPECT_EQ(first.kind, outcome_class::ok) << h.transport->last_error();
  EXPECT_EQ(first.output_tokens, 7U);
  EXPECT_EQ(h.call().kind, outcome_class::ok);
  EXPECT_EQ(h.transport->stats().tls_handshakes, 1U);
  EXPECT_EQ(h.transport->stats().connections_reused, 1U) << "the TLS connection is kept alive and reused";
  EXPECT_EQ(h.transport->stats().tls_failures, 0U);
}

TEST(http_transport_tls, a_stream_over_tls_by_host_name) {
  https_provider p;
  transport_harness h(p.url("localhost"), trusting(p.ca_file.path), api_kind::openai, true);
  const outcome o = h.call();
  EXPECT_EQ(o.kind, outcome_class::ok) << h.transport->last_error();
  EXPECT_TRUE(o.time_to_first_token);
  EXPECT_EQ(h.transport->stats().resolves, 1U) << "a name is looked up for the new connection";
}

TEST(http_transport_tls, a_certificate_from_another_ca_is_a_connection_error_that_says_why) {
  https_provider p;
  const fake::certificate_authority other = fake::make_certificate_authority("another CA");
  pem_file other_file(other.certificate_pem, "other-ca");
  transport_harness h(p.url(), trusting(other_file.path));
  const outcome o = h.call();
  EXPECT_EQ(o.kind, outcome_class::connection_error);
  EXPECT_EQ(h.transport->stats().tls_failures, 1U);
  EXPECT_TRUE(contains(h.transport->last_error(), "certificate verify failed")) << h.transport->last_error();
  EXPECT_TRUE(contains(h.transport->last_error(), "127.0.0.1:" + std::to_string(p.port()))) << h.transport->last_error();
  EXPECT_EQ(h.transport->open_connections(), 0U);
}

TEST(http_transport_tls, without_the_ca_the_system_store_alone_does_not_trust_a_throwaway_certificate) {
  https_provider p;
  transport_harness h(p.url());
  EXPECT_EQ(h.call().kind, outcome_class::connection_error);
  EXPECT_TRUE(contains(h.transport->last_error(), "certificate verify failed")) << h.transport->last_error();
}

TEST(http_transport_tls, a_certificate_that_does_not_name_the_address_fails) {
  https_provider p({"example.invalid"});
  transport_harness h(p.url(), trusting(p.ca_file.path));
  EXPECT_EQ(h.call().kind, outcome_class::connection_error);
  EXPECT_EQ(h.transport->stats().tls_failures, 1U);
  EXPECT_TRUE(contains(h.transport->last_error(), "IP address mismatch")) << h.transport->last_error();
}

TEST(http_transport_tls, a_certificate_that_does_not_name_the_host_fails) {
  https_provider p({"127.0.0.1"});  // the address, not the name
  transport_harness h(p.url("localhost"), trusting(p.ca_file.path));
  EXPECT_EQ(h.call().kind, outcome_class::connection_error);
  EXPECT_TRUE(contains(h.transport->last_error(), "hostname mismatch")) << h.transport->last_error();
}

TEST(http_transport_tls, a_plain_http_server_behind_an_https_url_fails_the_handshake) {
  // The fake provider without TLS answers the ClientHello with a 400, as a plain HTTP server does.
  fake::fake_server plain(std::vector<sim::provider_config>{quick_tls_openai()});
  ASSERT_FALSE(plain.start());
  transport_harness h("https://127.0.0.1:" + std::to_string(plain.endpoints().at(0).port) + "/v1");
  EXPECT_EQ(h.call().kind, outcome_class::connection_error);
  EXPECT_EQ(h.transport->stats().tls_failures, 1U);
  EXPECT_TRUE(contains(h.transport->last_error(), "TLS handshake with 127.0.0.1:")) << h.transport->last_error();
}

TEST(http_transport_tls, a_server_that_never_answers_the_handshake_is_bounded_by_the_connect_timeout) {
  testing::canned_http_server silent([](const testing::received_request&) { return testing::canned_reply{}; });
  transport_harness h("https://127.0.0.1:" + std::to_string(silent.port()) + "/v1",
                      [](http_transport_options& o) { o.connect_timeout_ms = 100; });
  EXPECT_EQ(h.call().kind, outcome_class::connection_error);
  EXPECT_TRUE(contains(h.transport->last_error(), "TLS handshake) within connect_timeout_ms")) << h.transport->last_error();
  EXPECT_TRUE(silent.requests().empty()) << "no HTTP request went out in the clear";
}

TEST(http_transport_tls, an_idle_tls_connection_the_server_closed_is_replaced_before_the_write) {
  // The server drops a connection that has not sent a whole request within 0.5 s of its last exchange
  // (or of its start: the handshake and the first request must fit, even under ThreadSanitizer on a
  // loaded machine; 50 ms did not).
  https_provider p(fake::loopback_names(), 0.5);
  transport_harness h(p.url(), trusting(p.ca_file.path));
  EXPECT_EQ(h.call().kind, outcome_class::ok) << h.transport->last_error();
  // Long enough for the server's idle timer to have closed it; no assertion rests on the timing: were
  // it still open, it would simply be reused.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(h.call().kind, outcome_class::ok) << h.transport->last_error();
  EXPECT_EQ(h.transport->stats().not_resent, 0U);
  EXPECT_EQ(h.transport->stats().stale_reconnects + h.transport->stats().connections_reused, 1U);
}

}  // namespace
}  // namespace squall
