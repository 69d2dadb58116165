#pragma once
// The requests a load driver has in flight, for the simulated and the live driver alike: slots are
// reused through a free list, so a run allocates one slot per request it ever had in flight at once,
// never one per request, and an intrusive list of the slots in flight lets a stop cancel each of them.
//
// `Slot` is default-constructible with `Slot* prev` and `Slot* next` members; the owner fills in the
// rest. A slot's address is stable from acquire() until the pool is destroyed.

#include <cstddef>
#include <memory>
#include <vector>

namespace squall::sim {

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
