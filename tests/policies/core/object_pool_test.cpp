#include "policies/core/object_pool.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <vector>

namespace squall {
namespace {

struct pooled_thing {
  pooled_thing(int v, int& live) : value(v), live_count(live) {
    if (v < 0) throw std::invalid_argument("negative");
    ++live_count;
  }
  ~pooled_thing() { --live_count; }
  pooled_thing(const pooled_thing&) = delete;
  pooled_thing& operator=(const pooled_thing&) = delete;
  int value;
  int& live_count;
  double padding[3] = {};
};

TEST(ObjectPool, BuildsAndDestroysObjectsAndReusesTheirMemory) {
  object_pool<pooled_thing> pool;
  int live = 0;
  std::vector<pooled_thing*> things;
  for (int i = 0; i < 100; ++i) things.push_back(pool.make(i, live));
  EXPECT_EQ(live, 100);
  EXPECT_EQ(pool.in_use(), 100U);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(things[static_cast<std::size_t>(i)]->value, i);
  const std::set<pooled_thing*> first(things.begin(), things.end());
  EXPECT_EQ(first.size(), 100U);  // distinct addresses
  for (pooled_thing* t : things) pool.destroy(t);
  EXPECT_EQ(live, 0);
  EXPECT_EQ(pool.in_use(), 0U);
  // The same number again takes the same memory: nothing new is allocated.
  things.clear();
  for (int i = 0; i < 100; ++i) things.push_back(pool.make(i, live));
  EXPECT_EQ(std::set<pooled_thing*>(things.begin(), things.end()), first);
  for (pooled_thing* t : things) pool.destroy(t);
}

TEST(ObjectPool, AConstructorThatThrowsGivesTheMemoryBack) {
  object_pool<pooled_thing> pool;
  int live = 0;
  EXPECT_THROW(pool.make(-1, live), std::invalid_argument);
  EXPECT_EQ(pool.in_use(), 0U);
  EXPECT_EQ(live, 0);
  pooled_thing* t = pool.make(5, live);
  EXPECT_EQ(t->value, 5);
  pool.destroy(t);
}

}  // namespace
}  // namespace squall
