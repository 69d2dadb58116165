#pragma once
// A first-in first-out wait list threaded through its elements (each has `T* prev` and `T* next`): the
// queue of calls waiting in a bulkhead or a rate limiter. Pushing and unlinking any element are O(1) and
// never allocate; a waiting call that is cancelled leaves from the middle. The list does not own its
// elements.

#include <cstdint>

namespace squall {

template <class T>
class intrusive_fifo {
 public:
  T* front() const noexcept { return head_; }
  bool empty() const noexcept { return head_ == nullptr; }
  std::uint32_t size() const noexcept { return size_; }

  void push_back(T& item) noexcept {
    item.prev = tail_;
    item.next = nullptr;
    if (tail_ != nullptr) {
      tail_->next = &item;
    } else {
      head_ = &item;
    }
    tail_ = &item;
    ++size_;
  }

  // `item` must be in this list.
  void unlink(T& item) noexcept {
    if (item.prev != nullptr) {
      item.prev->next = item.next;
    } else {
      head_ = item.next;
    }
    if (item.next != nullptr) {
      item.next->prev = item.prev;
    } else {
      tail_ = item.prev;
    }
    item.prev = item.next = nullptr;
    --size_;
  }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
  std::uint32_t size_ = 0;
};

}  // namespace squall
