// Reading fallback options from JSON.

#include "policies/fallback/fallback_options.hpp"

#include <string>

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_fallback(const std::string& text, fallback_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[1]");
  read_fallback_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_fallback(const std::string& text) {
  fallback_options o;
  return read_fallback(text, o);
}

TEST(fallback_options, defaults_are_the_documented_ones) {
  fallback_options o;
  ASSERT_FALSE(read_fallback(R"({"endpoints": [{"model": "gpt-4o-mini"}]})", o));
  ASSERT_EQ(o.endpoints.size(), 1U);
  EXPECT_EQ(o.endpoints[0].provider, "");
  EXPECT_EQ(o.endpoints[0].model, "gpt-4o-mini");
  EXPECT_EQ(o.endpoints[0].name, "*/gpt-4o-mini");
  EXPECT_EQ(o.fallback_on, (outcome_class_set{outcome_class::rate_limited, outcome_class::overloaded,
                                              outcome_class::server_error, outcome_class::timeout,
                                              outcome_class::connection_error, outcome_class::circuit_open}));
  EXPECT_EQ(o.failures_to_cooldown, 3U);
  EXPECT_EQ(o.cooldown_ms, 30000.0);
  EXPECT_EQ(o.probe_calls, 1U);
  EXPECT_EQ(o.when_all_cooling, all_cooling_mode::try_first);
}

TEST(fallback_options, reads_every_key) {
  fallback_options o;
  ASSERT_FALSE(read_fallback(R"({"endpoints": [{"provider": "openai", "model": "gpt-4o"}, {"provider": "local"}, {}],
                        "fallback_on": ["overloaded", "invalid_request"], "failures_to_cooldown": 5,
                        "cooldown_ms": 1500, "probe_calls": 2, "when_all_cooling": "fail"})",
                    o));
  ASSERT_EQ(o.endpoints.size(), 3U);
  EXPECT_EQ(o.endpoints[0].name, "openai/gpt-4o");
  EXPECT_EQ(o.endpoints[1].name, "local/*");
  EXPECT_EQ(o.endpoints[2].name, "*/*");
  EXPECT_EQ(o.fallback_on, (outcome_class_set{outcome_class::overloaded, outcome_class::invalid_request}));
  EXPECT_EQ(o.failures_to_cooldown, 5U);
  EXPECT_EQ(o.cooldown_ms, 1500.0);
  EXPECT_EQ(o.probe_calls, 2U);
  EXPECT_EQ(o.when_all_cooling, all_cooling_mode::fail);
}

TEST(fallback_options, endpoints_are_required_and_bounded) {
  auto e = read_fallback("{}");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1]");
  EXPECT_NE(e->message.find("\"endpoints\""), std::string::npos) << e->message;
  e = read_fallback(R"({"endpoints": []})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].endpoints");
  std::string many = R"({"endpoints": [)";
  for (int i = 0; i < 17; ++i) many += std::string(i ? "," : "") + R"({"model": "m"})";
  e = read_fallback(many + "]}");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].endpoints");
  EXPECT_NE(e->message.find("1 to 16"), std::string::npos) << e->message;
  e = read_fallback(R"({"endpoints": {"model": "m"}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].endpoints");
}

TEST(fallback_options, endpoint_mistakes_name_the_entry) {
  auto e = read_fallback(R"({"endpoints": [{"model": "a"}, {"provider": "openai", "modle": "b"}]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].endpoints[1]");
  EXPECT_NE(e->message.find("did you mean \"model\""), std::string::npos) << e->message;
  e = read_fallback(R"({"endpoints": [{"model": "a"}, {"provider": ""}]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].endpoints[1].provider");
  e = read_fallback(R"({"endpoints": [{"model": 4}]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].endpoints[0].model");
  e = read_fallback(R"({"endpoints": ["openai/gpt-4o"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].endpoints[0]");
}

TEST(fallback_options, ranges_and_classes_are_checked) {
  const std::string ep = R"("endpoints": [{"model": "m"}])";
  auto e = read_fallback("{" + ep + R"(, "fallback_on": ["timeout", "ok"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].fallback_on[1]");
  e = read_fallback("{" + ep + R"(, "fallback_on": ["cancelled"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].fallback_on[0]");
  e = read_fallback("{" + ep + R"(, "failures_to_cooldown": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].failures_to_cooldown");
  e = read_fallback("{" + ep + R"(, "cooldown_ms": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].cooldown_ms");
  e = read_fallback("{" + ep + R"(, "probe_calls": 1001})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].probe_calls");
  e = read_fallback("{" + ep + R"(, "when_all_cooling": "wait"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].when_all_cooling");
  e = read_fallback("{" + ep + R"(, "cooldwn_ms": 5})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("did you mean \"cooldown_ms\""), std::string::npos) << e->message;
}

}  // namespace
}  // namespace squall
