// The fake providers over TLS (issue 14): throwaway certificates that verify against their own CA and
// nothing else, the server's HTTPS sessions (JSON, streams, the control API, keep-alive), and what it does
// with clients that fail the handshake. Real servers on loopback port 0, a real TLS client (Beast over
// OpenSSL) that verifies the certificate and the name.

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "fake_providers/fake_server.hpp"
#include "fake_providers/tls_certificate.hpp"
#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using nlohmann::json;
using testing::openai_config;
using testing::parse_sse;

// A blocking HTTPS client with one keep-alive connection that trusts `ca_pem` only and checks that the
// certificate names `host`. Every step runs asynchronously under a deadline, so a test never hangs.
class tls_client {
 public:
  tls_client(std::uint16_t port, const std::string& ca_pem, std::string host = "127.0.0.1")
      : port_(port), host_(std::move(host)) {
    ctx_.set_verify_mode(ssl::verify_peer);
    ctx_.add_certificate_authority(asio::buffer(ca_pem));
    stream_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io_, ctx_);
  }

  // The handshake's error, if any (also run by request() when not connected).
  boost::system::error_code connect() {
    auto& s = *stream_;
    beast::get_lowest_layer(s).expires_after(std::chrono::seconds(10));
    boost::system::error_code ec = run([&](auto done) {
      beast::get_lowest_layer(s).async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_),
                                               [done](boost::system::error_code e) { done(e, 0); });
    });
    if (ec) return ec;
    s.set_verify_callback(ssl::host_name_verification(host_));
    if (host_.find_first_not_of("0123456789.:") != std::string::npos) {
      // SSL_set_tlsext_host_name, without its C cast.
      SSL_ctrl(s.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host_.c_str()));
    }
    ec = run([&](auto done) { s.async_handshake(ssl::stream_base::client, [done](boost::system::error_code e) { done(e, 0); }); });
    connected_ = !ec;
    return ec;
  }

  testing::reply request(http::verb method, const std::string& target, const std::string& body = "") {
    testing::reply r;
    if (!connected_) {
      r.error = connect();
      if (r.error) return r;
    }
    auto& s = *stream_;
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, host_);
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    beast::get_lowest_layer(s).expires_after(std::chrono::seconds(10));
    r.error = run([&](auto done) { http::async_write(s, req, done); });
    if (r.error) return r;
    http::response<http::string_body> res;
    r.error = run([&](auto done) { http::async_read(s, buffer_, res, done); });
    if (r.error) return r;
    r.status = static_cast<int>(res.result_int());
    r.body = res.body();
    return r;
  }

 private:
  template <class Start>
  boost::system::error_code run(Start start) {
    boost::system::error_code result;
    start([&result](boost::system::error_code e, std::size_t) { result = e; });
    io_.restart();
    io_.run();
    return result;
  }

  asio::io_context io_;
  ssl::context ctx_{ssl::context::tls_client};
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
  std::uint16_t port_;
  std::string host_;
  bool connected_ = false;
};

struct tls_server {
  certificate_authority ca = make_certificate_authority();
  testing::running r;

  explicit tls_server(server_options o = {}) : r({openai_config()}, with_tls(std::move(o), ca)) {}
  static server_options with_tls(server_options o, const certificate_authority& ca) {
    o.tls = make_server_certificate(ca, loopback_names());
    return o;
  }
  std::uint16_t port() const { return r.port(); }
};

// Verifies `cert_pem` against a store holding `ca_pem` only (no name check); the X509 error, 0 when it holds.
int verify(const std::string& cert_pem, const std::string& ca_pem) {
  auto read = [](const std::string& pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return x;
  };
  X509* cert = read(cert_pem);
  X509* ca = read(ca_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  const int ok = X509_verify_cert(ctx);
  const int error = ok == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(ca);
  X509_free(cert);
  return error;
}

TEST(FakeServerTls, GeneratedCertificatesVerifyAgainstTheirOwnCaOnly) {
  const certificate_authority ca = make_certificate_authority();
  const certificate_authority other = make_certificate_authority("another CA");
  const tls_identity id = make_server_certificate(ca, loopback_names());
  EXPECT_EQ(verify(id.certificate_chain_pem, ca.certificate_pem), 0);
  EXPECT_EQ(verify(id.certificate_chain_pem, other.certificate_pem), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  EXPECT_NE(ca.certificate_pem, other.certificate_pem) << "a new key every time";
  EXPECT_FALSE(check_tls_identity(id));
  EXPECT_EQ(check_tls_identity({id.certificate_chain_pem, other.private_key_pem}),
            "the private key does not match the certificate");
  EXPECT_NE(check_tls_identity({"junk", id.private_key_pem})->find("not a PEM certificate"), std::string::npos);
  EXPECT_NE(check_tls_identity({id.certificate_chain_pem, "junk"})->find("private key"), std::string::npos);
}

TEST(FakeServerTls, ServesTheApiAndTheControlApiOverHttps) {
  tls_server s;
  const endpoint_info& e = s.r.server.endpoints().at(0);
  EXPECT_EQ(e.base_url, "https://127.0.0.1:" + std::to_string(e.port) + "/v1");
  tls_client c(s.port(), s.ca.certificate_pem);
  EXPECT_EQ(c.request(http::verb::get, "/healthz").status, 200);
  const json chat = {{"model", "gpt-4o-mini"},
                     {"messages", json::array({{{"role", "user"}, {"content", "one two three"}}})},
                     {"max_tokens", 5}};
  testing::reply answer = c.request(http::verb::post, "/v1/chat/completions", chat.dump());
  ASSERT_EQ(answer.status, 200) << answer.error.message();
  EXPECT_EQ(answer.json()["usage"]["completion_tokens"], 5);
  json streamed = chat;
  streamed["stream"] = true;
  testing::reply stream = c.request(http::verb::post, "/v1/chat/completions", streamed.dump());
  ASSERT_EQ(stream.status, 200);
  const auto events = parse_sse(stream.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().data, "[DONE]");
  testing::reply metrics = c.request(http::verb::get, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("squall_fake_connections_total{provider=\"openai\"} 1"), std::string::npos)
      << "four exchanges on one keep-alive TLS connection\n" << metrics.body;
  EXPECT_NE(metrics.body.find("squall_fake_tls_handshake_failures_total{provider=\"openai\"} 0"), std::string::npos);
}

TEST(FakeServerTls, TheCertificateNamesLocalhostAndBothLoopbackAddresses) {
  tls_server s;
  tls_client by_name(s.port(), s.ca.certificate_pem, "localhost");
  EXPECT_EQ(by_name.request(http::verb::get, "/healthz").status, 200);
  tls_client wrong_name(s.port(), s.ca.certificate_pem, "example.com");
  EXPECT_TRUE(wrong_name.connect()) << "a name the certificate does not carry fails verification";
}

TEST(FakeServerTls, ClientsThatFailTheHandshakeAreCountedAndTheServerGoesOn) {
  tls_server s;
  const certificate_authority other = make_certificate_authority("another CA");
  tls_client untrusting(s.port(), other.certificate_pem);
  EXPECT_TRUE(untrusting.connect());
  // Plain HTTP on the TLS port: no HTTP answer comes back, the connection just closes.
  testing::client plain(s.port(), 10'000);
  const testing::reply r = plain.get("/healthz");
  EXPECT_EQ(r.status, 0);
  tls_client good(s.port(), s.ca.certificate_pem);
  testing::reply metrics = good.request(http::verb::get, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("squall_fake_tls_handshake_failures_total{provider=\"openai\"} 2"), std::string::npos)
      << metrics.body;
}

TEST(FakeServerTls, StartRefusesAnUnusableCertificate) {
  const certificate_authority ca = make_certificate_authority();
  const certificate_authority other = make_certificate_authority();
  server_options o;
  o.tls = tls_identity{make_server_certificate(ca, loopback_names()).certificate_chain_pem, other.private_key_pem};
  fake_server server({openai_config()}, o);
  const auto e = server.start();
  ASSERT_TRUE(e);
  EXPECT_NE(e->find("does not match"), std::string::npos) << *e;
  EXPECT_TRUE(server.endpoints().empty());
}

}  // namespace
}  // namespace squall::fake
