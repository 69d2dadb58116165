// `squall serve --tls` through the binary (issue 14): it makes a throwaway CA, prints where its
// certificate is with the https URLs, and answers squall's own HTTPS transport trusting that file; the CA
// file goes where --ca-out says; --cert and --key are served as given; bad certificate files exit 2
// naming the file.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fake_providers/tls_certificate.hpp"
#include "policies/http/http_transport.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fake_transport.hpp"
#include "tests/support/squall_binary_test.hpp"

namespace {

namespace fs = std::filesystem;
using squall::testing::source_dir;
const std::string scenario = "tests/fake_providers/sdk/sdk_scenario.json";  // an OpenAI and an Anthropic provider
using squall::testing::child_process;  // `squall serve ...`, started in the source tree

// One chat completion through squall's transport, trusting `ca_file`: the outcome and the transport's last error.
std::pair<squall::outcome, std::string> chat_over_https(const std::string& base_url, const std::string& ca_file) {
  boost::asio::io_context io;
  squall::asio_runtime rt(io);
  squall::http_transport_options o;
  o.endpoints.push_back({"openai", squall::api_kind::openai, base_url, "sk-test", false});
  o.ca_file = ca_file;
  auto made = squall::http_transport::create(rt, std::move(o));
  if (!made) return {squall::outcome::failure(squall::outcome_class::invalid_request), made.error().describe()};
  squall::call_context c;
  c.req.model = "gpt-4o-mini";
  c.req.input_tokens = 10;
  c.req.output_tokens = 4;
  squall::testing::recording_receiver rec;
  made.value()->start(squall::call_scope{&c, squall::time_never}, rec);
  while (rec.calls == 0 && io.run_one() > 0) {
  }
  return {rec.last, made.value()->last_error()};
}

class CliServeTls : public squall::testing::squall_binary_test {};

TEST_F(CliServeTls, MakesAThrowawayCaPrintsItsPathAndAnswersHttps) {
  child_process serve(SQUALL_BINARY, {SQUALL_BINARY, "serve", scenario, "--tls", "--for-s", "120"},
                      source_dir);
  const std::string ca = serve.line_after("CA certificate: ");
  ASSERT_FALSE(ca.empty()) << serve.output();
  const std::string openai = serve.line_after("openai ");
  ASSERT_EQ(openai.rfind("https://127.0.0.1:", 0), 0U) << serve.output();
  EXPECT_EQ(openai.substr(openai.size() - 3), "/v1");
  const std::string anthropic = serve.line_after("anthropic ");
  EXPECT_EQ(anthropic.rfind("https://127.0.0.1:", 0), 0U) << serve.output();
  ASSERT_TRUE(fs::exists(ca));
  EXPECT_NE(slurp(ca).find("-----BEGIN CERTIFICATE-----"), std::string::npos);

  const auto [answer, error] = chat_over_https(openai, ca);
  EXPECT_EQ(answer.kind, squall::outcome_class::ok) << error;
  EXPECT_EQ(answer.output_tokens, 4U);
  const auto [untrusted, why] = chat_over_https(openai, "");
  EXPECT_EQ(untrusted.kind, squall::outcome_class::connection_error) << "the system store does not know the throwaway CA";
  EXPECT_NE(why.find("certificate verify failed"), std::string::npos) << why;

  EXPECT_EQ(serve.stop(), 0) << serve.output();
  EXPECT_FALSE(fs::exists(fs::path(ca).parent_path())) << "the throwaway CA's directory goes when serve stops";
}

TEST_F(CliServeTls, CaOutPutsTheCaCertificateWhereItIsAskedAndKeepsIt) {
  const fs::path ca = dir_ / "ca.pem";
  child_process serve(SQUALL_BINARY,
                      {SQUALL_BINARY, "serve", scenario, "--tls", "--ca-out", ca.string(), "--for-s", "120"},
                      source_dir);
  EXPECT_EQ(serve.line_after("CA certificate: "), ca.string()) << serve.output();
  const std::string openai = serve.line_after("openai ");
  EXPECT_EQ(chat_over_https(openai, ca.string()).first.kind, squall::outcome_class::ok);
  EXPECT_EQ(serve.stop(), 0) << serve.output();
  EXPECT_TRUE(fs::exists(ca));
}

TEST_F(CliServeTls, ServesTheGivenCertificateAndKey) {
  const squall::fake::certificate_authority ca = squall::fake::make_certificate_authority("the user's CA");
  const squall::fake::tls_identity id = squall::fake::make_server_certificate(ca, {"127.0.0.1"});
  const fs::path cert = dir_ / "server.pem", key = dir_ / "server.key", ca_file = dir_ / "ca.pem";
  std::ofstream(cert) << id.certificate_chain_pem;
  std::ofstream(key) << id.private_key_pem;
  std::ofstream(ca_file) << ca.certificate_pem;
  child_process serve(SQUALL_BINARY,
                      {SQUALL_BINARY, "serve", scenario, "--tls", "--cert", cert.string(), "--key",
                       key.string(), "--for-s", "120"},
                      source_dir);
  const std::string openai = serve.line_after("openai ");
  ASSERT_EQ(openai.rfind("https://127.0.0.1:", 0), 0U) << serve.output();
  EXPECT_EQ(serve.output().find("CA certificate:"), std::string::npos)
      << "no CA made: the certificate is the user's";
  const auto [answer, error] = chat_over_https(openai, ca_file.string());
  EXPECT_EQ(answer.kind, squall::outcome_class::ok) << error;
  EXPECT_EQ(serve.stop(), 0) << serve.output();
}

TEST_F(CliServeTls, UnreadableOrUnusableCertificateFilesAreBadInputNamingTheFile) {
  EXPECT_EQ(run("serve " + scenario + " --tls --cert /nonexistent/cert.pem --key /nonexistent/key.pem"), 2);
  EXPECT_NE(output().find("/nonexistent/cert.pem"), std::string::npos) << output();
  const fs::path junk = dir_ / "junk.pem";
  std::ofstream(junk) << "not a certificate\n";
  EXPECT_EQ(run("serve " + scenario + " --tls --cert " + junk.string() + " --key " + junk.string()), 2);
  EXPECT_NE(output().find(junk.string()), std::string::npos) << output();
  EXPECT_NE(output().find("not a PEM certificate"), std::string::npos) << output();
  EXPECT_EQ(run("serve " + scenario + " --cert " + junk.string() + " --key " + junk.string()), 2) << "--cert needs --tls";
  EXPECT_NE(output().find("--tls"), std::string::npos) << output();
}

}  // namespace
