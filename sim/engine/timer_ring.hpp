#pragma once
// A FIFO of timers that were all started with the same delay. The clock never goes back, so such timers
// fall due in the order they were started: appending keeps the ring sorted by (due time, sequence), the
// event loop's firing order, with no sifting. Cancelling is the event loop's business (it bumps the
// slot's generation); an entry whose generation no longer matches its slot is dead and is skipped when it
// reaches the front, or dropped when the ring compacts.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace squall::sim {

struct ring_entry {
  std::int64_t due_ns;
  std::uint64_t sequence;
  std::uint32_t slot;
  std::uint32_t generation;  // the slot's generation when the timer started
};

class timer_ring {
 public:
  explicit timer_ring(std::int64_t delay_ns) : delay_ns_(delay_ns), entries_(initial_capacity) {}

  std::int64_t delay_ns() const noexcept { return delay_ns_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return entries_.size(); }
  const ring_entry& front() const noexcept { return entries_[head_]; }

  void pop_front() noexcept {
    head_ = (head_ + 1) & (entries_.size() - 1);
    --size_;
  }

  // Appends; when the ring is full, first drops the dead entries if at least half are dead (so memory
  // stays within about twice the live timers, and each entry is copied O(1) times on average), else
  // doubles. `is_live(entry)` tells the living.
  template <class IsLive>
  void push_back(const ring_entry& e, IsLive&& is_live) {
    if (size_ == entries_.size()) {
      std::size_t live = 0;
      for (std::size_t i = 0; i < size_; ++i) live += is_live(at(i)) ? 1U : 0U;
      rebuild(live * 2 <= size_ ? entries_.size() : entries_.size() * 2, is_live, live * 2 <= size_);
    }
    entries_[(head_ + size_) & (entries_.size() - 1)] = e;
    ++size_;
  }

 private:
  static constexpr std::size_t initial_capacity = 64;  // a power of two, as every capacity

  const ring_entry& at(std::size_t i) const noexcept { return entries_[(head_ + i) & (entries_.size() - 1)]; }

  template <class IsLive>
  void rebuild(std::size_t capacity, IsLive& is_live, bool drop_dead) {
    std::vector<ring_entry> next(capacity);
    std::size_t n = 0;
    for (std::size_t i = 0; i < size_; ++i) {
      const ring_entry& e = at(i);
      if (!drop_dead || is_live(e)) next[n++] = e;
    }
    entries_.swap(next);
    head_ = 0;
    size_ = n;
  }

  std::int64_t delay_ns_;
  std::vector<ring_entry> entries_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace squall::sim
