// Anthropic's endpoints beyond /v1/messages itself, on a real server on loopback port 0.
#include <gtest/gtest.h>

#include "fake_providers/fake_server.hpp"
#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

using nlohmann::json;
using testing::anthropic_config;
using testing::client;
using testing::running;

json conversation() {
  return {{"model", "claude-sonnet-4"},
          {"system", "answer in one short line"},
          {"messages", json::array({{{"role", "user"}, {"content", "how long is a piece of string"}},
                                    {{"role", "assistant"}, {"content", "twice half its length"}},
                                    {{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", "and?"}}})}}})}};
}

TEST(AnthropicCountTokens, CountsWhatAMessagesRequestWithTheSameBodyIsBilledFor) {
  server_options o;
  o.record_attempts = true;
  running r({anthropic_config()}, o);
  client c(r.port());
  const testing::reply counted = c.post("/v1/messages/count_tokens", conversation());
  ASSERT_EQ(counted.status, 200) << counted.body;
  EXPECT_EQ(counted.json(), json({{"input_tokens", 17}}));  // words: system 5, then 7 + 4 + 1

  json billed_body = conversation();
  billed_body["max_tokens"] = 4;
  const testing::reply billed = c.post("/v1/messages", billed_body);
  ASSERT_EQ(billed.status, 200) << billed.body;
  EXPECT_EQ(billed.json()["usage"]["input_tokens"], counted.json()["input_tokens"]);
  // Counting is not an AI attempt: only the messages request is in the attempt log.
  const std::vector<upstream_attempt> attempts = r.server.take_attempts();
  ASSERT_EQ(attempts.size(), 1U);
  EXPECT_EQ(attempts[0].kind, "messages");
}

TEST(AnthropicCountTokens, RefusesWhatAMessagesRequestWouldBeRefusedFor) {
  running r({anthropic_config()});
  client c(r.port());
  json no_messages = conversation();
  no_messages.erase("messages");
  const testing::reply missing = c.post("/v1/messages/count_tokens", no_messages);
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.json()["error"]["type"], "invalid_request_error");
  EXPECT_EQ(c.post("/v1/messages/count_tokens", std::string("{not json")).status, 400);
  json unknown = conversation();
  unknown["model"] = "claude-nope";
  const testing::reply not_found = c.post("/v1/messages/count_tokens", unknown);
  EXPECT_EQ(not_found.status, 404);
  EXPECT_EQ(not_found.json()["error"]["type"], "not_found_error");
  EXPECT_EQ(c.get("/v1/messages/count_tokens").status, 405);
}

}  // namespace
}  // namespace squall::fake
