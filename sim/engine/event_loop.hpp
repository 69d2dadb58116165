#pragma once
// The virtual clock of the simulation is its event scheduler: time jumps from one timer to the next.
// Timers due at the same instant fire in the order they were started (a sequence number breaks ties),
// so a run is a pure function of its inputs.
//
// Timers live in slots (reused through a free list, so steady-state scheduling does not allocate). A
// timer whose delay is one the loop has seen often (a policy's fixed timeout, a zero-delay deferral) goes
// into that delay's FIFO ring (timer_ring.hpp): such timers fall due in the order they start, so the ring
// is already sorted and costs O(1) to start, cancel and fire; the heap holds one anchor per non-empty
// ring, keyed at or before the ring's front. Other timers go into an indexed 4-ary heap, from which a
// cancel removes them at once. Most timers of a run are timeouts that get cancelled, and they never touch
// the heap. The firing order is the same as one heap of every timer: due time, then start sequence.
// A slot's generation number makes a stale timer_id (and a cancelled ring entry) harmless.

#include <array>
#include <cstdint>
#include <vector>

#include "policies/core/runtime.hpp"
#include "sim/engine/timer_ring.hpp"

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
  // How many delays have a ring (bounded by rings_max); for tests.
  std::size_t rings() const noexcept { return rings_.size(); }
  // Entries the rings have room for, live or dead: what they cost in memory; for tests.
  std::size_t ring_capacity() const noexcept {
    std::size_t n = 0;
    for (const ring_state& g : rings_) n += g.timers.capacity();
    return n;
  }

  // A delay gets a ring once it has been seen this many times more than the other delays sharing its
  // bucket of the lookup table; at most rings_max delays get one (the rest use the heap as before).
  static constexpr std::uint32_t ring_after_starts = 16;
  static constexpr std::size_t rings_max = 16;

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
    std::uint16_t ring = 0;        // a live ring timer: its ring + 1; 0 for a heap timer
    std::uint16_t anchor_of = 0;   // the slot of a ring's heap anchor: its ring + 1 (never live, never freed)
    bool live = false;
  };
  struct ring_state {
    timer_ring timers;
    std::uint32_t anchor_slot;
    bool anchored = false;  // the anchor is in the heap
  };
  // One bucket of the delay lookup: a delay and its net count of starts, or the ring it has.
  struct delay_probe {
    std::int64_t delay_ns = 0;
    std::uint32_t count = 0;   // 0 = empty bucket
    std::int32_t ring = -1;
  };

  static bool before(const entry& a, const entry& b) noexcept {
    return a.due_ns != b.due_ns ? a.due_ns < b.due_ns : a.sequence < b.sequence;
  }
  void place(std::size_t index, const entry& e) noexcept;
  void sift_up(std::size_t index) noexcept;
  void sift_down(std::size_t index) noexcept;
  void remove_at(std::size_t index) noexcept;
  void release(std::uint32_t index) noexcept;
  std::uint32_t take_slot();
  int ring_for(std::int64_t delay_ns);
  bool is_live(const ring_entry& e) const noexcept {
    const slot& s = slots_[e.slot];
    return s.live && s.generation == e.generation;
  }
  // Brings the heap's top to a live timer: drops or re-keys anchors of rings whose front was cancelled.
  // Returns false when no timer is left.
  bool settle_top();

  time_point now_{};
  std::vector<entry> heap_;
  std::vector<slot> slots_;
  std::vector<ring_state> rings_;
  std::array<delay_probe, 64> delays_{};
  std::uint32_t free_head_ = 0;  // 0 = empty list; slot indices are stored +1
  std::uint64_t sequence_ = 0;
  std::size_t live_ = 0;
  std::uint64_t fired_ = 0;
};

}  // namespace squall::sim
