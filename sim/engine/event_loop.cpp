#include "sim/engine/event_loop.hpp"

#include <algorithm>

namespace squall::sim {
namespace {

// Min-heap order on (due, sequence): std::push_heap builds a max-heap, so "less" means "later".
struct later {
  template <class E>
  bool operator()(const E& a, const E& b) const noexcept {
    return a.due_ns != b.due_ns ? a.due_ns > b.due_ns : a.sequence > b.sequence;
  }
};

}  // namespace

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
  heap_.push_back(entry{due, sequence_++, index, s.generation});
  std::push_heap(heap_.begin(), heap_.end(), later{});
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
  release(index);
}

void event_loop::drop_stale_top() {
  while (!heap_.empty()) {
    const entry& top = heap_.front();
    const slot& s = slots_[top.slot];
    if (s.live && s.generation == top.generation) return;
    std::pop_heap(heap_.begin(), heap_.end(), later{});
    heap_.pop_back();
  }
}

time_point event_loop::next_due() {
  drop_stale_top();
  if (heap_.empty()) return time_never;
  return time_point{duration{heap_.front().due_ns}};
}

bool event_loop::step() {
  drop_stale_top();
  if (heap_.empty()) return false;
  const entry top = heap_.front();
  std::pop_heap(heap_.begin(), heap_.end(), later{});
  heap_.pop_back();
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
