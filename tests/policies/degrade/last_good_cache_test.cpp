// The degrade policy's bounded least-recently-used memory of good answers.

#include "policies/degrade/last_good_cache.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

outcome good(std::uint32_t tokens) {
  outcome o;
  o.output_tokens = tokens;
  o.input_tokens = tokens * 2;
  o.provider = "openai";
  o.model = "gpt-4o";
  return o;
}

TEST(last_good_cache, remembers_the_latest_answer_per_key) {
  last_good_cache c(10);
  EXPECT_EQ(c.find(1), nullptr);
  c.remember(1, good(5));
  c.remember(1, good(6));
  ASSERT_NE(c.find(1), nullptr);
  EXPECT_EQ(c.find(1)->output_tokens, 6U);
  EXPECT_EQ(c.find(1)->input_tokens, 12U);
  EXPECT_EQ(c.find(1)->model, "gpt-4o");
  EXPECT_EQ(c.size(), 1U);
}

TEST(last_good_cache, forgets_the_least_recently_used_beyond_entries_max) {
  last_good_cache c(2);
  c.remember(1, good(1));
  c.remember(2, good(2));
  ASSERT_NE(c.find(1), nullptr);  // 1 is now more recent than 2
  c.remember(3, good(3));          // evicts 2
  EXPECT_EQ(c.find(2), nullptr);
  ASSERT_NE(c.find(1), nullptr);
  ASSERT_NE(c.find(3), nullptr);
  EXPECT_EQ(c.find(3)->output_tokens, 3U);
  EXPECT_EQ(c.size(), 2U);
  c.remember(3, good(30));  // an update refreshes 3; 1 is the oldest
  c.remember(4, good(4));
  EXPECT_EQ(c.find(1), nullptr);
  EXPECT_EQ(c.find(3)->output_tokens, 30U);
  EXPECT_EQ(c.find(4)->output_tokens, 4U);
}

TEST(last_good_cache, stays_bounded_under_many_keys) {
  last_good_cache c(100);
  for (std::uint64_t k = 1; k <= 100000; ++k) c.remember(k, good(static_cast<std::uint32_t>(k)));
  EXPECT_EQ(c.size(), 100U);
  for (std::uint64_t k = 99901; k <= 100000; ++k) {
    ASSERT_NE(c.find(k), nullptr) << k;
    EXPECT_EQ(c.find(k)->output_tokens, k);
  }
  EXPECT_EQ(c.find(99900), nullptr);
}

TEST(last_good_cache, a_single_entry_cache_works) {
  last_good_cache c(1);
  c.remember(1, good(1));
  c.remember(2, good(2));
  EXPECT_EQ(c.find(1), nullptr);
  ASSERT_NE(c.find(2), nullptr);
  c.remember(2, good(3));
  EXPECT_EQ(c.find(2)->output_tokens, 3U);
}

}  // namespace
}  // namespace squall
