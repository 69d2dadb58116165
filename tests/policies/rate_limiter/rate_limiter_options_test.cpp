// Reading rate limiter options from JSON: every key, its range, the nested adaptive object and the
// cross-field checks, with the JSON path of each mistake.

#include "policies/rate_limiter/rate_limiter_options.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

std::optional<config_error> read_rate_limiter(const char* text, rate_limiter_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[0]");
  read_rate_limiter_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_rate_limiter(const char* text) {
  rate_limiter_options o;
  return read_rate_limiter(text, o);
}

TEST(rate_limiter_options, defaults_are_the_documented_ones) {
  rate_limiter_options o;
  ASSERT_FALSE(read_rate_limiter(R"({"rpm": 60})", o));
  EXPECT_EQ(o.rpm, 60.0);
  EXPECT_FALSE(o.tpm);
  EXPECT_EQ(o.mode, limiter_mode::wait);
  EXPECT_EQ(o.wait_ms_max, 10000.0);
  EXPECT_EQ(o.queue_max, 1000U);
  EXPECT_EQ(o.burst_s, 1.0);
  EXPECT_FALSE(o.adaptive);
  const limiter_aimd_options a;
  EXPECT_EQ(a.decrease_factor, 0.5);
  EXPECT_EQ(a.increase_per_s, 60.0);
  EXPECT_EQ(a.rpm_min, 1.0);
  EXPECT_FALSE(a.rpm_max);
  EXPECT_EQ(a.cooldown_ms, 1000.0);
}

TEST(rate_limiter_options, reads_every_key) {
  rate_limiter_options o;
  ASSERT_FALSE(read_rate_limiter(R"({"rpm": 600, "tpm": 90000, "mode": "reject", "wait_ms_max": 250, "queue_max": 7,
                        "burst_s": 2.5, "adaptive": {"kind": "aimd", "decrease_factor": 0.7, "increase_per_s": 5,
                        "rpm_min": 10, "rpm_max": 900, "cooldown_ms": 200}})",
                    o));
  EXPECT_EQ(o.rpm, 600.0);
  EXPECT_EQ(o.tpm, 90000.0);
  EXPECT_EQ(o.mode, limiter_mode::reject);
  EXPECT_EQ(o.wait_ms_max, 250.0);
  EXPECT_EQ(o.queue_max, 7U);
  EXPECT_EQ(o.burst_s, 2.5);
  ASSERT_TRUE(o.adaptive);
  EXPECT_EQ(o.adaptive->decrease_factor, 0.7);
  EXPECT_EQ(o.adaptive->increase_per_s, 5.0);
  EXPECT_EQ(o.adaptive->rpm_min, 10.0);
  EXPECT_EQ(o.adaptive->rpm_max, 900.0);
  EXPECT_EQ(o.adaptive->cooldown_ms, 200.0);
}

TEST(rate_limiter_options, a_rate_is_required) {
  auto e = read_rate_limiter(R"({"mode": "wait"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0]");
  EXPECT_NE(e->message.find("\"rpm\", \"tpm\" or both"), std::string::npos) << e->message;
  EXPECT_FALSE(read_rate_limiter(R"({"tpm": 1000})"));
}

TEST(rate_limiter_options, ranges_are_checked) {
  auto e = read_rate_limiter(R"({"rpm": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].rpm");
  e = read_rate_limiter(R"({"rpm": 60, "burst_s": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].burst_s");
  e = read_rate_limiter(R"({"rpm": 60, "mode": "drop"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].mode");
  EXPECT_NE(e->message.find("\"wait\""), std::string::npos) << e->message;
  e = read_rate_limiter(R"({"rpm": 60, "queue_max": -1})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].queue_max");
  e = read_rate_limiter(R"({"rpm": 60, "burst": 2})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0]");
  EXPECT_NE(e->message.find("unknown key \"burst\""), std::string::npos) << e->message;
}

TEST(rate_limiter_options, adaptive_mistakes_name_the_nested_path) {
  auto e = read_rate_limiter(R"({"rpm": 60, "adaptive": {"kind": "cubic"}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].adaptive.kind");
  e = read_rate_limiter(R"({"rpm": 60, "adaptive": {"decrease_factor": 1.5}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].adaptive.decrease_factor");
  e = read_rate_limiter(R"({"rpm": 60, "adaptive": {"decrease": 0.5}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].adaptive");
  EXPECT_NE(e->message.find("unknown key \"decrease\""), std::string::npos) << e->message;
  e = read_rate_limiter(R"({"rpm": 60, "adaptive": {"rpm_min": 100}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].adaptive.rpm_min");
  EXPECT_NE(e->message.find("at most rpm"), std::string::npos) << e->message;
  e = read_rate_limiter(R"({"rpm": 60, "adaptive": {"rpm_max": 30}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].adaptive.rpm_max");
  e = read_rate_limiter(R"({"tpm": 600, "adaptive": {}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].adaptive");
  EXPECT_NE(e->message.find("needs \"rpm\""), std::string::npos) << e->message;
  e = read_rate_limiter(R"({"rpm": 60, "adaptive": "aimd"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].adaptive");
}

}  // namespace
}  // namespace squall
