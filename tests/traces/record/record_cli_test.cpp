// `squall record` through the binary: the address line, a recorded exchange, SIGTERM writing the trace,
// and the exit codes for bad input and an unwritable trace.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fake_providers/fake_server.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/http_test_client.hpp"

namespace {

namespace fs = std::filesystem;

using squall::testing::child_process;

fs::path temp_trace(const std::string& name) {
  return fs::temp_directory_path() / ("squall_record_cli_" + std::to_string(::getpid()) + "_" + name + ".jsonl");
}

TEST(RecordCli, RecordsUntilSigtermAndWritesTheTrace) {
  squall::sim::provider_config c;
  c.name = "openai";
  c.models = {{"gpt-4o-mini", squall::sim::model_price{1, 2}}};
  c.ttft_ms = squall::sim::distribution::constant(5);
  c.ms_per_output_token = squall::sim::distribution::constant(1);
  squall::fake::fake_server up({c});
  ASSERT_FALSE(up.start());
  const fs::path trace = temp_trace("sigterm");
  child_process p(SQUALL_BINARY, {"squall", "record", "--upstream", up.endpoints()[0].origin, "--listen",
                                  "127.0.0.1:0", "--out", trace.string(), "--provider", "primary"});
  const std::string first = p.line();
  const std::string prefix = "squall record: listening on http://127.0.0.1:";
  ASSERT_EQ(first.rfind(prefix, 0), 0U) << first;
  ASSERT_NE(first.find(" -> " + up.endpoints()[0].origin), std::string::npos) << first;
  const auto port = static_cast<std::uint16_t>(std::stoi(first.substr(prefix.size())));
  squall::fake::testing::client client(port);
  const auto reply = client.post(
      "/v1/chat/completions",
      nlohmann::json{{"model", "gpt-4o-mini"}, {"max_tokens", 3}, {"messages", {{{"role", "user"}, {"content", "a b"}}}}},
      {{"authorization", "Bearer sk-CLI-SECRET"}});
  EXPECT_EQ(reply.status, 200);
  client.close();
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0);
  std::ifstream in(trace);
  std::stringstream s;
  s << in.rdbuf();
  const std::string text = s.str();
  fs::remove(trace);
  EXPECT_EQ(text.rfind("{\"squall_trace\":1,\"source\":\"record\"", 0), 0U) << text;
  EXPECT_NE(text.find("\"provider\":\"primary\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"output_tokens\":3"), std::string::npos) << text;
  EXPECT_EQ(text.find("SECRET"), std::string::npos) << text;
}

TEST(RecordCli, ForSecondsStopsOnItsOwn) {
  const fs::path trace = temp_trace("for_s");
  child_process p(SQUALL_BINARY, {"squall", "record", "--upstream", "http://127.0.0.1:9", "--out",
                                  trace.string(), "--for-s", "0.2"});
  EXPECT_EQ(p.wait(), 0);
  EXPECT_TRUE(fs::exists(trace));
  fs::remove(trace);
}

TEST(RecordCli, BadInputAndUnwritableTraceHaveTheirExitCodes) {
  child_process remote(SQUALL_BINARY, {"squall", "record", "--upstream", "http://192.0.2.1:80", "--out",
                                       temp_trace("x").string()});
  const std::string message = remote.line();
  EXPECT_EQ(remote.wait(), 2);
  EXPECT_NE(message.find("--allow-remote"), std::string::npos) << message;
  child_process bad(SQUALL_BINARY,
                    {"squall", "record", "--upstream", "ftp://x", "--out", temp_trace("y").string()});
  EXPECT_EQ(bad.wait(), 2);
  child_process unwritable(SQUALL_BINARY, {"squall", "record", "--upstream", "http://127.0.0.1:9", "--out",
                                           "/nonexistent/dir/t.jsonl"});
  EXPECT_EQ(unwritable.wait(), 3);
  EXPECT_FALSE(fs::exists(temp_trace("x")));
}

// Issue 13: record looked the upstream's name up before checking it was loopback, so a DNS query left the
// machine (and without a network the user got "cannot resolve" instead of the reason). A name that is not
// localhost is refused from its text, with the loopback message, before any lookup: example.invalid can
// never resolve, so a resolution would show as a DNS error here.
TEST(RecordCli, ARemoteUpstreamNameIsRefusedWithoutResolvingIt) {
  for (const std::string upstream : {"http://example.invalid/v1", "http://localhost.example.invalid:8080/v1"}) {
    SCOPED_TRACE(upstream);
    child_process p(SQUALL_BINARY,
                    {"squall", "record", "--upstream", upstream, "--out", temp_trace("remote").string()});
    const std::string message = p.line();
    EXPECT_EQ(p.wait(), 2);
    EXPECT_NE(message.find("--upstream"), std::string::npos) << message;
    EXPECT_NE(message.find("is not a loopback address"), std::string::npos) << message;
    EXPECT_NE(message.find("--allow-remote"), std::string::npos) << message;
    EXPECT_EQ(message.find("resolve \""), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(temp_trace("remote")));
  }
}

}  // namespace
