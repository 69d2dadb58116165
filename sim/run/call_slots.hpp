#pragma once
// The requests a load driver has in flight, for the simulated and the live driver alike: slots are
// reused through a free list, so a run allocates one slot per request it ever had in flight at once,
// never one per request, and an intrusive list of the slots in flight lets a stop cancel each of them.
//
// `Slot` is default-constructible with `Slot* prev` and `Slot* next` members; the owner fills in the
// rest. A slot's address is stable from acquire() until the pool is destroyed. call_slot is the slot
// both drivers use.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "policies/core/call.hpp"

namespace squall::sim {

// One request in flight: its call, its operation in the pipeline and when it was meant to start (latency
// counts from then). The outcome goes to `Driver::complete`.
template <class Driver>
struct call_slot final : outcome_receiver {
  void on_outcome(outcome&& result) override { owner->complete(*this, std::move(result)); }
  Driver* owner = nullptr;
  call_context call;
  operation* op = nullptr;
  time_point intended{};
  std::uint32_t user = 0;  // 0 = open loop; else user index + 1
  call_slot* prev = nullptr;
  call_slot* next = nullptr;
};

// The drivers' timer cookies: a kind in the top two bits, a burst or user index below.
namespace driver_cookie {
inline constexpr std::uint32_t arrival = 0;
inline constexpr std::uint32_t interval = 1;
inline constexpr std::uint32_t poll = 2;  // live only: checks for a stop request
inline constexpr std::uint32_t kind_mask = 0xC0000000U;
inline constexpr std::uint32_t burst = 0x40000000U;
inline constexpr std::uint32_t user = 0x80000000U;
}  // namespace driver_cookie

template <class Slot>
class call_slots {
 public:
  call_slots() = default;
  call_slots(const call_slots&) = delete;
  call_slots& operator=(const call_slots&) = delete;

  // A free slot, not yet in flight: fill it, then link() it.
  Slot& acquire() {
    if (free_.empty()) {
      pool_.push_back(std::make_unique<Slot>());
      return *pool_.back();
    }
    Slot* slot = free_.back();
    free_.pop_back();
    return *slot;
  }
  // Back to the free list; unlink() it first if it was in flight.
  void release(Slot& slot) { free_.push_back(&slot); }

  void link(Slot& slot) noexcept {
    slot.prev = nullptr;
    slot.next = head_;
    if (head_) head_->prev = &slot;
    head_ = &slot;
    ++in_flight_;
  }
  void unlink(Slot& slot) noexcept {
    if (slot.prev) {
      slot.prev->next = slot.next;
    } else {
      head_ = slot.next;
    }
    if (slot.next) slot.next->prev = slot.prev;
    slot.prev = slot.next = nullptr;
    --in_flight_;
  }

  // Some slot in flight (the newest), or null when none is.
  Slot* first_in_flight() const noexcept { return head_; }
  std::size_t in_flight() const noexcept { return in_flight_; }
  // Slots allocated so far: the most that were in flight at once.
  std::size_t allocated() const noexcept { return pool_.size(); }

 private:
  std::vector<std::unique_ptr<Slot>> pool_;
  std::vector<Slot*> free_;
  Slot* head_ = nullptr;
  std::size_t in_flight_ = 0;
};

}  // namespace squall::sim
