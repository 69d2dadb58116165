// The LiteLLM importer on sample configs (tests/config_import/samples/litellm-*.yaml) that use every setting
// it reads: the litellm_router and timeout policies each part becomes, LiteLLM's precedence between
// router_settings, litellm_settings and a deployment's own litellm_params, what it names as not expressed,
// approximated or ignored, and the mistakes it refuses with their paths.

#include "config_import/litellm_config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "documents/yaml_document.hpp"
#include "policies/pipeline/pipeline.hpp"

namespace squall::config_import {
namespace {

using documents::parse_yaml;
using documents::read_yaml_file;

const std::filesystem::path litellm_samples = std::filesystem::path(SQUALL_SOURCE_DIR) / "tests/config_import/samples";

config_result<imported_policy> import_litellm_sample(const std::string& name, const std::string& group = "") {
  auto document = read_yaml_file(litellm_samples / name);
  EXPECT_TRUE(document.ok()) << (document.ok() ? "" : document.error().describe());
  return import_litellm_config(document.ok() ? *document : json(), name, group);
}

imported_policy imported_ok(const std::string& name, const std::string& group = "") {
  auto p = import_litellm_sample(name, group);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().describe());
  return p.ok() ? std::move(*p) : imported_policy{};
}

config_result<imported_policy> import_text(const std::string& yaml, const std::string& group = "") {
  auto document = parse_yaml(yaml);
  EXPECT_TRUE(document.ok()) << (document.ok() ? "" : document.error().describe());
  return import_litellm_config(document.ok() ? *document : json(), "router.yaml", group);
}

bool noted(const std::vector<import_note>& notes, const std::string& path) {
  return std::any_of(notes.begin(), notes.end(), [&](const import_note& n) { return n.path == path; });
}


TEST(LitellmImport, AProxyConfigBecomesARouterOverOneGroupAndATimeout) {
  const imported_policy p = imported_ok("litellm-proxy.yaml", "gpt-4o");
  const json& policies = p.document["policies"];
  ASSERT_EQ(policies.size(), 2U);
  const json& router = policies[0];
  EXPECT_EQ(router["type"], "litellm_router");
  EXPECT_EQ(router["model_group"], "gpt-4o");
  // The anchor's rpm merged into both Azure deployments; the second overrides it.
  EXPECT_EQ(router["deployments"], json::parse(R"([
      {"provider": "azure", "model": "gpt-4o-eastus", "rpm": 600, "weight": 2, "tpm": 450000},
      {"provider": "azure", "model": "gpt-4o-westus", "rpm": 300},
      {"provider": "openai", "model": "gpt-4o"}])"));
  EXPECT_EQ(router["num_retries"], 3) << "router_settings before litellm_settings";
  EXPECT_EQ(router["retry_policy"], json::parse(R"({"rate_limit": 4, "bad_request": 0, "timeout": 2})"));
  EXPECT_EQ(router["retry_after_s"], 1.0);
  EXPECT_EQ(router["cooldown_time_s"], 30.0);
  EXPECT_EQ(router["allowed_fails"], 2);
  EXPECT_EQ(router["disable_cooldowns"], false) << "off is a YAML 1.1 boolean";
  EXPECT_EQ(router["routing_strategy"], "latency-based-routing");
  EXPECT_EQ(router["routing_strategy_args"], json::parse(R"({"ttl_s": 3600, "lowest_latency_buffer": 0.5})"));
  EXPECT_EQ(router["max_fallbacks"], 2);
  ASSERT_EQ(router["fallbacks"].size(), 2U) << "claude and gpt-4o-mini; llama has no deployments";
  EXPECT_EQ(router["fallbacks"][0], json::parse(R"({"model_group": "claude", "deployments": [
      {"provider": "anthropic", "model": "claude-sonnet-4", "rpm": 60},
      {"provider": "bedrock", "model": "anthropic.claude-sonnet-4"}]})"));
  EXPECT_EQ(router["fallbacks"][1]["model_group"], "gpt-4o-mini");
  // router_settings.timeout 60 s; the OpenAI deployment's own 45 s is approximated by the longest.
  EXPECT_EQ(policies[1]["type"], "timeout");
  EXPECT_EQ(policies[1]["timeout_ms"], 60000.0);
  EXPECT_TRUE(noted(p.approximated, "$.model_list[2].litellm_params.timeout"));
  EXPECT_TRUE(parse_pipeline(p.document, "$").ok());
}

TEST(LitellmImport, NamesWhatItCannotExpressApproximatesOrIgnores) {
  const imported_policy p = imported_ok("litellm-proxy.yaml", "gpt-4o");
  for (const char* path : {"$.router_settings.fallbacks[0].gpt-4o[2]", "$.litellm_settings.context_window_fallbacks",
                           "$.router_settings.content_policy_fallbacks", "$.router_settings.stream_timeout",
                           "$.router_settings.enable_pre_call_checks", "$.model_list[2].litellm_params.max_retries",
                           "$.router_settings.routing_strategy_args.max_latency_list_size", "$.litellm_settings.cache",
                           "$.model_list[4].litellm_params.temperature", "$.x-azure"}) {
    EXPECT_TRUE(noted(p.not_expressed, path)) << path;
  }
  for (const char* path : {"$.router_settings.redis_host", "$.model_list[0].litellm_params.api_key",
                           "$.general_settings.master_key", "$.litellm_settings.num_retries",
                           "$.litellm_settings.fallbacks", "$.litellm_settings.request_timeout",
                           "$.router_settings.default_fallbacks", "$.router_settings.fallbacks[1]",
                           "$.model_list[0].model_info", "$.litellm_settings.success_callback",
                           "$.litellm_settings.drop_params"}) {
    EXPECT_TRUE(noted(p.ignored, path)) << path;
  }
  // gpt-4o-mini is a fallback, so none of the model_list is ignored whole.
  EXPECT_FALSE(noted(p.ignored, "$.model_list[5]"));
}

TEST(LitellmImport, TheGroupIsChosenByNameOrIsTheOnlyOne) {
  auto several = import_litellm_sample("litellm-proxy.yaml");
  ASSERT_FALSE(several.ok());
  EXPECT_EQ(several.error().path, "$.model_list");
  EXPECT_NE(several.error().message.find("gpt-4o, claude, gpt-4o-mini"), std::string::npos) << several.error().describe();
  auto unknown = import_litellm_sample("litellm-proxy.yaml", "mistral");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("mistral"), std::string::npos);

  // claude: its own fallbacks entry; the gpt-4o-mini group is used by nothing and named whole.
  const imported_policy claude = imported_ok("litellm-proxy.yaml", "claude");
  const json& router = claude.document["policies"][0];
  EXPECT_EQ(router["model_group"], "claude");
  ASSERT_EQ(router["fallbacks"].size(), 1U);
  EXPECT_EQ(router["fallbacks"][0]["model_group"], "gpt-4o");
  EXPECT_EQ(router["fallbacks"][0]["deployments"].size(), 3U);
  EXPECT_TRUE(noted(claude.ignored, "$.model_list[5]"));

  // gpt-4o-mini: router_settings.fallbacks replaces litellm_settings.fallbacks whole (`or`), so its only
  // fallback is default_fallbacks, itself.
  const imported_policy mini = imported_ok("litellm-proxy.yaml", "gpt-4o-mini");
  EXPECT_FALSE(mini.document["policies"][0].contains("fallbacks"));
  EXPECT_TRUE(noted(mini.not_expressed, "$.router_settings.default_fallbacks[0]"));
}

TEST(LitellmImport, AMinimalRouterConfigLoads) {
  const imported_policy p = imported_ok("litellm-router.yaml");
  const json& router = p.document["policies"][0];
  EXPECT_EQ(router["deployments"], json::parse(R"([{"provider": "openai", "model": "gpt-4o", "rpm": 1000},
                                                   {"provider": "azure", "model": "gpt-4o", "weight": 3}])"));
  EXPECT_EQ(router["num_retries"], 2);
  EXPECT_EQ(router["cooldown_time_s"], 10.0);
  EXPECT_EQ(p.document["policies"][1]["timeout_ms"], 6000000.0) << "litellm.request_timeout's default";
  EXPECT_TRUE(noted(p.approximated, "$"));
  EXPECT_TRUE(p.not_expressed.empty());
  auto spec = parse_pipeline(p.document, "$");
  ASSERT_TRUE(spec.ok()) << spec.error().describe();
  EXPECT_EQ(spec->policies.size(), 2U);
}

TEST(LitellmImport, PrecedenceFollowsTheRouter) {
  // Neither num_retries: openai.DEFAULT_MAX_RETRIES (2). litellm_settings alone: it. router_settings 0:
  // 0 (`is not None`). router_settings.timeout 0: falsy, so litellm_settings.request_timeout applies.
  const std::string list = "model_list: [{model_name: g, litellm_params: {model: openai/gpt-4o}}]\n";
  auto plain = import_text(list);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->document["policies"][0]["num_retries"], 2);
  auto module = import_text(list + "litellm_settings: {num_retries: 4, request_timeout: 12}\n");
  ASSERT_TRUE(module.ok());
  EXPECT_EQ(module->document["policies"][0]["num_retries"], 4);
  EXPECT_EQ(module->document["policies"][1]["timeout_ms"], 12000.0);
  auto zero = import_text(list + "router_settings: {num_retries: 0, timeout: 0}\n"
                                 "litellm_settings: {num_retries: 4, request_timeout: 12}\n");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->document["policies"][0]["num_retries"], 0);
  EXPECT_EQ(zero->document["policies"][1]["timeout_ms"], 12000.0);
  EXPECT_TRUE(noted(zero->ignored, "$.router_settings.timeout"));
  // A deployment's own timeout comes before the router's; request_timeout in litellm_params after timeout.
  auto own = import_text("model_list: [{model_name: g, litellm_params: {model: openai/gpt-4o, request_timeout: 7, "
                         "timeout: 9}}]\nrouter_settings: {timeout: 60}\n");
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->document["policies"][1]["timeout_ms"], 9000.0);
  EXPECT_TRUE(noted(own->ignored, "$.model_list[0].litellm_params.request_timeout"));
  // model_group_retry_policy replaces retry_policy for its group.
  auto per_group = import_text(list + "router_settings: {retry_policy: {RateLimitErrorRetries: 1}, "
                                      "model_group_retry_policy: {g: {TimeoutErrorRetries: 3}, h: {}}}\n");
  ASSERT_TRUE(per_group.ok());
  EXPECT_EQ(per_group->document["policies"][0]["retry_policy"], json::parse(R"({"timeout": 3})"));
  EXPECT_TRUE(noted(per_group->ignored, "$.router_settings.retry_policy"));
  EXPECT_TRUE(noted(per_group->not_expressed, "$.router_settings.model_group_retry_policy.h"));
}

TEST(LitellmImport, FallbacksAreFoundAsGetFallbackModelGroupFindsThem) {
  const std::string list = "model_list:\n"
                           "  - {model_name: openai/gpt-4o, litellm_params: {model: openai/gpt-4o}}\n"
                           "  - {model_name: a, litellm_params: {model: openai/a}}\n"
                           "  - {model_name: b, litellm_params: {model: openai/b}}\n";
  // The group's name without its provider prefix comes before "*".
  auto stripped = import_text(list + "router_settings: {fallbacks: [{'*': [a]}, {gpt-4o: [b]}]}\n", "openai/gpt-4o");
  ASSERT_TRUE(stripped.ok()) << stripped.error().describe();
  EXPECT_EQ(stripped->document["policies"][0]["fallbacks"][0]["model_group"], "b");
  EXPECT_TRUE(noted(stripped->ignored, "$.router_settings.fallbacks[0]"));
  // default_fallbacks is a "*" entry appended after the others, so it wins over an earlier "*".
  auto generic = import_text(list + "router_settings: {fallbacks: [{'*': [a]}], default_fallbacks: [b]}\n",
                             "openai/gpt-4o");
  ASSERT_TRUE(generic.ok()) << generic.error().describe();
  EXPECT_EQ(generic->document["policies"][0]["fallbacks"][0]["model_group"], "b");
  EXPECT_TRUE(noted(generic->ignored, "$.router_settings.fallbacks[0]"));
  // max_fallbacks from litellm_settings when the router has none.
  auto module = import_text(list + "litellm_settings: {fallbacks: [{a: [b]}], max_fallbacks: 1}\n", "a");
  ASSERT_TRUE(module.ok()) << module.error().describe();
  EXPECT_EQ(module->document["policies"][0]["fallbacks"][0]["model_group"], "b");
  EXPECT_EQ(module->document["policies"][0]["max_fallbacks"], 1);
}

TEST(LitellmImport, MistakesNameTheirPath) {
  const std::string list = "model_list: [{model_name: g, litellm_params: {model: openai/gpt-4o}}]\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[1, 2]", "$"},
      {"router_settings: {}", "$.model_list"},
      {"model_list: []", "$.model_list"},
      {"model_list: [{litellm_params: {model: a/b}}]", "$.model_list[0].model_name"},
      {"model_list: [{model_name: g}]", "$.model_list[0].litellm_params"},
      {"model_list: [{model_name: g, litellm_params: {api_key: k}}]", "$.model_list[0].litellm_params"},
      {"model_list: [{model_name: g, litellm_params: {model: /gpt}}]", "$.model_list[0].litellm_params.model"},
      {"model_list: [{model_name: g, litellm_params: {model: a/b, weight: 0}}]", "$.model_list[0].litellm_params.weight"},
      {"model_list: [{model_name: g, litellm_params: {model: a/b, rpm: -1}}]", "$.model_list[0].litellm_params.rpm"},
      {"model_list: [{model_name: g, litellm_params: {model: a/b, tpm: os.environ/TPM}}]",
       "$.model_list[0].litellm_params.tpm"},
      {list + "router_settings: {num_retries: 21}", "$.router_settings.num_retries"},
      {list + "litellm_settings: {num_retries: three}", "$.litellm_settings.num_retries"},
      {list + "router_settings: {retry_policy: {RateLimitErrorRetries: -1}}",
       "$.router_settings.retry_policy.RateLimitErrorRetries"},
      {list + "router_settings: {routing_strategy: round-robin}", "$.router_settings.routing_strategy"},
      {list + "router_settings: {routing_strategy: latency-based-routing, routing_strategy_args: {ttl: -1}}",
       "$.router_settings.routing_strategy_args.ttl"},
      {list + "router_settings: {fallbacks: [g]}", "$.router_settings.fallbacks[0]"},
      {list + "router_settings: {fallbacks: [{g: [1]}]}", "$.router_settings.fallbacks[0].g[0]"},
      {list + "router_settings: {max_fallbacks: 101}", "$.router_settings.max_fallbacks"},
      {list + "router_settings: {timeout: 100000}", "$.router_settings.timeout"},
      {list + "router_settings: {timeout: 0.0000001}", "$.router_settings.timeout"},
      {"model_list: [{model_name: g, litellm_params: {model: a/b, timeout: 0.0000001}}]",
       "$.model_list[0].litellm_params.timeout"},
      {list + "router_settings: {cooldown_time: -5}", "$.router_settings.cooldown_time"},
      {list + "router_settings: {disable_cooldowns: maybe}", "$.router_settings.disable_cooldowns"},
      {list + "router_settings: [1]", "$.router_settings"},
  };
  for (const auto& [text, path] : cases) {
    auto p = import_text(text);
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_EQ(p.error().path, path) << text << ": " << p.error().describe();
    EXPECT_EQ(p.error().file, "router.yaml");
  }
  auto bad = import_litellm_sample("litellm-bad-fallbacks.yaml", "a");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().path, "$.router_settings.fallbacks[0]");
}

}  // namespace
}  // namespace squall::config_import
