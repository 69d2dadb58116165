// `squall serve --tls` through the binary (issue 14): it makes a throwaway CA, prints where its
// certificate is with the https URLs, and answers squall's own HTTPS transport trusting that file; the CA
// file goes where --ca-out says; --cert and --key are served as given; bad certificate files exit 2
// naming the file.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fake_providers/tls_certificate.hpp"
#include "policies/http/http_transport.hpp"
#include "tests/support/fake_transport.hpp"
#include "tests/support/squall_binary_test.hpp"

namespace {

namespace fs = std::filesystem;
const fs::path source_dir = SQUALL_SOURCE_DIR;
const std::string scenario = "tests/fake_providers/sdk/sdk_scenario.json";  // an OpenAI and an Anthropic provider

// `squall serve ...` with its stdout and stderr on one pipe, started in the source tree.
struct serve_process {
  pid_t pid = -1;
  FILE* out = nullptr;
  std::string seen;

  explicit serve_process(const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid = ::fork();
    if (pid == 0) {
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      ::close(fds[0]);
      ::close(fds[1]);
      if (::chdir(source_dir.c_str()) != 0) ::_exit(120);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(SQUALL_BINARY, argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out = ::fdopen(fds[0], "r");
  }
  ~serve_process() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (out) std::fclose(out);
  }
  serve_process(const serve_process&) = delete;
  serve_process& operator=(const serve_process&) = delete;

  // The rest of the line that starts with `prefix`, reading until it comes (or the output ends).
  std::string line_after(const std::string& prefix) {
    char buf[1024];
    while (out && std::fgets(buf, sizeof buf, out)) {
      std::string line(buf);
      seen += line;
      if (line.rfind(prefix, 0) == 0) {
        line = line.substr(prefix.size());
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        return line;
      }
    }
    return {};
  }
  // SIGTERM, then the exit status.
  int stop() {
    ::kill(pid, SIGTERM);
    char buf[1024];
    while (out && std::fgets(buf, sizeof buf, out)) seen += buf;
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

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
  serve_process serve({SQUALL_BINARY, "serve", scenario, "--tls", "--for-s", "120"});
  const std::string ca = serve.line_after("CA certificate: ");
  ASSERT_FALSE(ca.empty()) << serve.seen;
  const std::string openai = serve.line_after("openai ");
  ASSERT_EQ(openai.rfind("https://127.0.0.1:", 0), 0U) << serve.seen;
  EXPECT_EQ(openai.substr(openai.size() - 3), "/v1");
  const std::string anthropic = serve.line_after("anthropic ");
  EXPECT_EQ(anthropic.rfind("https://127.0.0.1:", 0), 0U) << serve.seen;
  ASSERT_TRUE(fs::exists(ca));
  EXPECT_NE(slurp(ca).find("-----BEGIN CERTIFICATE-----"), std::string::npos);

  const auto [answer, error] = chat_over_https(openai, ca);
  EXPECT_EQ(answer.kind, squall::outcome_class::ok) << error;
  EXPECT_EQ(answer.output_tokens, 4U);
  const auto [untrusted, why] = chat_over_https(openai, "");
  EXPECT_EQ(untrusted.kind, squall::outcome_class::connection_error) << "the system store does not know the throwaway CA";
  EXPECT_NE(why.find("certificate verify failed"), std::string::npos) << why;

  EXPECT_EQ(serve.stop(), 0) << serve.seen;
  EXPECT_FALSE(fs::exists(fs::path(ca).parent_path())) << "the throwaway CA's directory goes when serve stops";
}

TEST_F(CliServeTls, CaOutPutsTheCaCertificateWhereItIsAskedAndKeepsIt) {
  const fs::path ca = dir_ / "ca.pem";
  serve_process serve({SQUALL_BINARY, "serve", scenario, "--tls", "--ca-out", ca.string(), "--for-s", "120"});
  EXPECT_EQ(serve.line_after("CA certificate: "), ca.string()) << serve.seen;
  const std::string openai = serve.line_after("openai ");
  EXPECT_EQ(chat_over_https(openai, ca.string()).first.kind, squall::outcome_class::ok);
  EXPECT_EQ(serve.stop(), 0) << serve.seen;
  EXPECT_TRUE(fs::exists(ca));
}

TEST_F(CliServeTls, ServesTheGivenCertificateAndKey) {
  const squall::fake::certificate_authority ca = squall::fake::make_certificate_authority("the user's CA");
  const squall::fake::tls_identity id = squall::fake::make_server_certificate(ca, {"127.0.0.1"});
  const fs::path cert = dir_ / "server.pem", key = dir_ / "server.key", ca_file = dir_ / "ca.pem";
  std::ofstream(cert) << id.certificate_chain_pem;
  std::ofstream(key) << id.private_key_pem;
  std::ofstream(ca_file) << ca.certificate_pem;
  serve_process serve({SQUALL_BINARY, "serve", scenario, "--tls", "--cert", cert.string(), "--key", key.string(),
                       "--for-s", "120"});
  const std::string openai = serve.line_after("openai ");
  ASSERT_EQ(openai.rfind("https://127.0.0.1:", 0), 0U) << serve.seen;
  EXPECT_EQ(serve.seen.find("CA certificate:"), std::string::npos) << "no CA made: the certificate is the user's";
  const auto [answer, error] = chat_over_https(openai, ca_file.string());
  EXPECT_EQ(answer.kind, squall::outcome_class::ok) << error;
  EXPECT_EQ(serve.stop(), 0) << serve.seen;
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
