#pragma once
// The virtual clock of the simulation is its event scheduler: time jumps from one timer to the next.
// Timers due at the same instant fire in the order they were started (a sequence number breaks ties),
// so a run is a pure function of its inputs.
//
// Timers live in slots (reused through a free list, so steady-state scheduling does not allocate) and
// are ordered by an indexed 4-ary heap. Cancelling removes the timer from the heap at once: the heap
// holds only live timers, which keeps it small and cache-friendly even when most timers (timeouts) are
// cancelled. A slot's generation number makes a stale timer_id harmless.

#include <cstdint>
#include <vector>

#include "policies/core/runtime.hpp"

namespace squall::sim {

class event_loop final : public runtime {
 public:
  event_loop() = default;
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  time_point now() const noexcept override { return now_; }
  timer_id start_timer(duration delay, timer_target& target, std::uint32_t cookie) override;
  void cancel_timer(timer_id id) noexcept override;

  // Fires the earliest live timer, advancing the clock to it. Returns false when none is left.
  bool step();
  // Fires timers until none is left.
  void run() {
    while (step()) {
    }
  }
  // Fires every timer due at or before `until`, then sets the clock to `until` (if it is later).
  void run_until(time_point until);
  // Time of the earliest live timer, or time_never.
  time_point next_due();

  std::size_t pending() const noexcept { return live_; }
  std::uint64_t fired() const noexcept { return fired_; }

 private:
  struct entry {
    std::int64_t due_ns;
    std::uint64_t sequence;
    std::uint32_t slot;
  };
  struct slot {
    timer_target* target = nullptr;
    std::uint32_t cookie = 0;
    std::uint32_t generation = 1;
    std::uint32_t heap_index = 0;  // position in heap_ while live
    std::uint32_t next_free = 0;   // free-list link (+1), valid while the slot is free
    bool live = false;
  };

  static bool before(const entry& a, const entry& b) noexcept {
    return a.due_ns != b.due_ns ? a.due_ns < b.due_ns : a.sequence < b.sequence;
  }
  void place(std::size_t index, const entry& e) noexcept;
  void sift_up(std::size_t index) noexcept;
  void sift_down(std::size_t index) noexcept;
  void remove_at(std::size_t index) noexcept;
  void release(std::uint32_t index) noexcept;

  time_point now_{};
  std::vector<entry> heap_;
  std::vector<slot> slots_;
  std::uint32_t free_head_ = 0;  // 0 = empty list; slot indices are stored +1
  std::uint64_t sequence_ = 0;
  std::size_t live_ = 0;
  std::uint64_t fired_ = 0;
};

}  // namespace squall::sim
