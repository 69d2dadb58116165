// Reading token budget options from JSON: defaults, every key, ranges and the cross-field rules, with
// the JSON path of each mistake.

#include "policies/token_budget/token_budget_options.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_token_budget(const char* text, token_budget_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[1]");
  read_token_budget_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_token_budget(const char* text) {
  token_budget_options o;
  return read_token_budget(text, o);
}

TEST(token_budget_options, defaults_are_the_documented_ones) {
  token_budget_options o;
  ASSERT_FALSE(read_token_budget(R"({"tokens_max": 1000})", o));
  EXPECT_EQ(o.period_s, 3600.0);
  EXPECT_EQ(o.tokens_max, 1000.0);
  EXPECT_FALSE(o.usd_max);
  EXPECT_EQ(o.on_exceeded, budget_exceeded_mode::reject);
  EXPECT_TRUE(o.downgrade_model.empty());
}

TEST(token_budget_options, reads_every_key) {
  token_budget_options o;
  ASSERT_FALSE(read_token_budget(R"({"period_s": 60, "tokens_max": 5000, "usd_max": 2.5, "on_exceeded": "downgrade",
                        "downgrade_model": "gpt-4o-mini"})",
                    o));
  EXPECT_EQ(o.period_s, 60.0);
  EXPECT_EQ(o.tokens_max, 5000.0);
  EXPECT_EQ(o.usd_max, 2.5);
  EXPECT_EQ(o.on_exceeded, budget_exceeded_mode::downgrade);
  EXPECT_EQ(o.downgrade_model, "gpt-4o-mini");
}

TEST(token_budget_options, a_limit_is_required) {
  auto e = read_token_budget(R"({"period_s": 60})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1]");
  EXPECT_NE(e->message.find("\"tokens_max\", \"usd_max\" or both"), std::string::npos) << e->message;
  EXPECT_FALSE(read_token_budget(R"({"usd_max": 1})"));
}

TEST(token_budget_options, ranges_are_checked) {
  auto e = read_token_budget(R"({"tokens_max": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].tokens_max");
  e = read_token_budget(R"({"usd_max": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].usd_max");
  e = read_token_budget(R"({"tokens_max": 10, "period_s": 0.5})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].period_s");
  e = read_token_budget(R"({"tokens_max": 10, "on_exceeded": "queue"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].on_exceeded");
  e = read_token_budget(R"({"tokens_max": 10, "token_max": 5})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("unknown key \"token_max\""), std::string::npos) << e->message;
}

TEST(token_budget_options, downgrade_needs_a_model_and_reject_refuses_one) {
  auto e = read_token_budget(R"({"tokens_max": 10, "on_exceeded": "downgrade"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1]");
  EXPECT_NE(e->message.find("missing key \"downgrade_model\""), std::string::npos) << e->message;
  e = read_token_budget(R"({"tokens_max": 10, "on_exceeded": "downgrade", "downgrade_model": ""})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].downgrade_model");
  e = read_token_budget(R"({"tokens_max": 10, "downgrade_model": "small"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].downgrade_model");
  EXPECT_NE(e->message.find("only used with"), std::string::npos) << e->message;
}

}  // namespace
}  // namespace squall
