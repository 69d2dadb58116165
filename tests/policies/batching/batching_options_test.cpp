// Reading batching options from JSON: every key and its range.

#include "policies/batching/batching_options.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_batching(const char* text, batching_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[0]");
  read_batching_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_batching(const char* text) {
  batching_options o;
  return read_batching(text, o);
}

TEST(batching_options, defaults_are_the_documented_ones) {
  batching_options o;
  ASSERT_FALSE(read_batching("{}", o));
  EXPECT_EQ(o.batch_size_max, 16U);
  EXPECT_EQ(o.window_ms, 50.0);
  EXPECT_EQ(o.groups_max, 64U);
}

TEST(batching_options, reads_every_key) {
  batching_options o;
  ASSERT_FALSE(read_batching(R"({"batch_size_max": 4, "window_ms": 0, "groups_max": 2})", o));
  EXPECT_EQ(o.batch_size_max, 4U);
  EXPECT_EQ(o.window_ms, 0.0);
  EXPECT_EQ(o.groups_max, 2U);
}

TEST(batching_options, ranges_are_checked_and_name_the_path) {
  auto e = read_batching(R"({"batch_size_max": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].batch_size_max");
  EXPECT_NE(e->message.find("from 1 to 4096"), std::string::npos) << e->message;
  e = read_batching(R"({"window_ms": 60001})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].window_ms");
  e = read_batching(R"({"groups_max": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].groups_max");
  e = read_batching(R"({"window": 5})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->describe().find("window"), std::string::npos) << e->describe();
}

}  // namespace
}  // namespace squall
