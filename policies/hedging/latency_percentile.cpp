#include "policies/hedging/latency_percentile.hpp"

#include <algorithm>
#include <cmath>

namespace squall {

latency_percentile::latency_percentile(std::uint32_t window, std::uint32_t samples_min, double percentile)
    : window_(window),
      samples_min_(samples_min),
      percentile_(percentile),
      refresh_every_(std::max<std::uint32_t>(1, window / 20)) {}

void latency_percentile::record(duration latency) {
  if (samples_.size() < window_) {
    samples_.push_back(latency.count());
  } else {
    samples_[next_] = latency.count();
    next_ = (next_ + 1) % window_;
  }
  ++since_refresh_;
}

std::optional<duration> latency_percentile::estimate() {
  if (samples_.size() < samples_min_) return std::nullopt;
  if (!cached_ || since_refresh_ >= refresh_every_) {
    scratch_.assign(samples_.begin(), samples_.end());
    const double n = static_cast<double>(scratch_.size());
    const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(percentile_ * n - 1e-9)));
    const auto nth = scratch_.begin() + static_cast<std::ptrdiff_t>(std::min(rank, scratch_.size()) - 1);
    std::nth_element(scratch_.begin(), nth, scratch_.end());
    cached_ = duration{*nth};
    since_refresh_ = 0;
  }
  return cached_;
}

}  // namespace squall
