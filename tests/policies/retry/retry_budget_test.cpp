// The retry budget on its own: the token bucket's arithmetic and threshold, the percent budget's
// allowance over its sliding window, and reading its options.

#include "policies/retry/retry_budget.hpp"
#include "tests/support/time_points.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

using testing::at_s;

retry_budget_options bucket(double tokens_max, double ratio) {
  retry_budget_options o;
  o.kind = retry_budget_kind::token_bucket;
  o.tokens_max = tokens_max;
  o.token_ratio = ratio;
  return o;
}

retry_budget_options percent(double pct, std::uint32_t window_s, double min_per_s) {
  retry_budget_options o;
  o.kind = retry_budget_kind::percent;
  o.percent = pct;
  o.window_s = window_s;
  o.retries_min_per_s = min_per_s;
  return o;
}

TEST(retry_budget, no_budget_always_allows) {
  retry_budget b{retry_budget_options{}};
  EXPECT_FALSE(b.enabled());
  for (int i = 0; i < 1000; ++i) {
    b.on_attempt_failed();
    EXPECT_TRUE(b.try_acquire(at_s(0)));
  }
}

TEST(retry_budget, token_bucket_allows_only_above_half) {
  retry_budget b(bucket(10, 0.5));
  EXPECT_TRUE(b.enabled());
  EXPECT_EQ(b.tokens(), 10.0);
  for (int i = 0; i < 4; ++i) b.on_attempt_failed();
  EXPECT_EQ(b.tokens(), 6.0);
  EXPECT_TRUE(b.try_acquire(at_s(0)));
  EXPECT_EQ(b.tokens(), 6.0) << "acquiring does not spend: failures do";
  b.on_attempt_failed();
  EXPECT_EQ(b.tokens(), 5.0);
  EXPECT_FALSE(b.try_acquire(at_s(0))) << "exactly half is not above half";
  b.on_attempt_ok();
  EXPECT_EQ(b.tokens(), 5.5);
  EXPECT_TRUE(b.try_acquire(at_s(0)));
}

TEST(retry_budget, token_bucket_stays_between_zero_and_max) {
  retry_budget b(bucket(4, 1));
  for (int i = 0; i < 100; ++i) b.on_attempt_failed();
  EXPECT_EQ(b.tokens(), 0.0);
  for (int i = 0; i < 100; ++i) b.on_attempt_ok();
  EXPECT_EQ(b.tokens(), 4.0);
}

TEST(retry_budget, percent_allows_percent_of_calls_plus_the_floor) {
  retry_budget b(percent(10, 10, 0));
  for (int i = 0; i < 100; ++i) b.on_call(at_s(1));
  int granted = 0;
  for (int i = 0; i < 50; ++i) granted += b.try_acquire(at_s(2)) ? 1 : 0;
  EXPECT_EQ(granted, 10) << "10% of 100 calls";

  retry_budget floor(percent(10, 10, 1));
  int floor_granted = 0;
  for (int i = 0; i < 50; ++i) floor_granted += floor.try_acquire(at_s(0)) ? 1 : 0;
  EXPECT_EQ(floor_granted, 10) << "1 per second over a 10 s window, with no calls at all";
}

TEST(retry_budget, percent_forgets_calls_and_retries_outside_the_window) {
  retry_budget b(percent(50, 10, 0));
  for (int i = 0; i < 10; ++i) b.on_call(at_s(0.5));
  int granted = 0;
  for (int i = 0; i < 10; ++i) granted += b.try_acquire(at_s(1)) ? 1 : 0;
  EXPECT_EQ(granted, 5);
  EXPECT_FALSE(b.try_acquire(at_s(9.5))) << "still inside the window";
  // Eleven seconds later both the calls and the retries have left the window.
  EXPECT_FALSE(b.try_acquire(at_s(12))) << "no calls in the window, no floor";
  for (int i = 0; i < 4; ++i) b.on_call(at_s(12));
  EXPECT_TRUE(b.try_acquire(at_s(12)));
  EXPECT_TRUE(b.try_acquire(at_s(12)));
  EXPECT_FALSE(b.try_acquire(at_s(12)));
}

std::optional<config_error> read(const char* text, retry_budget_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[0]");
  read_retry_budget_options(reader, "budget", o);
  return reader.finish();
}

TEST(retry_budget_options, defaults_and_both_kinds) {
  retry_budget_options o;
  EXPECT_EQ(o.kind, retry_budget_kind::none);
  EXPECT_EQ(o.tokens_max, 100.0);
  EXPECT_EQ(o.token_ratio, 0.1);
  EXPECT_EQ(o.percent, 10.0);
  EXPECT_EQ(o.window_s, 10U);
  EXPECT_EQ(o.retries_min_per_s, 1.0);
  ASSERT_FALSE(read("{}", o));
  EXPECT_EQ(o.kind, retry_budget_kind::none);
  ASSERT_FALSE(read(R"({"budget": {"kind": "token_bucket", "tokens_max": 10, "token_ratio": 0.5}})", o));
  EXPECT_EQ(o.kind, retry_budget_kind::token_bucket);
  EXPECT_EQ(o.tokens_max, 10.0);
  EXPECT_EQ(o.token_ratio, 0.5);
  retry_budget_options p;
  ASSERT_FALSE(read(R"({"budget": {"kind": "percent", "percent": 20, "window_s": 30, "retries_min_per_s": 0}})", p));
  EXPECT_EQ(p.kind, retry_budget_kind::percent);
  EXPECT_EQ(p.percent, 20.0);
  EXPECT_EQ(p.window_s, 30U);
  EXPECT_EQ(p.retries_min_per_s, 0.0);
}

TEST(retry_budget_options, mistakes_name_the_path) {
  retry_budget_options o;
  auto e = read(R"({"budget": {"tokens_max": 10}})", o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].budget");
  EXPECT_NE(e->message.find("kind"), std::string::npos) << e->message;

  e = read(R"({"budget": {"kind": "leaky"}})", o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].budget.kind");

  e = read(R"({"budget": {"kind": "token_bucket", "tokens_max": 0}})", o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].budget.tokens_max");

  e = read(R"({"budget": {"kind": "token_bucket", "token_ratio": 0}})", o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].budget.token_ratio");

  e = read(R"({"budget": {"kind": "percent", "window_s": 61}})", o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].budget.window_s");

  e = read(R"({"budget": {"kind": "percent", "tokens_max": 10}})", o);
  ASSERT_TRUE(e) << "a key of the other kind";
  EXPECT_EQ(e->path, "$.policies[0].budget");
  EXPECT_NE(e->message.find("tokens_max"), std::string::npos) << e->message;

  e = read(R"({"budget": 10})", o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].budget");
}

}  // namespace
}  // namespace squall
