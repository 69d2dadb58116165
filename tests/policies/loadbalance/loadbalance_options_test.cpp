// Reading loadbalance options from JSON.

#include "policies/loadbalance/loadbalance_options.hpp"

#include <string>

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_loadbalance_json(const std::string& text, loadbalance_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[2]");
  read_loadbalance_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_loadbalance_json(const std::string& text) {
  loadbalance_options o;
  return read_loadbalance_json(text, o);
}

TEST(loadbalance_options, defaults_are_the_documented_ones) {
  loadbalance_options o;
  ASSERT_FALSE(read_loadbalance_json(R"({"targets": [{"model": "gpt-4o-mini"}, {"provider": "local"}]})", o));
  ASSERT_EQ(o.targets.size(), 2U);
  EXPECT_EQ(o.targets[0].weight, 1.0) << "Portkey's default weight";
  EXPECT_EQ(o.targets[0].name, "*/gpt-4o-mini");
  EXPECT_EQ(o.targets[1].name, "local/*");
  EXPECT_FALSE(o.breaker);
}

TEST(loadbalance_options, reads_every_key) {
  loadbalance_options o;
  ASSERT_FALSE(read_loadbalance_json(R"({"targets": [{"provider": "openai", "model": "gpt-4o", "weight": 0.7},
                                                  {"provider": "anthropic", "weight": 0}],
                                     "breaker": {"failures_to_open": 3, "cooldown_ms": 45000}})",
                                     o));
  ASSERT_EQ(o.targets.size(), 2U);
  EXPECT_EQ(o.targets[0].weight, 0.7);
  EXPECT_EQ(o.targets[1].weight, 0.0);
  ASSERT_TRUE(o.breaker);
  EXPECT_EQ(o.breaker->failures_to_open, 3U);
  EXPECT_EQ(o.breaker->cooldown_ms, 45000.0);
}

TEST(loadbalance_options, mistakes_name_their_json_path) {
  auto e = read_loadbalance_json("{}");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2]");
  EXPECT_NE(e->message.find("targets"), std::string::npos) << e->message;
  e = read_loadbalance_json(R"({"targets": []})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].targets");
  e = read_loadbalance_json(R"({"targets": [{"weight": -1}]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].targets[0].weight");
  e = read_loadbalance_json(R"({"targets": [{"provider": "a", "weight": 0}, {"provider": "b", "weight": 0}]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].targets");
  EXPECT_NE(e->message.find("weight above 0"), std::string::npos) << e->message;
  e = read_loadbalance_json(R"({"targets": [{"provider": ""}]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].targets[0].provider");
  e = read_loadbalance_json(R"({"targets": [{"provider": "a", "wieght": 2}]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].targets[0]");
  EXPECT_NE(e->message.find("\"weight\""), std::string::npos) << "suggests the key meant: " << e->message;
  e = read_loadbalance_json(R"({"targets": [{"provider": "a"}], "breaker": {"failures_to_open": "5"}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].breaker.failures_to_open");
  std::string seventeen = R"({"targets": [)";
  for (int i = 0; i < 17; ++i) seventeen += std::string(i ? "," : "") + R"({"provider": "p"})";
  e = read_loadbalance_json(seventeen + "]}");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].targets");
}

}  // namespace
}  // namespace squall
