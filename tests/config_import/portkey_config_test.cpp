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

TEST(PortkeyImport, LoadbalanceBecomesWeightedTargetsAndNestedStrategiesAreNamedNotDropped) {
  const imported_policy p = import_sample("portkey-loadbalance.json");
  const json& policies = p.document["policies"];
  ASSERT_EQ(policies.size(), 2U) << "a cache, then the loadbalance; attempts 0: no retry";
  EXPECT_EQ(policies[0]["type"], "cache");
  EXPECT_EQ(policies[0]["match"], "exact");
  EXPECT_EQ(policies[1]["type"], "loadbalance");
  EXPECT_EQ(policies[1]["targets"], json::parse(R"([{"provider": "openai", "weight": 0.7},
      {"provider": "openai-eu", "weight": 0.3}])"));
  EXPECT_FALSE(policies[1].contains("breaker")) << "no cb_config, no breaker";
  EXPECT_FALSE(names(p.not_expressed, "$.strategy.mode")) << "loadbalance is expressed now";
  EXPECT_TRUE(names(p.not_expressed, "$.targets[1].strategy"));
  EXPECT_TRUE(names(p.not_expressed, "$.targets[1].targets"));
  EXPECT_EQ(policy_of(p, "retry"), nullptr);
  EXPECT_TRUE(parse_pipeline(p.document, "$").ok());
}

TEST(PortkeyImport, ALoadbalanceWithCbConfigGetsPortkeysBreaker) {
  const imported_policy p = import_sample("portkey-loadbalance-breaker.json");
  const json& policies = p.document["policies"];
  ASSERT_EQ(policies.size(), 3U);
  EXPECT_EQ(policies[0]["type"], "loadbalance");
  EXPECT_EQ(policies[1]["type"], "retry");
  EXPECT_EQ(policies[2]["type"], "timeout");
  // A target without a weight weighs 1; weight 0 is kept (never drawn).
  EXPECT_EQ(policies[0]["targets"], json::parse(R"([{"provider": "openai-prod", "model": "gpt-4o", "weight": 3.0},
      {"provider": "anthropic", "model": "claude-sonnet-4", "weight": 1.0}, {"provider": "azure-eu", "weight": 0.0}])"));
  // cooldown_interval 10000 is raised to Portkey's 30 s minimum.
  EXPECT_EQ(policies[0]["breaker"], json::parse(R"({"failures_to_open": 5, "failure_percent_to_open": 20.0,
      "requests_min": 10, "cooldown_ms": 30000.0, "failure_on_status": [429, 500, 502, 503, 504]})"));
  EXPECT_TRUE(names(p.approximated, "$.strategy.cb_config")) << "targets[1] has no virtual_key";
  const auto note = std::find_if(p.approximated.begin(), p.approximated.end(),
                                 [](const import_note& n) { return n.path == "$.strategy.cb_config"; });
  EXPECT_NE(note->message.find("$.targets[1]"), std::string::npos) << note->message;
  EXPECT_EQ(note->message.find("$.targets[0]"), std::string::npos) << note->message;
  EXPECT_TRUE(names(p.ignored, "$.targets[2].cb_config")) << "Portkey reads it only inside a strategy";
  EXPECT_TRUE(names(p.ignored, "$.targets[1].api_key"));
  EXPECT_FALSE(names(p.approximated, "$.targets")) << "the cooldown note is the fallback's";
  EXPECT_TRUE(parse_pipeline(p.document, "$").ok());
}

TEST(PortkeyImport, AFallbackWithCbConfigUsesTheBreakerInsteadOfTheCooldown) {
  const imported_policy p = import_sample("portkey-fallback-breaker.json");
  const json* fallback = policy_of(p, "fallback");
  ASSERT_NE(fallback, nullptr);
  EXPECT_EQ((*fallback)["breaker"], json::parse(R"({"failure_percent_to_open": 50.0, "requests_min": 5,
      "cooldown_ms": 60000.0})")) << "minimum_requests absent: Portkey's 5";
  EXPECT_EQ((*fallback)["endpoints"], json::parse(R"([{"provider": "openai-prod"},
      {"provider": "anthropic-prod", "model": "claude-sonnet-4"}])"));
  EXPECT_FALSE(names(p.approximated, "$.targets")) << "no cooldown of squall's own with a breaker";
  EXPECT_FALSE(names(p.approximated, "$.strategy.cb_config")) << "every target has a virtual_key";
  EXPECT_TRUE(p.not_expressed.empty());
  EXPECT_TRUE(parse_pipeline(p.document, "$").ok());
}

TEST(PortkeyImport, ACbConfigPortkeyWouldIgnoreWritesNoBreaker) {
  for (const char* cb : {R"({"failure_threshold": 3})", R"({"cooldown_interval": 60000})",
                         R"({"failure_threshold": 0, "failure_threshold_percentage": 0, "cooldown_interval": 1})"}) {
    auto p = import_portkey_config(json::parse(std::string(R"({"strategy": {"mode": "fallback", "cb_config": )") + cb +
                                               R"(}, "targets": [{"provider": "a"}, {"provider": "b"}]})"),
                                   "c");
    ASSERT_TRUE(p.ok()) << p.error().describe();
    EXPECT_FALSE((*policy_of(*p, "fallback")).contains("breaker")) << cb;
    EXPECT_TRUE(names(p->ignored, "$.strategy.cb_config")) << cb;
  }
  auto conditional = import_portkey_config(
      json::parse(R"({"strategy": {"mode": "conditional", "cb_config": {"failure_threshold": 1, "cooldown_interval": 1}},
                      "targets": [{"provider": "a"}]})"),
      "c");
  ASSERT_TRUE(conditional.ok()) << conditional.error().describe();
  EXPECT_TRUE(names(conditional->not_expressed, "$.strategy.cb_config"));
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
      {R"({"strategy": {"mode": "loadbalance"}, "targets": [{"provider": "a", "weight": -1}]})", "$.targets[0].weight"},
      {R"({"strategy": {"mode": "loadbalance"}, "targets": [{"provider": "a", "weight": "2"}]})", "$.targets[0].weight"},
      {R"({"strategy": {"mode": "loadbalance"}, "targets": [{"provider": "a", "weight": 0}, {"provider": "b", "weight": 0}]})",
       "$.targets"},
      {R"({"strategy": {"mode": "fallback", "cb_config": 5}})", "$.strategy.cb_config"},
      {R"({"strategy": {"mode": "fallback", "cb_config": {"failure_threshold": -1}}})",
       "$.strategy.cb_config.failure_threshold"},
      {R"({"strategy": {"mode": "fallback", "cb_config": {"failure_threshold_percentage": 150}}})",
       "$.strategy.cb_config.failure_threshold_percentage"},
      {R"({"strategy": {"mode": "fallback", "cb_config": {"cooldown_interval": "60s"}}})",
       "$.strategy.cb_config.cooldown_interval"},
      {R"({"strategy": {"mode": "fallback", "cb_config": {"minimum_requests": 2.5}}})",
       "$.strategy.cb_config.minimum_requests"},
      {R"({"strategy": {"mode": "fallback", "cb_config": {"failure_status_codes": [500, 600]}}})",
       "$.strategy.cb_config.failure_status_codes[1]"},
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
