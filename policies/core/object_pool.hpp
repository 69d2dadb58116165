#pragma once
// Storage for the per-call objects of one handler (a retry's, a timeout's, a breaker's state of one call),
// reused through a free list: after the pool has grown to the most calls in flight at once, starting and
// finishing a call allocates nothing. Objects are built and destroyed as with new and delete; only their
// memory is recycled, and it is given back to the system when the pool (its handler) goes.
//
// One pool belongs to one handler, and a handler runs on one thread (the event loop's, or the client's
// I/O thread), so the pool needs no lock. Under AddressSanitizer a free object's memory is poisoned, so
// a use after destroy() is still caught.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define SQUALL_POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SQUALL_POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SQUALL_POOL_POISON(p, n) ((void)(p), (void)(n))
#define SQUALL_POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace squall {

template <class T>
class object_pool {
 public:
  object_pool() = default;
  object_pool(const object_pool&) = delete;
  object_pool& operator=(const object_pool&) = delete;

  template <class... Args>
  T* make(Args&&... args) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "chunks are aligned as operator new aligns");
    void* place = take();
    try {
      return ::new (place) T(std::forward<Args>(args)...);
    } catch (...) {
      give_back(place);
      throw;
    }
  }

  void destroy(T* object) noexcept {
    object->~T();
    give_back(object);
  }

  std::size_t in_use() const noexcept { return in_use_; }

 private:
  struct free_node {
    free_node* next;
  };
  static constexpr std::size_t stride() noexcept {
    constexpr std::size_t align = std::max(alignof(T), alignof(free_node));
    return (std::max(sizeof(T), sizeof(free_node)) + align - 1) / align * align;
  }

  void* take() {
    ++in_use_;
    if (free_ != nullptr) {
      free_node* node = free_;
      SQUALL_POOL_UNPOISON(node, stride());
      free_ = node->next;
      return node;
    }
    if (carved_ == chunk_objects_) {
      // Chunks grow from 16 objects to 4,096, so a handler with few calls costs little memory and one
      // with many allocates rarely.
      chunk_objects_ = chunks_.empty() ? 16 : std::min<std::size_t>(chunk_objects_ * 2, 4096);
      chunks_.push_back(std::make_unique<std::byte[]>(chunk_objects_ * stride()));
      carved_ = 0;
    }
    return chunks_.back().get() + stride() * carved_++;
  }

  void give_back(void* place) noexcept {
    --in_use_;
    auto* node = ::new (place) free_node{free_};
    free_ = node;
    SQUALL_POOL_POISON(node, stride());
  }

  std::vector<std::unique_ptr<std::byte[]>> chunks_;
  std::size_t chunk_objects_ = 0;  // objects in the newest chunk
  std::size_t carved_ = 0;         // of which handed out at least once
  free_node* free_ = nullptr;
  std::size_t in_use_ = 0;
};

}  // namespace squall

#undef SQUALL_POOL_POISON
#undef SQUALL_POOL_UNPOISON
