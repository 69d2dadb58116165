#include "policies/degrade/last_good_cache.hpp"

namespace squall {

void last_good_cache::unlink(std::uint32_t i) noexcept {
  node& n = nodes_[i];
  if (n.newer != none) {
    nodes_[n.newer].older = n.older;
  } else {
    head_ = n.older;
  }
  if (n.older != none) {
    nodes_[n.older].newer = n.newer;
  } else {
    tail_ = n.newer;
  }
  n.newer = none;
  n.older = none;
}

void last_good_cache::push_front(std::uint32_t i) noexcept {
  node& n = nodes_[i];
  n.newer = none;
  n.older = head_;
  if (head_ != none) nodes_[head_].newer = i;
  head_ = i;
  if (tail_ == none) tail_ = i;
}

void last_good_cache::remember(std::uint64_t key, const outcome& answer) {
  const last_good_answer value{answer.input_tokens, answer.output_tokens, answer.provider, answer.model,
                                     answer.answer};
  if (auto it = index_.find(key); it != index_.end()) {
    nodes_[it->second].value = value;
    unlink(it->second);
    push_front(it->second);
    return;
  }
  std::uint32_t i = 0;
  if (nodes_.size() < entries_max_) {
    i = static_cast<std::uint32_t>(nodes_.size());
    nodes_.push_back(node{key, value, none, none});
    index_.emplace(key, i);
  } else {
    // Full: the least recently used key gives up its node and its hash-map node.
    i = tail_;
    unlink(i);
    auto handle = index_.extract(nodes_[i].key);
    handle.key() = key;
    index_.insert(std::move(handle));
    nodes_[i].key = key;
    nodes_[i].value = value;
  }
  push_front(i);
}

const last_good_answer* last_good_cache::find(std::uint64_t key) {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  unlink(it->second);
  push_front(it->second);
  return &nodes_[it->second].value;
}

}  // namespace squall
