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

timer_id event_loop::start_timer(duration delay, timer_target& target, std::uint32_t cookie) {
  std::uint32_t index = 0;
  if (free_head_ != 0) {
    index = free_head_ - 1;
    free_head_ = slots_[index].next_free;
  } else {
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slot& s = slots_[index];
  s.target = &target;
  s.cookie = cookie;
  s.live = true;
  ++live_;
  const std::int64_t due = now_.time_since_epoch().count() + std::max<std::int64_t>(0, delay.count());
  heap_.push_back(entry{due, sequence_++, index});
  sift_up(heap_.size() - 1);
  return timer_id{(static_cast<std::uint64_t>(index) << 32) | s.generation};
}

void event_loop::release(std::uint32_t index) noexcept {
  slot& s = slots_[index];
  s.live = false;
  s.target = nullptr;
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
  remove_at(s.heap_index);
  release(index);
}

time_point event_loop::next_due() {
  if (heap_.empty()) return time_never;
  return time_point{duration{heap_.front().due_ns}};
}

bool event_loop::step() {
  if (heap_.empty()) return false;
  const entry top = heap_.front();
  remove_at(0);
  slot& s = slots_[top.slot];
  timer_target* target = s.target;
  const std::uint32_t cookie = s.cookie;
  release(top.slot);
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
