#include "policies/core/free_list_pool.hpp"

#include <gtest/gtest.h>

#include <set>

namespace squall {
namespace {

struct record {
  int value = 0;
  record* next_free = nullptr;
};

TEST(FreeListPool, ObjectsGivenBackAreTakenAgainSoThePoolFollowsThePeakInUse) {
  free_list_pool<record> pool;
  for (int round = 0; round < 50; ++round) {
    record& a = pool.take();
    record& b = pool.take();
    record& c = pool.take();
    EXPECT_EQ(pool.in_use(), 3U);
    pool.give_back(b);
    pool.give_back(a);
    pool.give_back(c);
  }
  EXPECT_EQ(pool.all().size(), 3U);
  EXPECT_EQ(pool.in_use(), 0U);
}

TEST(FreeListPool, AddressesStayPutAndTheLastGivenBackComesFirst) {
  free_list_pool<record> pool;
  std::set<record*> seen;
  for (int i = 0; i < 1000; ++i) {
    record& r = pool.take();
    r.value = i;
    seen.insert(&r);
  }
  EXPECT_EQ(seen.size(), 1000U);
  int i = 0;
  for (const record& r : pool.all()) EXPECT_EQ(r.value, i++) << "an object moved";
  record& first = pool.all()[10];
  record& second = pool.all()[20];
  pool.give_back(first);
  pool.give_back(second);
  EXPECT_EQ(&pool.take(), &second);
  record& again = pool.take();
  EXPECT_EQ(&again, &first);
  EXPECT_EQ(again.value, 10) << "taken as it was given back";
  EXPECT_EQ(again.next_free, nullptr);
  EXPECT_EQ(pool.in_use(), 1000U);
}

}  // namespace
}  // namespace squall
