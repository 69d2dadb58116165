// The strict JSON reader: every mistake is reported once, with its JSON path and what was expected.

#include "policies/core/json_reader.hpp"

#include <gtest/gtest.h>

#include "policies/core/outcome_class_set.hpp"

namespace squall {
namespace {

struct sample {
  double ratio = 0.5;
  std::int64_t offset = -1;
  std::uint32_t slots = 8;
  bool enabled = false;
  std::string label = "none";
  std::string mode = "fast";
  std::optional<double> limit;
  std::optional<std::uint64_t> seed;
};

std::optional<config_error> read_json_reader(const char* text, sample& s, const char* path = "$.providers.openai") {
  const json j = json::parse(text);
  json_reader r(j, path);
  r.number("ratio", s.ratio, 0.0, 1.0)
      .integer("offset", s.offset, -10, 10)
      .count("slots", s.slots, 1, 64)
      .boolean("enabled", s.enabled)
      .string("label", s.label)
      .choice("mode", s.mode, {"fast", "slow"})
      .number("limit", s.limit, 0.0, 100.0)
      .seed("seed", s.seed);
  return r.finish();
}

std::optional<config_error> read_json_reader(const char* text) {
  sample s;
  return read_json_reader(text, s);
}

TEST(json_reader, absent_keys_keep_their_defaults) {
  sample s;
  ASSERT_FALSE(read_json_reader("{}", s));
  EXPECT_EQ(s.ratio, 0.5);
  EXPECT_EQ(s.offset, -1);
  EXPECT_EQ(s.slots, 8U);
  EXPECT_EQ(s.mode, "fast");
  EXPECT_FALSE(s.limit);
  EXPECT_FALSE(s.seed);
}

TEST(json_reader, reads_every_kind_of_value) {
  sample s;
  ASSERT_FALSE(read_json_reader(R"({"ratio": 0.25, "offset": -3, "slots": 64, "enabled": true, "label": "x",
                        "mode": "slow", "limit": 12.5, "seed": 18446744073709551615})",
                    s));
  EXPECT_EQ(s.ratio, 0.25);
  EXPECT_EQ(s.offset, -3);
  EXPECT_EQ(s.slots, 64U);
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.label, "x");
  EXPECT_EQ(s.mode, "slow");
  EXPECT_EQ(s.limit, 12.5);
  EXPECT_EQ(s.seed, 18446744073709551615ULL);
}

TEST(json_reader, unknown_key_suggests_the_closest_known_one) {
  auto e = read_json_reader(R"({"slotz": 4})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.providers.openai");
  EXPECT_EQ(e->message, "unknown key \"slotz\"; did you mean \"slots\"?");
}

TEST(json_reader, unknown_key_far_from_any_lists_the_known_ones) {
  auto e = read_json_reader(R"({"capacity": 4})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("unknown key \"capacity\"; expected one of:"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find(" ratio"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find(" slots"), std::string::npos) << e->message;
}

TEST(json_reader, type_errors_name_the_path_and_the_value_found) {
  auto e = read_json_reader(R"({"ratio": "high"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.providers.openai.ratio");
  EXPECT_EQ(e->message, "expected a number, got \"high\"");
  e = read_json_reader(R"({"enabled": 1})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.providers.openai.enabled");
  EXPECT_EQ(e->message, "expected true or false, got 1");
  e = read_json_reader(R"({"label": {"a": 1}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "expected a string, got an object");
  e = read_json_reader(R"({"slots": 2.5})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.providers.openai.slots");
  EXPECT_EQ(e->message, "expected an integer from 1 to 64, got 2.5");
  e = read_json_reader(R"({"seed": -1})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.providers.openai.seed");
}

TEST(json_reader, range_errors_name_the_path_and_the_range) {
  auto e = read_json_reader(R"({"ratio": 1.5})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.providers.openai.ratio");
  EXPECT_EQ(e->message, "expected a number from 0 to 1, got 1.5");
  e = read_json_reader(R"({"offset": 11})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "expected an integer from -10 to 10, got 11");
  e = read_json_reader(R"({"slots": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.providers.openai.slots");
  e = read_json_reader(R"({"slots": 18446744073709551615})");
  ASSERT_TRUE(e) << "a huge unsigned value is out of range, not wrapped";
  e = read_json_reader(R"({"mode": "medium"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "expected one of \"fast\", \"slow\", got \"medium\"");
}

TEST(json_reader, an_integral_float_is_an_integer) {
  sample s;
  ASSERT_FALSE(read_json_reader(R"({"slots": 4.0})", s));
  EXPECT_EQ(s.slots, 4U);
}

TEST(json_reader, the_first_error_wins_and_values_are_left_alone) {
  sample s;
  auto e = read_json_reader(R"({"ratio": 7, "slots": 0, "bogus": 1})", s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.providers.openai.ratio");
  EXPECT_EQ(s.ratio, 0.5);
}

TEST(json_reader, a_non_object_is_reported) {
  const json j = json::parse("[1, 2]");
  json_reader r(j, "$.workload");
  std::uint32_t n = 3;
  r.count("n", n, 0, 10);
  auto e = r.finish();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.workload");
  EXPECT_EQ(e->message, "expected an object, got an array");
  EXPECT_EQ(n, 3U);
}

TEST(json_reader, required_keys_are_reported_when_missing) {
  const json j = json::parse(R"({"a": 1})");
  json_reader r(j, "$");
  EXPECT_NE(r.required("a", "the a"), nullptr);
  EXPECT_EQ(r.required("providers", "the providers to simulate"), nullptr);
  auto e = r.finish();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "missing key \"providers\"; expected the providers to simulate");
}

TEST(json_reader, paths_quote_keys_that_are_not_plain) {
  EXPECT_EQ(json_path_key("$", "slots"), "$.slots");
  EXPECT_EQ(json_path_key("$.models", "gpt-4o.mini"), "$.models[\"gpt-4o.mini\"]");
  EXPECT_EQ(json_path_index("$.policies", 3), "$.policies[3]");
  EXPECT_EQ((config_error{"a.json", "$.x", "bad"}).describe(), "a.json: $.x: bad");
}

TEST(json_reader, class_lists_name_the_bad_element) {
  const json j = json::parse(R"({"on": ["timeout", 5]})");
  json_reader r(j, "$.p");
  outcome_class_set s{outcome_class::ok};
  read_outcome_class_set(r, "on", s);
  auto e = r.finish();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.p.on[1]");
  EXPECT_EQ(e->message, "expected an outcome class name, got 5");
  EXPECT_EQ(s, outcome_class_set{outcome_class::ok}) << "left unchanged on error";
}

}  // namespace
}  // namespace squall
