#pragma once
// Client-side adaptive throttling, as in the Google SRE book ("Handling Overload"). Over a sliding
// window of window_s seconds the policy counts `requests` (every call it saw, locally refused ones
// included) and `accepts` (answers whose class is not in reject_on). Each new call is refused locally,
// with `rejected` and without calling the next stage, with probability
//
//     max(0, (requests - k * accepts) / (requests + 1))
//
// so that once the provider refuses most work the client stops sending most of it, while still letting
// enough through to notice recovery. Draws come from the policy's own random stream.
//
// One handler serves all calls of a pipeline: its window is shared. A request is counted in the second
// it starts, an accept in the second its answer arrives. A call cancelled by its caller says nothing
// about the provider: its request is taken back (if its second is still in the window).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policies/adaptive_throttle/adaptive_throttle_options.hpp"
#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/rng.hpp"
#include "policies/core/runtime.hpp"
#include "policies/pipeline/policy_spec.hpp"

namespace squall {

class adaptive_throttle_handler final : public handler {
 public:
  adaptive_throttle_handler(const adaptive_throttle_options& options, std::string name, const policy_environment& env,
                            handler& next);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  // The probability the next call would be refused, from the window as of now.
  double rejection_probability();
  std::uint64_t requests() const noexcept { return requests_; }
  std::uint64_t accepts() const noexcept { return accepts_; }

 private:
  friend class throttle_call;

  struct bucket {
    std::int64_t second = -1;
    std::uint32_t requests = 0;
    std::uint32_t accepts = 0;
  };

  // Moves the window to the second of `now`, forgetting the seconds that slid out; returns that second.
  std::int64_t advance(time_point now) noexcept;
  bucket& bucket_of(std::int64_t second) noexcept {
    const auto size = static_cast<std::int64_t>(buckets_.size());
    return buckets_[static_cast<std::size_t>(((second % size) + size) % size)];
  }
  void record_accept(outcome_class kind) noexcept;
  void take_back_request(std::int64_t second) noexcept;

  const adaptive_throttle_options options_;
  const std::string name_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  rng random_;

  std::vector<bucket> buckets_;  // window_s buckets, second s at s % window_s
  std::int64_t second_ = 0;      // the latest second the window was moved to
  std::uint64_t requests_ = 0;   // totals over the buckets
  std::uint64_t accepts_ = 0;
};

class adaptive_throttle_spec final : public policy_spec {
 public:
  explicit adaptive_throttle_spec(const adaptive_throttle_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "adaptive_throttle"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  adaptive_throttle_options options;
};

policy_registration adaptive_throttle_registration();

}  // namespace squall
