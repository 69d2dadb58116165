#include "sim/engine/event_loop.hpp"

#include <algorithm>

namespace squall::sim {

void event_loop::place(std::size_t index, const entry& e) noexcept {
  heap_[index] = e;
  slots_[e.slot].heap_index = static_cast<std::uint32_t>(index);
}

void event_loop::sift_up(std::size_t index) noexcept {
  const entry moving = heap_[index];
  while (index > 0) {
    const std::size_t parent = (index - 1) / 4;
    if (!before(moving, heap_[parent])) break;
    place(index, heap_[parent]);
    index = parent;
  }
  place(index, moving);
}

void event_loop::sift_down(std::size_t index) noexcept {
  const entry moving = heap_[index];
  const std::size_t size = heap_.size();
  for (;;) {
    const std::size_t first = index * 4 + 1;
    if (first >= size) break;
    std::size_t best = first;
    const std::size_t last = std::min(first + 4, size);
    for (std::size_t c = first + 1; c < last; ++c) {
      if (before(heap_[c], heap_[best])) best = c;
    }
    if (!before(heap_[best], moving)) break;
    place(index, heap_[best]);
    index = best;
  }
  place(index, moving);
}

void event_loop::remove_at(std::size_t index) noexcept {
  const std::size_t last = heap_.size() - 1;
  if (index != last) {
    const entry moved = heap_[last];
    heap_.pop_back();
    place(index, moved);
    if (index > 0 && before(moved, heap_[(index - 1) / 4])) {
      sift_up(index);
    } else {
      sift_down(index);
    }
  } else {
    heap_.pop_back();
  }
}

std::uint32_t event_loop::take_slot() {
  if (free_head_ != 0) {
    const std::uint32_t index = free_head_ - 1;
    free_head_ = slots_[index].next_free;
    return index;
  }
  slots_.emplace_back();
  return static_cast<std::uint32_t>(slots_.size() - 1);
}

int event_loop::ring_for(std::int64_t delay_ns) {
  // Fibonacci hashing into 64 buckets. A bucket keeps the delay that outnumbers the others landing in it
  // (a majority vote), so jittered delays cannot crowd out a fixed timeout.
  const auto bucket = static_cast<std::size_t>((static_cast<std::uint64_t>(delay_ns) * 0x9e3779b97f4a7c15ULL) >> 58);
  delay_probe& p = delays_[bucket];
  if (p.count != 0 && p.delay_ns == delay_ns) {
    if (p.ring >= 0) return p.ring;
    if (++p.count >= ring_after_starts && rings_.size() < rings_max) {
      // The anchor's slot is taken once and never freed, so no timer_id can name it.
      const std::uint32_t anchor = take_slot();
      slots_[anchor].anchor_of = static_cast<std::uint16_t>(rings_.size() + 1);
      rings_.push_back(ring_state{timer_ring(delay_ns), anchor, false});
      p.ring = static_cast<std::int32_t>(rings_.size() - 1);
      return p.ring;
    }
    return -1;
  }
  if (p.ring >= 0) return -1;  // the bucket belongs to another delay's ring
  if (p.count == 0) {
    p.delay_ns = delay_ns;
    p.count = 1;
  } else {
    --p.count;
  }
  return -1;
}

timer_id event_loop::start_timer(duration delay, timer_target& target, std::uint32_t cookie) {
  const std::int64_t delay_ns = std::max<std::int64_t>(0, delay.count());
  const int r = ring_for(delay_ns);  // first: a new ring takes a slot, which may move slots_
  const std::uint32_t index = take_slot();
  slot& s = slots_[index];
  s.target = &target;
  s.cookie = cookie;
  s.live = true;
  ++live_;
  const std::int64_t due = now_.time_since_epoch().count() + delay_ns;
  const std::uint64_t sequence = sequence_++;
  const timer_id id{(static_cast<std::uint64_t>(index) << 32) | s.generation};
  if (r < 0) {
    s.ring = 0;
    heap_.push_back(entry{due, sequence, index});
    sift_up(heap_.size() - 1);
    return id;
  }
  s.ring = static_cast<std::uint16_t>(r + 1);
  const std::uint32_t generation = s.generation;
  ring_state& g = rings_[static_cast<std::size_t>(r)];
  g.timers.push_back(ring_entry{due, sequence, index, generation},
                     [this](const ring_entry& e) { return is_live(e); });
  if (!g.anchored) {
    g.anchored = true;
    heap_.push_back(entry{due, sequence, g.anchor_slot});
    sift_up(heap_.size() - 1);
  }
  return id;
}

void event_loop::release(std::uint32_t index) noexcept {
  slot& s = slots_[index];
  s.live = false;
  s.target = nullptr;
  s.ring = 0;
  ++s.generation;
  if (s.generation == 0) s.generation = 1;  // 0 never names a live timer
  s.next_free = free_head_;
  free_head_ = index + 1;
  --live_;
}

void event_loop::cancel_timer(timer_id id) noexcept {
  if (!id) return;
  const auto index = static_cast<std::uint32_t>(id.value >> 32);
  const auto generation = static_cast<std::uint32_t>(id.value & 0xffffffffU);
  if (index >= slots_.size()) return;
  slot& s = slots_[index];
  if (!s.live || s.generation != generation) return;
  // A ring timer stays in its ring, dead by its generation, until it reaches the front or a compaction.
  if (s.ring == 0) remove_at(s.heap_index);
  release(index);
}

bool event_loop::settle_top() {
  while (!heap_.empty()) {
    const entry& top = heap_.front();
    const slot& s = slots_[top.slot];
    if (s.anchor_of == 0) return true;
    ring_state& g = rings_[s.anchor_of - 1U];
    while (!g.timers.empty() && !is_live(g.timers.front())) g.timers.pop_front();
    if (g.timers.empty()) {
      g.anchored = false;
      remove_at(0);
      continue;
    }
    const ring_entry& front = g.timers.front();
    if (front.due_ns == top.due_ns && front.sequence == top.sequence) return true;
    // The anchor was keyed at a front since cancelled; the live front is later: move the anchor down.
    heap_.front() = entry{front.due_ns, front.sequence, top.slot};
    sift_down(0);
  }
  return false;
}

time_point event_loop::next_due() {
  if (!settle_top()) return time_never;
  return time_point{duration{heap_.front().due_ns}};
}

bool event_loop::step() {
  if (!settle_top()) return false;
  const entry top = heap_.front();
  std::uint32_t fired_slot = top.slot;
  const std::uint16_t anchor_of = slots_[top.slot].anchor_of;
  if (anchor_of == 0) {
    remove_at(0);
  } else {
    ring_state& g = rings_[anchor_of - 1U];
    fired_slot = g.timers.front().slot;
    g.timers.pop_front();
    if (g.timers.empty()) {
      g.anchored = false;
      remove_at(0);
    } else {
      // Keyed at the next entry even if it is dead: a key at or before the live front is all the heap
      // needs, and settle_top() moves it on when it comes up.
      const ring_entry& next = g.timers.front();
      heap_.front() = entry{next.due_ns, next.sequence, top.slot};
      sift_down(0);
    }
  }
  slot& s = slots_[fired_slot];
  timer_target* target = s.target;
  const std::uint32_t cookie = s.cookie;
  release(fired_slot);
  now_ = time_point{duration{top.due_ns}};
  ++fired_;
  target->on_timer(cookie);
  return true;
}

void event_loop::run_until(time_point until) {
  while (next_due() <= until) step();
  if (until > now_) now_ = until;
}

}  // namespace squall::sim
