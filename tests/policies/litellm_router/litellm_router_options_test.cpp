// Reading litellm_router options from JSON, and the type's place in the registry.

#include "policies/litellm_router/litellm_router_options.hpp"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "policies/litellm_router/litellm_router.hpp"
#include "policies/pipeline/pipeline.hpp"
#include "policies/pipeline/registry.hpp"

namespace squall {
namespace {

std::optional<config_error> read_litellm(const std::string& text, litellm_router_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[0]");
  read_litellm_router_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_litellm(const std::string& text) {
  litellm_router_options o;
  return read_litellm(text, o);
}

TEST(litellm_router_options, defaults_are_litellms) {
  litellm_router_options o;
  ASSERT_FALSE(read_litellm(R"({"deployments": [{"model": "gpt-4o"}]})", o));
  ASSERT_EQ(o.deployments.size(), 1U);
  EXPECT_EQ(o.deployments[0].name, "*/gpt-4o");
  EXPECT_EQ(o.deployments[0].weight, 1.0);
  EXPECT_EQ(o.num_retries, 0U);
  EXPECT_FALSE(o.retry_policy.rate_limit.has_value());
  EXPECT_EQ(o.retry_after_s, 0.0);
  EXPECT_EQ(o.cooldown_time_s, 5.0);
  EXPECT_EQ(o.allowed_fails, 3U);
  EXPECT_EQ(o.failure_share_requests_min, 5U);
  EXPECT_FALSE(o.disable_cooldowns);
}

TEST(litellm_router_options, reads_every_key) {
  litellm_router_options o;
  ASSERT_FALSE(read_litellm(R"({"deployments": [{"provider": "azure", "model": "gpt-4o", "weight": 2},
                                               {"provider": "openai"}],
                                "num_retries": 3,
                                "retry_policy": {"bad_request": 0, "authentication": 1, "timeout": 2,
                                                 "rate_limit": 5, "content_policy_violation": 0,
                                                 "internal_server_error": 4},
                                "retry_after_s": 1.5, "cooldown_time_s": 30, "allowed_fails": 1,
                                "failure_share_requests_min": 10, "disable_cooldowns": true})",
                            o));
  ASSERT_EQ(o.deployments.size(), 2U);
  EXPECT_EQ(o.deployments[0].name, "azure/gpt-4o");
  EXPECT_EQ(o.deployments[0].weight, 2.0);
  EXPECT_EQ(o.deployments[1].name, "openai/*");
  EXPECT_EQ(o.num_retries, 3U);
  EXPECT_EQ(o.retry_policy.bad_request, 0U);
  EXPECT_EQ(o.retry_policy.authentication, 1U);
  EXPECT_EQ(o.retry_policy.timeout, 2U);
  EXPECT_EQ(o.retry_policy.rate_limit, 5U);
  EXPECT_EQ(o.retry_policy.content_policy_violation, 0U);
  EXPECT_EQ(o.retry_policy.internal_server_error, 4U);
  EXPECT_EQ(o.retry_after_s, 1.5);
  EXPECT_EQ(o.cooldown_time_s, 30.0);
  EXPECT_EQ(o.allowed_fails, 1U);
  EXPECT_EQ(o.failure_share_requests_min, 10U);
  EXPECT_TRUE(o.disable_cooldowns);
}

TEST(litellm_router_options, errors_name_their_json_path) {
  struct bad_case {
    const char* text;
    const char* path;
  };
  const bad_case cases[] = {
      {R"({})", "$.policies[0]"},
      {R"({"deployments": []})", "$.policies[0].deployments"},
      {R"({"deployments": {"model": "x"}})", "$.policies[0].deployments"},
      {R"({"deployments": [{"model": "x"}, {"model": ""}]})", "$.policies[0].deployments[1].model"},
      {R"({"deployments": [{"model": "x", "weight": 0}]})", "$.policies[0].deployments[0].weight"},
      {R"({"deployments": [{"model": "x", "wieght": 2}]})", "$.policies[0].deployments[0]"},  // unknown keys are named in the message
      {R"({"deployments": [{"model": "x"}], "num_retries": 21})", "$.policies[0].num_retries"},
      {R"({"deployments": [{"model": "x"}], "retry_policy": {"rate_limits": 2}})", "$.policies[0].retry_policy"},
      {R"({"deployments": [{"model": "x"}], "retry_policy": {"timeout": -1}})", "$.policies[0].retry_policy.timeout"},
      {R"({"deployments": [{"model": "x"}], "cooldown_time_s": 0})", "$.policies[0].cooldown_time_s"},
      {R"({"deployments": [{"model": "x"}], "retry_after_s": 3601})", "$.policies[0].retry_after_s"},
  };
  for (const auto& c : cases) {
    const auto e = read_litellm(c.text);
    ASSERT_TRUE(e) << c.text;
    EXPECT_EQ(e->path, c.path) << c.text << ": " << e->message;
  }
  std::string many = R"({"deployments": [)";
  for (int i = 0; i < 17; ++i) many += std::string(i == 0 ? "" : ",") + R"({"model": "x"})";
  many += "]}";
  const auto e = read_litellm(many);
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("17 entries"), std::string::npos) << e->message;
}

TEST(litellm_router_options, new_keys_default_to_litellms) {
  litellm_router_options o;
  ASSERT_FALSE(read_litellm(R"({"deployments": [{"model": "gpt-4o", "weight": 1}]})", o));
  EXPECT_EQ(o.model_group, "");
  EXPECT_EQ(o.routing_strategy, litellm_routing_strategy::simple_shuffle);
  EXPECT_EQ(o.routing_strategy_args.ttl_s, 3600.0);
  EXPECT_EQ(o.routing_strategy_args.lowest_latency_buffer, 0.0);
  EXPECT_TRUE(o.fallbacks.empty());
  EXPECT_EQ(o.max_fallbacks, 5U);
  EXPECT_FALSE(o.deployments[0].rpm.has_value());
  EXPECT_FALSE(o.deployments[0].tpm.has_value());
  EXPECT_TRUE(o.deployments[0].weight_given);
  litellm_router_options no_weight;
  ASSERT_FALSE(read_litellm(R"({"deployments": [{"model": "gpt-4o"}]})", no_weight));
  EXPECT_FALSE(no_weight.deployments[0].weight_given);
}

TEST(litellm_router_options, reads_every_new_key) {
  litellm_router_options o;
  ASSERT_FALSE(read_litellm(R"({"model_group": "gpt-4o",
                                "deployments": [{"provider": "azure", "rpm": 600, "tpm": 90000}, {"provider": "openai"}],
                                "routing_strategy": "latency-based-routing",
                                "routing_strategy_args": {"ttl_s": 120, "lowest_latency_buffer": 0.5},
                                "fallbacks": [{"model_group": "gpt-4o-mini",
                                               "deployments": [{"model": "gpt-4o-mini", "rpm": 0}]},
                                              {"model_group": "claude", "deployments": [{"provider": "anthropic"}]}],
                                "max_fallbacks": 2})",
                            o));
  EXPECT_EQ(o.model_group, "gpt-4o");
  EXPECT_EQ(o.routing_strategy, litellm_routing_strategy::latency_based);
  EXPECT_EQ(o.routing_strategy_args.ttl_s, 120.0);
  EXPECT_EQ(o.routing_strategy_args.lowest_latency_buffer, 0.5);
  EXPECT_EQ(o.deployments[0].rpm, 600U);
  EXPECT_EQ(o.deployments[0].tpm, 90000U);
  EXPECT_EQ(o.deployments[0].name, "azure/*");
  ASSERT_EQ(o.fallbacks.size(), 2U);
  EXPECT_EQ(o.fallbacks[0].model_group, "gpt-4o-mini");
  ASSERT_EQ(o.fallbacks[0].deployments.size(), 1U);
  EXPECT_EQ(o.fallbacks[0].deployments[0].rpm, 0U);
  EXPECT_EQ(o.fallbacks[0].deployments[0].name, "gpt-4o-mini:*/gpt-4o-mini");
  EXPECT_EQ(o.fallbacks[1].deployments[0].name, "claude:anthropic/*");
  EXPECT_EQ(o.max_fallbacks, 2U);

  const std::pair<const char*, litellm_routing_strategy> names[] = {
      {"simple-shuffle", litellm_routing_strategy::simple_shuffle},
      {"least-busy", litellm_routing_strategy::least_busy},
      {"latency-based-routing", litellm_routing_strategy::latency_based},
      {"usage-based-routing", litellm_routing_strategy::usage_based},
      {"usage-based-routing-v2", litellm_routing_strategy::usage_based_v2},
  };
  for (const auto& [name, strategy] : names) {
    litellm_router_options s;
    ASSERT_FALSE(read_litellm(std::string(R"({"deployments": [{"model": "x"}], "routing_strategy": ")") + name + "\"}", s));
    EXPECT_EQ(s.routing_strategy, strategy) << name;
  }
}

TEST(litellm_router_options, errors_in_new_keys_name_their_json_path) {
  struct bad_case {
    const char* text;
    const char* path;
  };
  const bad_case cases[] = {
      {R"({"deployments": [{"model": "x"}], "model_group": 3})", "$.policies[0].model_group"},
      {R"({"deployments": [{"model": "x"}], "routing_strategy": "cost-based-routing"})", "$.policies[0].routing_strategy"},
      {R"({"deployments": [{"model": "x"}], "routing_strategy": "least_busy"})", "$.policies[0].routing_strategy"},
      {R"({"deployments": [{"model": "x"}], "routing_strategy_args": []})", "$.policies[0].routing_strategy_args"},
      {R"({"deployments": [{"model": "x"}], "routing_strategy_args": {"ttl": 60}})", "$.policies[0].routing_strategy_args"},
      {R"({"deployments": [{"model": "x"}], "routing_strategy_args": {"ttl_s": 0}})", "$.policies[0].routing_strategy_args.ttl_s"},
      {R"({"deployments": [{"model": "x"}], "routing_strategy_args": {"lowest_latency_buffer": -0.1}})",
       "$.policies[0].routing_strategy_args.lowest_latency_buffer"},
      {R"({"deployments": [{"model": "x", "rpm": -1}]})", "$.policies[0].deployments[0].rpm"},
      {R"({"deployments": [{"model": "x", "rpm": 1.5}]})", "$.policies[0].deployments[0].rpm"},
      {R"({"deployments": [{"model": "x"}, {"model": "y", "tpm": "many"}]})", "$.policies[0].deployments[1].tpm"},
      {R"({"deployments": [{"model": "x"}], "fallbacks": {"model_group": "y"}})", "$.policies[0].fallbacks"},
      {R"({"deployments": [{"model": "x"}], "fallbacks": ["y"]})", "$.policies[0].fallbacks[0]"},
      {R"({"deployments": [{"model": "x"}], "fallbacks": [{"deployments": [{"model": "y"}]}]})",
       "$.policies[0].fallbacks[0]"},
      {R"({"deployments": [{"model": "x"}], "fallbacks": [{"model_group": "", "deployments": [{"model": "y"}]}]})",
       "$.policies[0].fallbacks[0].model_group"},
      {R"({"deployments": [{"model": "x"}], "fallbacks": [{"model_group": "y"}]})", "$.policies[0].fallbacks[0]"},
      {R"({"deployments": [{"model": "x"}], "fallbacks": [{"model_group": "y", "deployments": []}]})",
       "$.policies[0].fallbacks[0].deployments"},
      {R"({"deployments": [{"model": "x"}], "fallbacks": [{"model_group": "y", "deployments": [{"model": "z", "tpm": -5}]}]})",
       "$.policies[0].fallbacks[0].deployments[0].tpm"},
      {R"({"deployments": [{"model": "x"}], "fallbacks": [{"model_group": "y", "deployments": [{"model": "z"}], "num_retries": 1}]})",
       "$.policies[0].fallbacks[0]"},
      {R"({"deployments": [{"model": "x"}], "max_fallbacks": 101})", "$.policies[0].max_fallbacks"},
      {R"({"deployments": [{"model": "x"}], "max_fallbacks": -1})", "$.policies[0].max_fallbacks"},
  };
  for (const auto& c : cases) {
    const auto e = read_litellm(c.text);
    ASSERT_TRUE(e) << c.text;
    EXPECT_EQ(e->path, c.path) << c.text << ": " << e->message;
  }
  std::string many = R"({"deployments": [{"model": "x"}], "fallbacks": [)";
  for (int i = 0; i < 9; ++i) many += std::string(i == 0 ? "" : ",") + R"({"model_group": "g", "deployments": [{"model": "y"}]})";
  many += "]}";
  const auto e = read_litellm(many);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].fallbacks");
  EXPECT_NE(e->message.find("9 entries"), std::string::npos) << e->message;
}

TEST(litellm_router_options, the_type_is_registered) {
  const policy_registration* r = find_policy("litellm_router");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->type, "litellm_router");
}

TEST(litellm_router_options, the_preset_loads_with_litellms_defaults) {
  auto spec = load_pipeline_file(std::filesystem::path(SQUALL_SOURCE_DIR) / "scenarios/policies/presets/litellm-router.json");
  ASSERT_TRUE(spec.ok()) << spec.error().describe();
  ASSERT_EQ(spec->policies.size(), 1U);
  const auto* litellm = dynamic_cast<const litellm_router_spec*>(spec->policies[0].get());
  ASSERT_NE(litellm, nullptr);
  const litellm_router_options& o = litellm->options;
  ASSERT_EQ(o.deployments.size(), 2U);
  EXPECT_EQ(o.deployments[0].name, "openai-east/*");
  EXPECT_EQ(o.deployments[1].name, "openai-west/*");
  EXPECT_EQ(o.num_retries, 2U);
  EXPECT_EQ(o.cooldown_time_s, 5.0);
  EXPECT_EQ(o.allowed_fails, 3U);
  EXPECT_EQ(o.retry_after_s, 0.0);
}

}  // namespace
}  // namespace squall
