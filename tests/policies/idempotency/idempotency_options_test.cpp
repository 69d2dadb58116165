// Reading idempotency options from JSON: every key and its range.

#include "policies/idempotency/idempotency_options.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_idempotency(const char* text, idempotency_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[2]");
  read_idempotency_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_idempotency(const char* text) {
  idempotency_options o;
  return read_idempotency(text, o);
}

TEST(idempotency_options, defaults_are_the_documented_ones) {
  idempotency_options o;
  ASSERT_FALSE(read_idempotency("{}", o));
  EXPECT_EQ(o.ttl_ms, 600000.0);
  EXPECT_EQ(o.entries_max, 100000U);
}

TEST(idempotency_options, reads_every_key) {
  idempotency_options o;
  ASSERT_FALSE(read_idempotency(R"({"ttl_ms": 1500, "entries_max": 3})", o));
  EXPECT_EQ(o.ttl_ms, 1500.0);
  EXPECT_EQ(o.entries_max, 3U);
}

TEST(idempotency_options, ranges_are_checked_and_name_the_path) {
  auto e = read_idempotency(R"({"ttl_ms": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].ttl_ms");
  EXPECT_NE(e->message.find("from 1 to 604800000"), std::string::npos) << e->message;
  e = read_idempotency(R"({"entries_max": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].entries_max");
  e = read_idempotency(R"({"entries_max": 2.5})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[2].entries_max");
  e = read_idempotency(R"({"ttl": 5})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->describe().find("ttl"), std::string::npos) << e->describe();
}

}  // namespace
}  // namespace squall
