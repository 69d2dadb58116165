// Reading validate options from JSON.

#include "policies/validate/validate_options.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read(const char* text, validate_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[1]");
  read_validate_options(reader, o);
  return reader.finish();
}

TEST(validate_options, defaults_are_the_documented_ones) {
  validate_options o;
  ASSERT_FALSE(read("{}", o));
  EXPECT_TRUE(o.non_empty);
  EXPECT_EQ(o.json, validate_json::never);
  EXPECT_FALSE(o.not_truncated);
}

TEST(validate_options, reads_every_key) {
  validate_options o;
  ASSERT_FALSE(read(R"({"non_empty": false, "json": "when_asked", "not_truncated": true})", o));
  EXPECT_FALSE(o.non_empty);
  EXPECT_EQ(o.json, validate_json::when_asked);
  EXPECT_TRUE(o.not_truncated);
  validate_options always;
  ASSERT_FALSE(read(R"({"json": true})", always));
  EXPECT_EQ(always.json, validate_json::always);
}

TEST(validate_options, mistakes_name_the_path) {
  validate_options o;
  auto e = read(R"({"json": "yes"})", o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].json");
  EXPECT_NE(e->message.find("\"when_asked\""), std::string::npos) << e->message;

  validate_options o2;
  e = read(R"({"non_empty": 1})", o2);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].non_empty");

  validate_options o3;
  e = read(R"({"non_empty": false})", o3);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1]");
  EXPECT_NE(e->message.find("checks nothing"), std::string::npos) << e->message;

  validate_options o4;
  e = read(R"({"jsn": true})", o4);
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("unknown key"), std::string::npos) << e->message;
}

}  // namespace
}  // namespace squall
