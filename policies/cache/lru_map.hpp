#pragma once
// A bounded map from a 64-bit key to a value, in least-recently-used order, with O(1) find, touch,
// insert and erase. Nodes live in one vector (grown up to the capacity, then reused through a free
// list) and are linked into an intrusive recency list by index, so steady-state use does not allocate
// beyond the hash index. Used by the cache and idempotency policies.
//
// The map never evicts on its own: a caller that wants room asks for oldest() and erases it, so that
// it can unhook the value from any index of its own first.

#include <cstdint>
#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace squall {

template <class Value>
class lru_map {
 public:
  using slot = std::uint32_t;
  static constexpr slot none = std::numeric_limits<slot>::max();

  // `capacity` is at least 1; at most that many entries are ever held.
  explicit lru_map(std::uint32_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  std::uint32_t size() const noexcept { return size_; }
  std::uint32_t capacity() const noexcept { return capacity_; }
  bool full() const noexcept { return size_ >= capacity_; }

  // The entry for `key`, or none. Does not change the recency order.
  slot find(std::uint64_t key) const noexcept {
    const auto it = index_.find(key);
    return it == index_.end() ? none : it->second;
  }

  Value& at(slot s) noexcept { return nodes_[s].value; }
  const Value& at(slot s) const noexcept { return nodes_[s].value; }
  std::uint64_t key_of(slot s) const noexcept { return nodes_[s].key; }

  // The least recently used entry, or none when empty.
  slot oldest() const noexcept { return tail_; }

  // Makes `s` the most recently used entry.
  void touch(slot s) noexcept {
    if (head_ == s) return;
    unlink(s);
    link_front(s);
  }

  // Adds `key` (which must be absent) as the most recently used entry. The map must not be full.
  slot insert(std::uint64_t key, Value value) {
    slot s;
    if (free_ != none) {
      s = free_;
      free_ = nodes_[s].next;
      nodes_[s].key = key;
      nodes_[s].value = std::move(value);
    } else {
      s = static_cast<slot>(nodes_.size());
      nodes_.push_back(node{key, std::move(value), none, none});
    }
    index_.emplace(key, s);
    link_front(s);
    ++size_;
    return s;
  }

  void erase(slot s) {
    index_.erase(nodes_[s].key);
    unlink(s);
    nodes_[s].value = Value{};
    nodes_[s].next = free_;
    free_ = s;
    --size_;
  }

 private:
  struct node {
    std::uint64_t key;
    Value value;
    slot prev;
    slot next;
  };

  void unlink(slot s) noexcept {
    node& n = nodes_[s];
    if (n.prev != none) nodes_[n.prev].next = n.next; else head_ = n.next;
    if (n.next != none) nodes_[n.next].prev = n.prev; else tail_ = n.prev;
    n.prev = none;
    n.next = none;
  }

  void link_front(slot s) noexcept {
    node& n = nodes_[s];
    n.prev = none;
    n.next = head_;
    if (head_ != none) nodes_[head_].prev = s;
    head_ = s;
    if (tail_ == none) tail_ = s;
  }

  std::uint32_t capacity_;
  std::uint32_t size_ = 0;
  slot head_ = none;  // most recently used
  slot tail_ = none;  // least recently used
  slot free_ = none;  // free-list head, linked through node::next
  std::vector<node> nodes_;
  std::unordered_map<std::uint64_t, slot> index_;
};

}  // namespace squall
