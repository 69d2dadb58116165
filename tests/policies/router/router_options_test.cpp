// Reading router options from JSON.

#include "policies/router/router_options.hpp"

#include <string>

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_router(const std::string& text, router_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[0]");
  read_router_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_router(const std::string& text) {
  router_options o;
  return read_router(text, o);
}

TEST(router_options, defaults_are_the_documented_ones) {
  router_options o;
  ASSERT_FALSE(read_router(R"({"routes": {"simple": {"model": "gpt-4o-mini"}}})", o));
  ASSERT_TRUE(o.routes[0]);
  EXPECT_EQ(o.routes[0]->model, "gpt-4o-mini");
  EXPECT_EQ(o.routes[0]->provider, "");
  EXPECT_EQ(o.routes[0]->name, "*/gpt-4o-mini");
  EXPECT_FALSE(o.routes[1]);
  EXPECT_TRUE(o.candidates.empty());
  EXPECT_EQ(o.priority, router_priority::balanced);
  EXPECT_EQ(o.quality_min, (std::array<double, 4>{0.0, 0.4, 0.7, 0.9}));
  EXPECT_EQ(o.failure_on, (outcome_class_set{outcome_class::rate_limited, outcome_class::overloaded,
                                             outcome_class::server_error, outcome_class::timeout,
                                             outcome_class::connection_error, outcome_class::circuit_open}));
  EXPECT_EQ(o.health_window, 50U);
  EXPECT_EQ(o.health_answers_min, 10U);
  EXPECT_EQ(o.unhealthy_failure_rate, 0.5);
  EXPECT_EQ(o.recheck_ms, 30000.0);
}

TEST(router_options, reads_routes) {
  router_options o;
  ASSERT_FALSE(read_router(R"({"routes": {"simple": {"provider": "local", "model": "llama-3-8b"},
                                    "complex": {"provider": "openai", "model": "gpt-4o"}},
                        "failure_on": ["timeout"], "health_window": 20, "health_answers_min": 20,
                        "unhealthy_failure_rate": 0.25, "recheck_ms": 500})",
                    o));
  EXPECT_EQ(o.routes[0]->name, "local/llama-3-8b");
  EXPECT_FALSE(o.routes[1]);
  EXPECT_EQ(o.routes[2]->name, "openai/gpt-4o");
  EXPECT_FALSE(o.routes[3]);
  EXPECT_EQ(o.failure_on, (outcome_class_set{outcome_class::timeout}));
  EXPECT_EQ(o.health_window, 20U);
  EXPECT_EQ(o.health_answers_min, 20U);
  EXPECT_EQ(o.unhealthy_failure_rate, 0.25);
  EXPECT_EQ(o.recheck_ms, 500.0);
}

TEST(router_options, reads_candidates) {
  router_options o;
  ASSERT_FALSE(read_router(R"({"priority": "cost", "quality_min": {"complex": 0.8},
                        "candidates": [{"provider": "openai", "model": "gpt-4o", "usd_per_mtok_out": 10,
                                        "quality": 0.9, "speed": 80},
                                       {"model": "gpt-4o-mini"}]})",
                    o));
  ASSERT_EQ(o.candidates.size(), 2U);
  EXPECT_EQ(o.candidates[0].target.name, "openai/gpt-4o");
  EXPECT_EQ(o.candidates[0].usd_per_mtok_out, 10.0);
  EXPECT_EQ(o.candidates[0].quality, 0.9);
  EXPECT_EQ(o.candidates[0].speed, 80.0);
  EXPECT_EQ(o.candidates[1].target.name, "*/gpt-4o-mini");
  EXPECT_EQ(o.candidates[1].usd_per_mtok_out, 0.0);
  EXPECT_EQ(o.candidates[1].quality, 0.5);
  EXPECT_EQ(o.candidates[1].speed, 1.0);
  EXPECT_EQ(o.priority, router_priority::cost);
  EXPECT_EQ(o.quality_min, (std::array<double, 4>{0.0, 0.4, 0.8, 0.9}));
}

TEST(router_options, exactly_one_mode) {
  auto e = read_router("{}");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0]");
  EXPECT_NE(e->message.find("missing \"routes\""), std::string::npos) << e->message;
  e = read_router(R"({"routes": {"simple": {"model": "a"}}, "candidates": [{"model": "b"}]})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("not both"), std::string::npos) << e->message;
  e = read_router(R"({"routes": {"simple": {"model": "a"}}, "priority": "cost"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].priority");
  e = read_router(R"({"routes": {"simple": {"model": "a"}}, "quality_min": {}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].quality_min");
}

TEST(router_options, route_mistakes_name_their_path) {
  auto e = read_router(R"({"routes": {}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].routes");
  e = read_router(R"({"routes": {"trivial": {"model": "a"}}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].routes");
  EXPECT_NE(e->message.find("unknown key \"trivial\""), std::string::npos) << e->message;
  e = read_router(R"({"routes": {"complex": {"provider": "openai"}}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].routes.complex");
  EXPECT_NE(e->message.find("\"model\""), std::string::npos) << e->message;
  e = read_router(R"({"routes": {"complex": {"model": "a", "provider": ""}}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].routes.complex.provider");
  e = read_router(R"({"routes": {"critical": {"model": "a", "cost": 1}}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].routes.critical");
}

TEST(router_options, candidate_mistakes_name_their_path) {
  auto e = read_router(R"({"candidates": []})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].candidates");
  e = read_router(R"({"candidates": [{"model": "a"}, {"model": "b", "quality": 2}]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].candidates[1].quality");
  e = read_router(R"({"candidates": [{"model": "a"}, {"model": "a"}]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].candidates[1]");
  EXPECT_NE(e->message.find("duplicate"), std::string::npos) << e->message;
  EXPECT_FALSE(read_router(R"({"candidates": [{"model": "a"}, {"provider": "local", "model": "a"}]})"));
  e = read_router(R"({"candidates": [{"model": "a", "usd_per_mtok_out": -1}]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].candidates[0].usd_per_mtok_out");
  e = read_router(R"({"candidates": [{"model": "a"}], "priority": "cheap"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].priority");
  e = read_router(R"({"candidates": [{"model": "a"}], "quality_min": {"critical": 1.5}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].quality_min.critical");
  e = read_router(R"({"candidates": [{"model": "a"}], "quality_min": {"hard": 0.5}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].quality_min");
}

TEST(router_options, health_ranges_are_checked) {
  const std::string routes = R"("routes": {"simple": {"model": "a"}})";
  auto e = read_router("{" + routes + R"(, "health_window": 5})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].health_answers_min") << "the default 10 exceeds a window of 5";
  EXPECT_FALSE(read_router("{" + routes + R"(, "health_window": 5, "health_answers_min": 5})"));
  e = read_router("{" + routes + R"(, "health_window": 10001})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].health_window");
  e = read_router("{" + routes + R"(, "unhealthy_failure_rate": 1.1})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].unhealthy_failure_rate");
  e = read_router("{" + routes + R"(, "recheck_ms": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].recheck_ms");
  e = read_router("{" + routes + R"(, "failure_on": ["ok"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].failure_on[0]");
}

}  // namespace
}  // namespace squall
