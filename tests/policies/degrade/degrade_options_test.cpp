// Reading degrade options from JSON.

#include "policies/degrade/degrade_options.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_degrade(const char* text, degrade_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[0]");
  read_degrade_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_degrade(const char* text) {
  degrade_options o;
  return read_degrade(text, o);
}

TEST(degrade_options, defaults_are_the_documented_ones) {
  degrade_options o;
  ASSERT_FALSE(read_degrade("{}", o));
  EXPECT_EQ(o.degrade_on, (outcome_class_set{outcome_class::rate_limited, outcome_class::overloaded,
                                             outcome_class::server_error, outcome_class::timeout,
                                             outcome_class::connection_error, outcome_class::quota,
                                             outcome_class::circuit_open, outcome_class::rejected,
                                             outcome_class::bad_answer}));
  EXPECT_FALSE(o.degrade_on.contains(outcome_class::invalid_request));
  EXPECT_FALSE(o.degrade_on.contains(outcome_class::auth));
  EXPECT_EQ(o.answer, degrade_answer::static_answer);
  EXPECT_EQ(o.output_tokens, 50U);
  EXPECT_EQ(o.latency_ms, 1.0);
  EXPECT_EQ(o.entries_max, 10000U);
}

TEST(degrade_options, reads_every_key) {
  degrade_options o;
  ASSERT_FALSE(read_degrade(R"({"degrade_on": ["timeout", "auth"], "answer": "last_good", "output_tokens": 0,
                        "latency_ms": 0, "entries_max": 3})",
                    o));
  EXPECT_EQ(o.degrade_on, (outcome_class_set{outcome_class::timeout, outcome_class::auth}));
  EXPECT_EQ(o.answer, degrade_answer::last_good);
  EXPECT_EQ(o.output_tokens, 0U);
  EXPECT_EQ(o.latency_ms, 0.0);
  EXPECT_EQ(o.entries_max, 3U);
}

TEST(degrade_options, mistakes_name_their_path) {
  auto e = read_degrade(R"({"degrade_on": ["timeout", "ok"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].degrade_on[1]");
  e = read_degrade(R"({"degrade_on": ["cancelled"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].degrade_on[0]");
  e = read_degrade(R"({"answer": "cached"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].answer");
  e = read_degrade(R"({"latency_ms": -1})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].latency_ms");
  e = read_degrade(R"({"answer": "last_good", "entries_max": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].entries_max");
  e = read_degrade(R"({"output_tokens": 1000001})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].output_tokens");
}

TEST(degrade_options, entries_max_only_with_last_good) {
  auto e = read_degrade(R"({"entries_max": 10})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].entries_max");
  EXPECT_NE(e->message.find("last_good"), std::string::npos) << e->message;
  EXPECT_FALSE(read_degrade(R"({"answer": "last_good", "entries_max": 10})"));
}

// ---- Rules ----------------------------------------------------------------------------------------------

TEST(degrade_options, reads_rules_in_order) {
  degrade_options o;
  ASSERT_FALSE(read_degrade(R"({"answer": "pass", "entries_max": 5, "rules": [
      {"name": "critical", "when": {"request_class": ["critical", "complex"]}, "answer": "pass"},
      {"when": {"priority_min": 2, "priority_max": 9, "model": ["gpt-4o"], "provider": ["openai", "azure"],
                "failure": ["timeout", "overloaded"]}, "answer": "last_good", "output_tokens": 12},
      {"answer": "static"}]})",
                    o));
  EXPECT_EQ(o.answer, degrade_answer::pass);
  EXPECT_EQ(o.entries_max, 5U) << "a rule's last_good makes entries_max apply";
  EXPECT_TRUE(o.uses_last_good());
  ASSERT_EQ(o.rules.size(), 3U);
  EXPECT_EQ(o.rules[0].name, "critical");
  EXPECT_EQ(o.rules[0].answer, degrade_answer::pass);
  EXPECT_EQ(o.rules[0].when.request_classes, (1U << 3) | (1U << 2));
  EXPECT_FALSE(o.rules[0].output_tokens);
  EXPECT_EQ(o.rules[1].name, "rules[1]");
  EXPECT_EQ(o.rules[1].answer, degrade_answer::last_good);
  EXPECT_EQ(o.rules[1].when.priority_min, 2U);
  EXPECT_EQ(o.rules[1].when.priority_max, 9U);
  EXPECT_EQ(o.rules[1].when.models, (std::vector<std::string>{"gpt-4o"}));
  EXPECT_EQ(o.rules[1].when.providers, (std::vector<std::string>{"openai", "azure"}));
  EXPECT_EQ(o.rules[1].when.failures, (outcome_class_set{outcome_class::timeout, outcome_class::overloaded}));
  EXPECT_EQ(o.rules[1].output_tokens, 12U);
  EXPECT_EQ(o.rules[2].answer, degrade_answer::static_answer);
  EXPECT_TRUE(o.rules[2].when.matches_everything(o.degrade_on));
  EXPECT_FALSE(o.rules[1].when.matches_everything(o.degrade_on));
}

TEST(degrade_options, without_rules_nothing_changes) {
  degrade_options o;
  ASSERT_FALSE(read_degrade("{}", o));
  EXPECT_TRUE(o.rules.empty());
  EXPECT_FALSE(o.uses_last_good());
}

struct bad_rules_case {
  const char* text;
  const char* path;
  const char* says;  // a piece of the message
};

TEST(degrade_options, rule_mistakes_name_their_path) {
  const bad_rules_case cases[] = {
      {R"({"rules": {}})", "$.policies[0].rules", "array of 1 to 32"},
      {R"({"rules": []})", "$.policies[0].rules", "array of 1 to 32"},
      {R"({"rules": ["pass"]})", "$.policies[0].rules[0]", "expected an object"},
      {R"({"rules": [{"when": {}}]})", "$.policies[0].rules[0]", "missing key \"answer\""},
      {R"({"rules": [{"anwser": "pass"}]})", "$.policies[0].rules[0]", "did you mean \"answer\""},
      {R"({"rules": [{"answer": "canned"}]})", "$.policies[0].rules[0].answer", "\"pass\""},
      {R"({"rules": [{"name": "", "answer": "pass"}]})", "$.policies[0].rules[0].name", "non-empty"},
      {R"({"rules": [{"name": "default", "answer": "pass"}]})", "$.policies[0].rules[0].name", "reserved"},
      {R"({"rules": [{"name": "a", "when": {"priority_min": 1}, "answer": "pass"}, {"name": "a", "answer": "pass"}]})",
       "$.policies[0].rules[1].name", "duplicate"},
      {R"({"rules": [{"answer": "pass", "output_tokens": 5}]})", "$.policies[0].rules[0].output_tokens", "pass"},
      {R"({"rules": [{"answer": "static", "output_tokens": -1}]})", "$.policies[0].rules[0].output_tokens", "0 to"},
      {R"({"rules": [{"when": [], "answer": "pass"}]})", "$.policies[0].rules[0].when", "expected an object"},
      {R"({"rules": [{"when": {"clas": ["simple"]}, "answer": "pass"}]})", "$.policies[0].rules[0].when",
       "unknown key \"clas\""},
      {R"({"rules": [{"when": {"request_class": ["simple", "urgent"]}, "answer": "pass"}]})",
       "$.policies[0].rules[0].when.request_class[1]", "\"urgent\""},
      {R"({"rules": [{"when": {"request_class": []}, "answer": "pass"}]})",
       "$.policies[0].rules[0].when.request_class", "non-empty"},
      {R"({"rules": [{"when": {"priority_min": 256}, "answer": "pass"}]})",
       "$.policies[0].rules[0].when.priority_min", "0 to 255"},
      {R"({"rules": [{"when": {"priority_min": 3, "priority_max": 2}, "answer": "pass"}]})",
       "$.policies[0].rules[0].when.priority_max", "at least priority_min (3)"},
      {R"({"rules": [{"when": {"model": []}, "answer": "pass"}]})", "$.policies[0].rules[0].when.model",
       "1 to 64"},
      {R"({"rules": [{"when": {"provider": ["openai", 7]}, "answer": "pass"}]})",
       "$.policies[0].rules[0].when.provider[1]", "non-empty name"},
      {R"({"rules": [{"when": {"failure": ["timeout", "auth"]}, "answer": "pass"}]})",
       "$.policies[0].rules[0].when.failure[1]", "not in degrade_on"},
      {R"({"rules": [{"when": {"failure": ["ok"]}, "answer": "pass"}]})", "$.policies[0].rules[0].when.failure[0]",
       "already an answer"},
      {R"({"rules": [{"when": {"failure": []}, "answer": "pass"}]})", "$.policies[0].rules[0].when.failure",
       "at least one"},
      {R"({"rules": [{"name": "all", "answer": "static"}, {"answer": "pass"}]})", "$.policies[0].rules[1]",
       "never decides: \"all\""},
      {R"({"degrade_on": ["timeout"], "rules": [{"when": {"failure": ["timeout"]}, "answer": "static"},
                                                {"answer": "pass"}]})",
       "$.policies[0].rules[1]", "never decides"},
      {R"({"answer": "pass"})", "$.policies[0].answer", "without \"rules\""},
      {R"({"rules": [{"answer": "pass"}], "entries_max": 9})", "$.policies[0].entries_max", "last_good"},
  };
  for (const auto& c : cases) {
    const auto e = read_degrade(c.text);
    ASSERT_TRUE(e) << c.text;
    EXPECT_EQ(e->path, c.path) << c.text << "\n" << e->message;
    EXPECT_NE(e->message.find(c.says), std::string::npos) << c.text << "\n" << e->message;
  }
}

TEST(degrade_options, at_most_32_rules) {
  std::string many = R"({"rules": [)";
  for (int i = 0; i < 33; ++i) {
    if (i > 0) many += ", ";
    many += R"({"when": {"priority_min": )" + std::to_string(i + 1) + R"(}, "answer": "pass"})";
  }
  auto e = read_degrade((many + "]}").c_str());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].rules");
  EXPECT_NE(e->message.find("33 entries"), std::string::npos) << e->message;
  many = R"({"rules": [)";
  for (int i = 0; i < 32; ++i) {
    if (i > 0) many += ", ";
    many += R"({"when": {"priority_min": )" + std::to_string(i + 1) + R"(}, "answer": "pass"})";
  }
  EXPECT_FALSE(read_degrade((many + "]}").c_str()));
}

}  // namespace
}  // namespace squall
