// Reading coalesce options from JSON: every key and its range.

#include "policies/coalesce/coalesce_options.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_coalesce(const char* text, coalesce_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[1]");
  read_coalesce_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_coalesce(const char* text) {
  coalesce_options o;
  return read_coalesce(text, o);
}

TEST(coalesce_options, defaults_are_the_documented_ones) {
  coalesce_options o;
  ASSERT_FALSE(read_coalesce("{}", o));
  EXPECT_EQ(o.waiters_max, 1000U);
  EXPECT_EQ(o.in_flight_max, 10000U);
}

TEST(coalesce_options, reads_every_key) {
  coalesce_options o;
  ASSERT_FALSE(read_coalesce(R"({"waiters_max": 3, "in_flight_max": 9})", o));
  EXPECT_EQ(o.waiters_max, 3U);
  EXPECT_EQ(o.in_flight_max, 9U);
}

TEST(coalesce_options, ranges_are_checked_and_name_the_path) {
  auto e = read_coalesce(R"({"waiters_max": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].waiters_max");
  EXPECT_NE(e->message.find("from 1 to 1000000"), std::string::npos) << e->message;
  e = read_coalesce(R"({"in_flight_max": 10000001})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[1].in_flight_max");
  e = read_coalesce(R"({"waiters": 3})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->describe().find("waiters"), std::string::npos) << e->describe();
}

}  // namespace
}  // namespace squall
