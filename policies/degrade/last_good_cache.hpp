#pragma once
// The degrade policy's memory of good answers: for each cache key, what its last ok answer looked like.
// A least-recently-used map bounded by entries_max. Nodes live in one vector that grows to entries_max;
// once full, remembering a new key reuses the least recently used node and its hash-map node (extracted
// and re-keyed), so a full cache does not allocate.

#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policies/core/outcome.hpp"

namespace squall {

// What a degraded answer copies from the remembered one. Names point at the provider configuration,
// which outlives the run.
struct last_good_answer {
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;
  std::string_view provider;
  std::string_view model;
  answer_ptr answer;  // the provider's answer, when the call carried a payload: served byte-identical
};

class last_good_cache {
 public:
  explicit last_good_cache(std::uint32_t entries_max) : entries_max_(entries_max == 0 ? 1 : entries_max) {}

  // Remembers `answer` as the last good one for `key`, making it the most recently used.
  void remember(std::uint64_t key, const outcome& answer);
  // The last good answer for `key`, made the most recently used, or nullptr.
  const last_good_answer* find(std::uint64_t key);

  std::size_t size() const noexcept { return nodes_.size(); }

 private:
  static constexpr std::uint32_t none = UINT32_MAX;
  struct node {
    std::uint64_t key = 0;
    last_good_answer value;
    std::uint32_t newer = none;  // towards head_ (most recent)
    std::uint32_t older = none;  // towards tail_ (least recent)
  };

  void unlink(std::uint32_t i) noexcept;
  void push_front(std::uint32_t i) noexcept;

  std::uint32_t entries_max_;
  std::vector<node> nodes_;
  std::unordered_map<std::uint64_t, std::uint32_t> index_;
  std::uint32_t head_ = none;
  std::uint32_t tail_ = none;
};

}  // namespace squall
