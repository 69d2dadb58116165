// Azure OpenAI's URL shapes on an OpenAI-style fake provider: deployments in the path, api-version in the
// query, the api-key header, and Azure's v1 paths.
#include <gtest/gtest.h>

#include <string>

#include "fake_providers/apis/routes.hpp"
#include "fake_providers/fake_server.hpp"
#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

using detail::ai_route;
using detail::route_ai_request;
using nlohmann::json;
using testing::client;
using testing::openai_config;
using testing::reply;
using testing::running;

json chat_without_model() {
  return json{{"messages", json::array({{{"role", "user"}, {"content", "one two three"}}})}, {"max_tokens", 5}};
}

TEST(AzureRoutes, DeploymentPathsNeedAnApiVersionAndCarryTheDeployment) {
  const auto chat = route_ai_request(api_style::openai, "/openai/deployments/gpt-4o-mini/chat/completions",
                                     "api-version=2024-10-21");
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->kind, request_kind::chat);
  EXPECT_EQ(chat->model, "gpt-4o-mini");
  EXPECT_FALSE(chat->api_version_missing);

  const auto embed = route_ai_request(api_style::openai, "/openai/deployments/emb/embeddings", "a=1&api-version=x");
  ASSERT_TRUE(embed);
  EXPECT_EQ(embed->kind, request_kind::embeddings);
  EXPECT_EQ(embed->model, "emb");

  EXPECT_TRUE(route_ai_request(api_style::openai, "/openai/deployments/d/chat/completions", "")->api_version_missing);
  EXPECT_TRUE(route_ai_request(api_style::openai, "/openai/deployments/d/chat/completions", "api-version=")
                  ->api_version_missing);
  EXPECT_TRUE(route_ai_request(api_style::openai, "/openai/responses", "")->api_version_missing);
  EXPECT_EQ(route_ai_request(api_style::openai, "/openai/responses", "api-version=preview")->kind,
            request_kind::responses);

  EXPECT_FALSE(route_ai_request(api_style::openai, "/openai/deployments//chat/completions", "api-version=1"));
  EXPECT_FALSE(route_ai_request(api_style::openai, "/openai/deployments/d", "api-version=1"));
  EXPECT_FALSE(route_ai_request(api_style::openai, "/openai/deployments/d/messages", "api-version=1"));
  EXPECT_FALSE(route_ai_request(api_style::anthropic, "/openai/deployments/d/chat/completions", "api-version=1"));

  for (const char* path : {"/openai/v1/chat/completions", "/openai/v1/embeddings", "/openai/v1/responses"}) {
    const auto v1 = route_ai_request(api_style::openai, path, "");
    ASSERT_TRUE(v1) << path;
    EXPECT_FALSE(v1->api_version_missing) << path;
    EXPECT_TRUE(v1->model.empty());
  }
}

TEST(Azure, TheDeploymentIsTheModelWhenTheBodyHasNone) {
  running r({openai_config()});
  client c(r.port());
  const reply a = c.post("/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21", chat_without_model(),
                         {{"api-key", "azure-key"}});
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.json()["model"], "gpt-4o-mini");
  EXPECT_EQ(a.json()["object"], "chat.completion");

  json named = chat_without_model();
  named["model"] = "gpt-4o-mini";
  EXPECT_EQ(c.post("/openai/deployments/other/chat/completions?api-version=1", named).status, 200)
      << "the body's model wins";
  EXPECT_EQ(c.post("/openai/deployments/unknown/chat/completions?api-version=1", chat_without_model()).status, 404)
      << "a deployment of no model the provider serves";

  const reply e = c.post("/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21",
                         json{{"input", "alpha beta"}});
  ASSERT_EQ(e.status, 200) << e.body;
  EXPECT_EQ(e.json()["model"], "text-embedding-3-small");
}

TEST(Azure, AMissingApiVersionIsAzures404) {
  running r({openai_config()});
  client c(r.port());
  const reply a = c.post("/openai/deployments/gpt-4o-mini/chat/completions", chat_without_model());
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.json(), json::parse(R"({"error":{"code":"404","message":"Resource not found"}})"));
}

TEST(Azure, V1PathsAndResponsesAnswer) {
  running r({openai_config()});
  client c(r.port());
  json body = chat_without_model();
  body["model"] = "gpt-4o-mini";
  EXPECT_EQ(c.post("/openai/v1/chat/completions", body).status, 200);
  const json ask = {{"model", "gpt-4o-mini"}, {"input", "hello there"}};
  EXPECT_EQ(c.post("/openai/v1/responses", ask).json()["object"], "response");
  EXPECT_EQ(c.post("/openai/responses?api-version=2025-04-01-preview", ask).json()["object"], "response");
}

}  // namespace
}  // namespace squall::fake
