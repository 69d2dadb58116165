#pragma once
// A retry budget: a limit, shared by every call through one policy instance, on how many extra attempts
// (retries, or hedges) the instance may send. Bounded attempts per call do not stop a retry storm: when
// the provider fails most requests, every call still multiplies its load by attempts_max. A budget makes
// the extra load a small fraction of the first-attempt load, whatever the failure rate.
//
// Two kinds:
//  - "token_bucket" (gRPC retry throttling, gRFC A6): the bucket starts full at tokens_max; each failed
//    attempt of a retried class costs 1 token, each successful attempt gives back token_ratio (never above
//    tokens_max, never below 0). Extra attempts are allowed only while tokens > tokens_max / 2.
//  - "percent" (Finagle's RetryBudget, the SRE book's 10% per-client retry budget): over a sliding window
//    of window_s seconds, an extra attempt is allowed if, counting it, the extra attempts stay within
//    percent% of the calls started plus retries_min_per_s * window_s (a floor for quiet periods).
//
//   "budget": { "kind": "token_bucket", "tokens_max": 100, "token_ratio": 0.1 }
//   "budget": { "kind": "percent", "percent": 10, "window_s": 10, "retries_min_per_s": 1 }

#include <array>
#include <cstdint>
#include <string_view>

#include "policies/core/json_reader.hpp"
#include "policies/core/time.hpp"

namespace squall {

enum class retry_budget_kind : std::uint8_t { none, token_bucket, percent };

struct retry_budget_options {
  // "token_bucket" or "percent"; required inside a "budget" object. Without a "budget" object the kind is
  // none: extra attempts are limited only per call. The default is no budget.
  retry_budget_kind kind = retry_budget_kind::none;

  // token_bucket: the bucket's size, and the tokens it starts with. From 1 to 1000. The default is 100.
  double tokens_max = 100.0;

  // token_bucket: tokens given back by each successful attempt. From 0.001 to 1000. The default is 0.1.
  double token_ratio = 0.1;

  // percent: extra attempts allowed per 100 calls started in the window. From 0 to 1000. The default is 10.
  double percent = 10.0;

  // percent: the sliding window, in seconds. From 1 to 60. The default is 10 s.
  std::uint32_t window_s = 10;

  // percent: extra attempts per second always allowed, so that a quiet client may still retry. From 0 to
  // 10000. The default is 1 per second.
  double retries_min_per_s = 1.0;
};

// Reads the optional object at `key` ("budget") of `reader` into `options`. Mistakes name the JSON path
// ("$.policies[0].budget.tokens_max"); keys of the other kind are unknown keys.
void read_retry_budget_options(json_reader& reader, std::string_view key, retry_budget_options& options);

// The budget's state, one per policy instance (not per call). Every member is O(1) and allocation-free.
class retry_budget {
 public:
  explicit retry_budget(const retry_budget_options& options) noexcept;

  bool enabled() const noexcept { return options_.kind != retry_budget_kind::none; }

  // A call started (percent: counts towards the allowance).
  void on_call(time_point now) noexcept;
  // An attempt answered ok (token_bucket: gives back token_ratio).
  void on_attempt_ok() noexcept;
  // An attempt failed with a class the policy retries (token_bucket: costs one token).
  void on_attempt_failed() noexcept;
  // Asks for one extra attempt. When allowed, the attempt is counted against the budget (percent) and
  // true is returned. Always true without a budget.
  bool try_acquire(time_point now) noexcept;

  double tokens() const noexcept { return tokens_; }

 private:
  // The percent window is cut into slices so that old counts fall out without a per-call history.
  static constexpr std::size_t slice_count = 10;
  struct slice {
    std::int64_t index = -1;  // which slice of time these counts belong to; -1 = never used
    std::uint64_t calls = 0;
    std::uint64_t extra = 0;
  };
  slice& current(time_point now) noexcept;

  retry_budget_options options_;
  double tokens_;
  std::int64_t slice_ns_;
  std::array<slice, slice_count> slices_{};
};

}  // namespace squall
