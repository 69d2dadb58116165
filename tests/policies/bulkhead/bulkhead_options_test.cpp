// Reading bulkhead options from JSON: defaults, every key, ranges with their JSON paths.

#include "policies/bulkhead/bulkhead_options.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_bulkhead(const char* text, bulkhead_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[2]");
  read_bulkhead_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_bulkhead(const char* text) {
  bulkhead_options o;
  return read_bulkhead(text, o);
}

TEST(bulkhead_options, defaults_are_the_documented_ones) {
  bulkhead_options o;
  ASSERT_FALSE(read_bulkhead("{}", o));
  EXPECT_EQ(o.concurrency_max, 10U);
  EXPECT_EQ(o.queue_max, 0U);
  EXPECT_EQ(o.queue_wait_ms_max, 1000.0);
}

TEST(bulkhead_options, reads_every_key) {
  bulkhead_options o;
  ASSERT_FALSE(read_bulkhead(R"({"concurrency_max": 3, "queue_max": 40, "queue_wait_ms_max": 250})", o));
  EXPECT_EQ(o.concurrency_max, 3U);
  EXPECT_EQ(o.queue_max, 40U);
  EXPECT_EQ(o.queue_wait_ms_max, 250.0);
}

TEST(bulkhead_options, ranges_are_checked) {
  auto e = read_bulkhead(R"({"concurrency_max": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].concurrency_max");
  EXPECT_NE(e->message.find("from 1 to 100000"), std::string::npos) << e->message;
  e = read_bulkhead(R"({"queue_max": 1000001})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].queue_max");
  e = read_bulkhead(R"({"queue_wait_ms_max": -5})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].queue_wait_ms_max");
  e = read_bulkhead(R"({"max_concurrency": 5})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("unknown key \"max_concurrency\""), std::string::npos) << e->message;
}

}  // namespace
}  // namespace squall
