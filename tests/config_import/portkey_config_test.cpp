// The Portkey importer on sample configs that use every option it reads: what each part becomes, what it
// names as not expressed, approximated or ignored, and the mistakes it refuses with their JSON paths.

#include "config_import/portkey_config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "policies/pipeline/pipeline.hpp"

namespace squall::config_import {
namespace {

const std::filesystem::path samples = std::filesystem::path(SQUALL_SOURCE_DIR) / "tests/config_import/samples";

imported_policy import_sample(const std::string& name) {
  auto document = read_json_file(samples / name);
  EXPECT_TRUE(document.ok());
  auto imported = import_portkey_config(document.ok() ? *document : json(), name);
  EXPECT_TRUE(imported.ok()) << (imported.ok() ? "" : imported.error().describe());
  return imported.ok() ? std::move(*imported) : imported_policy{};
}

bool names(const std::vector<import_note>& notes, const std::string& path) {
  return std::any_of(notes.begin(), notes.end(), [&](const import_note& n) { return n.path == path; });
}

const json* policy_of(const imported_policy& p, const std::string& type) {
  for (const auto& policy : p.document["policies"]) {
    if (policy["type"] == type) return &policy;
  }
  return nullptr;
}

TEST(PortkeyImport, AFallbackConfigBecomesCacheFallbackRetryTimeout) {
  const imported_policy p = import_sample("portkey-fallback.json");
  const json& policies = p.document["policies"];
  ASSERT_EQ(policies.size(), 4U);
  EXPECT_EQ(policies[0]["type"], "cache");
  EXPECT_EQ(policies[1]["type"], "fallback");
  EXPECT_EQ(policies[2]["type"], "retry");
  EXPECT_EQ(policies[3]["type"], "timeout");
  EXPECT_EQ(policies[0]["match"], "semantic");
  EXPECT_EQ(policies[0]["ttl_ms"], 600000.0);
  EXPECT_EQ(policies[1]["endpoints"], json::parse(R"([{"provider": "openai", "model": "gpt-4o"},
      {"provider": "anthropic-prod", "model": "claude-sonnet-4"}, {"provider": "azure-openai"}])"));
  EXPECT_EQ(policies[1]["fallback_on"], json::parse(R"(["overloaded", "quota", "rate_limited"])"));
  EXPECT_EQ(policies[2]["attempts_max"], 4);
  EXPECT_EQ(policies[2]["retry_on_status"], json::parse("[429, 500, 502, 503, 504]"));
  EXPECT_EQ(policies[2]["retry_after"], "honor");
  EXPECT_EQ(policies[3]["timeout_ms"], 20000.0);
  // The written file loads as it is.
  EXPECT_TRUE(parse_pipeline(p.document, "$").ok());
}

TEST(PortkeyImport, NamesWhatItCannotExpressApproximatesOrIgnores) {
  const imported_policy p = import_sample("portkey-fallback.json");
  EXPECT_TRUE(names(p.not_expressed, "$.targets[0].override_params.temperature"));
  EXPECT_TRUE(names(p.not_expressed, "$.targets[2].retry")) << "a target's own retry";
  EXPECT_TRUE(names(p.not_expressed, "$.before_request_hooks"));
  EXPECT_TRUE(names(p.approximated, "$.strategy.on_status_codes")) << "503 stands for 529 too";
  EXPECT_TRUE(names(p.approximated, "$.targets")) << "cooldowns";
  EXPECT_TRUE(names(p.ignored, "$.targets[0].api_key"));
  EXPECT_TRUE(names(p.ignored, "$.targets[1].virtual_key"));
}

TEST(PortkeyImport, LoadbalanceAndNestedStrategiesAreNamedNotDropped) {
  const imported_policy p = import_sample("portkey-loadbalance.json");
  const json& policies = p.document["policies"];
  ASSERT_EQ(policies.size(), 1U) << "attempts 0: no retry; loadbalance: no routing policy; a cache";
  EXPECT_EQ(policies[0]["type"], "cache");
  EXPECT_EQ(policies[0]["match"], "exact");
  ASSERT_TRUE(names(p.not_expressed, "$.strategy.mode"));
  const auto lb = std::find_if(p.not_expressed.begin(), p.not_expressed.end(),
                               [](const import_note& n) { return n.path == "$.strategy.mode"; });
  EXPECT_NE(lb->message.find("openai 0.7, openai-eu 0.3"), std::string::npos) << lb->message;
  EXPECT_TRUE(names(p.not_expressed, "$.targets[1].strategy"));
  EXPECT_TRUE(names(p.not_expressed, "$.targets[1].targets"));
  EXPECT_EQ(policy_of(p, "retry"), nullptr);
}

TEST(PortkeyImport, DefaultsAreTheGatewaysAndUseRetryAfterHeaderFalseIgnoresHints) {
  auto p = import_portkey_config(json::parse(R"({"retry": {"attempts": 2, "use_retry_after_header": false}})"), "c");
  ASSERT_TRUE(p.ok());
  const json* retry = policy_of(*p, "retry");
  ASSERT_NE(retry, nullptr);
  EXPECT_EQ((*retry)["attempts_max"], 3);
  EXPECT_EQ((*retry)["retry_on_status"], json::parse("[429, 500, 502, 503, 504]"));
  EXPECT_EQ((*retry)["retry_after"], "ignore");
  EXPECT_TRUE(p->not_expressed.empty());
}

TEST(PortkeyImport, ASuccessStatusInTheFallbackListIsNamedNotFallenBackOn) {
  // Found by the gateway_config fuzzer: a 2xx in on_status_codes made a fallback on "ok", which no policy
  // file may hold.
  auto p = import_portkey_config(json::parse(R"({"strategy": {"mode": "fallback", "on_status_codes": [214, 503]},
                                                 "targets": [{"provider": "a"}, {"provider": "b"}]})"),
                                 "c");
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_TRUE(names(p->not_expressed, "$.strategy.on_status_codes[0]"));
  EXPECT_EQ((*policy_of(*p, "fallback"))["fallback_on"], json::parse(R"(["overloaded"])"));
  auto only = import_portkey_config(json::parse(R"({"strategy": {"mode": "fallback", "on_status_codes": [200]},
                                                    "targets": [{"provider": "a"}]})"),
                                    "c");
  ASSERT_TRUE(only.ok()) << only.error().describe();
}

TEST(PortkeyImport, MistakesNameTheirPath) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"retry": {"attempts": 6}})", "$.retry.attempts"},
      {R"({"retry": {"attempts": "3"}})", "$.retry.attempts"},
      {R"({"retry": {"attempts": 1, "on_status_codes": [429, 99]}})", "$.retry.on_status_codes[1]"},
      {R"({"retry": []})", "$.retry"},
      {R"({"request_timeout": 0})", "$.request_timeout"},
      {R"({"cache": {"mode": "fuzzy"}})", "$.cache.mode"},
      {R"({"cache": {"max_age": -1}})", "$.cache.max_age"},
      {R"({"strategy": {"mode": "roundrobin"}})", "$.strategy.mode"},
      {R"({"strategy": {"mode": "fallback"}, "targets": []})", "$.targets"},
      {R"({"strategy": {"mode": "fallback"}, "targets": [{"weight": 1}]})", "$.targets[0]"},
      {R"({"strategy": {"mode": "fallback"}, "targets": [{"provider": ""}]})", "$.targets[0].provider"},
      {R"([1, 2])", "$"},
  };
  for (const auto& [text, path] : cases) {
    auto p = import_portkey_config(json::parse(text), "config.json");
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_EQ(p.error().path, path) << text << ": " << p.error().describe();
    EXPECT_EQ(p.error().file, "config.json");
  }
}

}  // namespace
}  // namespace squall::config_import
