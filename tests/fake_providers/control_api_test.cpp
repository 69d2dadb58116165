// The control API (/squall/faults): removing one armed window by its id (issue 16). Real servers on
// loopback port 0, a real HTTP client.
#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <string>

#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

using nlohmann::json;
using testing::anthropic_config;
using testing::client;
using testing::openai_config;
using testing::reply;
using testing::running;

const json chat = {{"model", "gpt-4o-mini"},
                   {"messages", json::array({{{"role", "user"}, {"content", "one two"}}})},
                   {"max_tokens", 1}};

TEST(FakeServerControlApi, DeleteByIdRemovesThatWindowAloneAndTheProviderChangesAtOnce) {
  running r({openai_config()});
  client c(r.port());
  ASSERT_EQ(c.post("/squall/faults", json{{"for_s", 600}, {"errors", {{"503", 1.0}}}}).json()["id"], 1);
  ASSERT_EQ(c.post("/squall/faults", json{{"for_s", 600}, {"errors", {{"500", 1.0}}}}).json()["id"], 2);
  EXPECT_EQ(c.post("/v1/chat/completions", chat).status, 500) << "the window armed last wins";

  const reply deleted = c.request("DELETE", "/squall/faults/2", "");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.json()["deleted"]["id"], 2);
  EXPECT_EQ(deleted.json()["deleted"]["errors"], (json{{"500", 1.0}}));
  EXPECT_EQ(c.post("/v1/chat/completions", chat).status, 503) << "window 1 is in effect again, at once";
  const json list = c.get("/squall/faults").json();
  ASSERT_EQ(list["armed"].size(), 1U) << list.dump();
  EXPECT_EQ(list["armed"][0]["id"], 1);

  ASSERT_EQ(c.request("DELETE", "/squall/faults/1", "").status, 200);
  EXPECT_EQ(c.post("/v1/chat/completions", chat).status, 200);
  EXPECT_TRUE(c.get("/squall/faults").json()["armed"].empty());
}

TEST(FakeServerControlApi, DeleteByIdLeavesTheScenarioWindowsAlone) {
  sim::provider_config cfg = openai_config();
  sim::fault_window w;
  w.at_s = 0;
  w.for_s = 600;
  w.errors = {{429, 1.0}};
  cfg.faults = {w};
  running r({cfg});
  client c(r.port());
  const std::string id = c.post("/squall/faults", json{{"for_s", 600}, {"errors", {{"503", 1.0}}}}).json()["id"].dump();
  EXPECT_EQ(c.post("/v1/chat/completions", chat).status, 503);
  ASSERT_EQ(c.request("DELETE", "/squall/faults/" + id, "").status, 200);
  EXPECT_EQ(c.post("/v1/chat/completions", chat).status, 429) << "the scenario's window is back whole";
}

TEST(FakeServerControlApi, DeletingARefuseWindowReopensTheListenerAtOnce) {
  running r({openai_config()});
  client c(r.port());  // opened before the outage: the control API still answers on it
  ASSERT_EQ(c.post("/squall/faults", json{{"for_s", 600}, {"outage", "refuse"}}).status, 201);
  ASSERT_EQ(testing::connect_error(r.port()), boost::asio::error::connection_refused);
  ASSERT_EQ(c.request("DELETE", "/squall/faults/1", "").status, 200);
  EXPECT_FALSE(testing::connect_error(r.port())) << "the timeline follower was re-armed by the DELETE";
  client fresh(r.port());
  EXPECT_EQ(fresh.post("/v1/chat/completions", chat).status, 200);
}

TEST(FakeServerControlApi, NoSuchIdIsA404InTheProvidersShapeNamingTheId) {
  running r({openai_config(), anthropic_config()});
  client c(r.port(0));
  ASSERT_EQ(c.post("/squall/faults", json{{"for_s", 600}, {"latency_x", 2}}).status, 201);
  const reply missing = c.request("DELETE", "/squall/faults/7", "");
  ASSERT_EQ(missing.status, 404);
  EXPECT_NE(missing.json()["error"]["message"].get<std::string>().find("id 7 "), std::string::npos) << missing.body;
  EXPECT_EQ(missing.json()["error"]["type"], "invalid_request_error") << "OpenAI's shape: " << missing.body;
  EXPECT_EQ(c.get("/squall/faults").json()["armed"].size(), 1U) << "nothing else went";
  // Once deleted, an id is gone for good: ids are not reused.
  ASSERT_EQ(c.request("DELETE", "/squall/faults/1", "").status, 200);
  EXPECT_EQ(c.request("DELETE", "/squall/faults/1", "").status, 404);
  // Beyond 2^64 - 1 it is still a number, just not an id any window has.
  EXPECT_EQ(c.request("DELETE", "/squall/faults/123456789012345678901234567890", "").status, 404);

  client a(r.port(1));
  const reply anthropic = a.request("DELETE", "/squall/faults/3", "");
  ASSERT_EQ(anthropic.status, 404);
  EXPECT_EQ(anthropic.json()["type"], "error") << "Anthropic's shape: " << anthropic.body;
  EXPECT_NE(anthropic.json()["error"]["message"].get<std::string>().find("id 3 "), std::string::npos);
  EXPECT_FALSE(anthropic.header("request-id").empty());
}

TEST(FakeServerControlApi, AnIdThatIsNotANumberIsA400) {
  running r({openai_config()});
  client c(r.port());
  ASSERT_EQ(c.post("/squall/faults", json{{"for_s", 600}, {"latency_x", 2}}).status, 201);
  for (const std::string id : {"abc", "-1", "1.5", "1x", "", "%31", "1/"}) {
    SCOPED_TRACE("id '" + id + "'");
    const reply bad = c.request("DELETE", "/squall/faults/" + id, "");
    ASSERT_EQ(bad.status, 400) << bad.body;
    EXPECT_NE(bad.json()["error"]["message"].get<std::string>().find("'" + id + "' is not a number"), std::string::npos)
        << bad.body;
  }
  EXPECT_EQ(c.get("/squall/faults").json()["armed"].size(), 1U);
}

TEST(FakeServerControlApi, OnlyDeleteIsAllowedOnOneWindow) {
  running r({openai_config()});
  client c(r.port());
  for (const std::string method : {"GET", "POST", "PUT"}) {
    const reply wrong = c.request(method, "/squall/faults/1", "{}");
    EXPECT_EQ(wrong.status, 405) << method;
    EXPECT_EQ(wrong.header("allow"), "DELETE");
  }
}

TEST(FakeServerControlApi, ControlAnswersAreNotCountedAsProviderResponses) {
  running r({openai_config()});
  client c(r.port());
  c.request("DELETE", "/squall/faults/9", "");
  c.request("DELETE", "/squall/faults/x", "");
  const std::string metrics = c.get("/metrics").body;
  EXPECT_EQ(metrics.find("squall_fake_responses_total{provider=\"openai\",status=\"404\"}"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("squall_fake_responses_total{provider=\"openai\",status=\"400\"}"), std::string::npos);
}

}  // namespace
}  // namespace squall::fake
