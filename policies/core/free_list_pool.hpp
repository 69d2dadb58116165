#pragma once
// Objects reused through a free list, for the per-attempt records of the layers that relay calls (the
// simulated provider, the simulation's transport, the trace writer): addresses stay put (a deque never
// moves what it holds), the pool grows to the most in use at once and never shrinks, and taking or
// giving back an object allocates nothing once it has grown. `T` is default-constructible with a
// `T* next_free` member, which is the pool's while the object is free.

#include <cstddef>
#include <deque>

namespace squall {

template <class T>
class free_list_pool {
 public:
  // A free object, as it was given back, or a new default-constructed one.
  T& take() {
    ++in_use_;
    if (T* item = free_) {
      free_ = item->next_free;
      item->next_free = nullptr;
      return *item;
    }
    return items_.emplace_back();
  }
  // The caller has reset what must not outlive the use.
  void give_back(T& item) noexcept {
    item.next_free = free_;
    free_ = &item;
    --in_use_;
  }

  std::size_t in_use() const noexcept { return in_use_; }
  // Every object, free or in use (a destructor's clean-up tells them apart).
  std::deque<T>& all() noexcept { return items_; }

 private:
  std::deque<T> items_;
  T* free_ = nullptr;
  std::size_t in_use_ = 0;
};

}  // namespace squall
