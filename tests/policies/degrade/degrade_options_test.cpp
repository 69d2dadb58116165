// Reading degrade options from JSON.

#include "policies/degrade/degrade_options.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read(const char* text, degrade_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[0]");
  read_degrade_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read(const char* text) {
  degrade_options o;
  return read(text, o);
}

TEST(degrade_options, defaults_are_the_documented_ones) {
  degrade_options o;
  ASSERT_FALSE(read("{}", o));
  EXPECT_EQ(o.degrade_on, (outcome_class_set{outcome_class::rate_limited, outcome_class::overloaded,
                                             outcome_class::server_error, outcome_class::timeout,
                                             outcome_class::connection_error, outcome_class::quota,
                                             outcome_class::circuit_open, outcome_class::rejected}));
  EXPECT_FALSE(o.degrade_on.contains(outcome_class::invalid_request));
  EXPECT_FALSE(o.degrade_on.contains(outcome_class::auth));
  EXPECT_EQ(o.answer, degrade_answer::static_answer);
  EXPECT_EQ(o.output_tokens, 50U);
  EXPECT_EQ(o.latency_ms, 1.0);
  EXPECT_EQ(o.entries_max, 10000U);
}

TEST(degrade_options, reads_every_key) {
  degrade_options o;
  ASSERT_FALSE(read(R"({"degrade_on": ["timeout", "auth"], "answer": "last_good", "output_tokens": 0,
                        "latency_ms": 0, "entries_max": 3})",
                    o));
  EXPECT_EQ(o.degrade_on, (outcome_class_set{outcome_class::timeout, outcome_class::auth}));
  EXPECT_EQ(o.answer, degrade_answer::last_good);
  EXPECT_EQ(o.output_tokens, 0U);
  EXPECT_EQ(o.latency_ms, 0.0);
  EXPECT_EQ(o.entries_max, 3U);
}

TEST(degrade_options, mistakes_name_their_path) {
  auto e = read(R"({"degrade_on": ["timeout", "ok"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].degrade_on[1]");
  e = read(R"({"degrade_on": ["cancelled"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].degrade_on[0]");
  e = read(R"({"answer": "cached"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].answer");
  e = read(R"({"latency_ms": -1})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].latency_ms");
  e = read(R"({"answer": "last_good", "entries_max": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].entries_max");
  e = read(R"({"output_tokens": 1000001})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].output_tokens");
}

TEST(degrade_options, entries_max_only_with_last_good) {
  auto e = read(R"({"entries_max": 10})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].entries_max");
  EXPECT_NE(e->message.find("last_good"), std::string::npos) << e->message;
  EXPECT_FALSE(read(R"({"answer": "last_good", "entries_max": 10})"));
}

}  // namespace
}  // namespace squall
