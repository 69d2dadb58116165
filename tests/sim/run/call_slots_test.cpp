#include "sim/run/call_slots.hpp"

#include <gtest/gtest.h>

#include <set>

namespace squall::sim {
namespace {

struct slot {
  int value = 0;
  slot* prev = nullptr;
  slot* next = nullptr;
};

std::set<int> values_in_flight(const call_slots<slot>& slots) {
  std::set<int> out;
  for (slot* s = slots.first_in_flight(); s != nullptr; s = s->next) out.insert(s->value);
  return out;
}

TEST(CallSlots, ReleasedSlotsAreReusedSoAllocationsFollowThePeakInFlight) {
  call_slots<slot> slots;
  for (int round = 0; round < 100; ++round) {
    slot& a = slots.acquire();
    slot& b = slots.acquire();
    slots.link(a);
    slots.link(b);
    slots.unlink(a);
    slots.release(a);
    slots.unlink(b);
    slots.release(b);
  }
  EXPECT_EQ(slots.allocated(), 2U);
  EXPECT_EQ(slots.in_flight(), 0U);
  EXPECT_EQ(slots.first_in_flight(), nullptr);
}

TEST(CallSlots, UnlinkingFromTheHeadMiddleOrTailKeepsTheOthers) {
  for (int victim = 0; victim < 3; ++victim) {
    call_slots<slot> slots;
    slot* made[3];
    for (int i = 0; i < 3; ++i) {
      made[i] = &slots.acquire();
      made[i]->value = i;
      slots.link(*made[i]);
    }
    slots.unlink(*made[victim]);
    slots.release(*made[victim]);
    std::set<int> expected{0, 1, 2};
    expected.erase(victim);
    EXPECT_EQ(values_in_flight(slots), expected) << "victim " << victim;
    EXPECT_EQ(slots.in_flight(), 2U);
    // A stop drains whatever is left.
    while (slot* s = slots.first_in_flight()) {
      slots.unlink(*s);
      slots.release(*s);
    }
    EXPECT_EQ(slots.in_flight(), 0U);
    EXPECT_EQ(slots.allocated(), 3U);
  }
}

}  // namespace
}  // namespace squall::sim
