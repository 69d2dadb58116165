#include "policies/asio/asio_runtime.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <boost/asio/error.hpp>

namespace squall {
namespace {

// Longer delays are clamped so that now + delay stays representable (about 100 years is "never").
constexpr duration delay_max = std::chrono::hours(24 * 365 * 100);

}  // namespace

asio_runtime::asio_runtime(boost::asio::io_context& io)
    : io_(io), origin_(std::chrono::steady_clock::now()), wake_(io) {}

asio_runtime::~asio_runtime() {
  alive_.reset();
  wake_.cancel();
}

time_point asio_runtime::now() const noexcept {
  return time_point{std::chrono::duration_cast<duration>(std::chrono::steady_clock::now() - origin_)};
}

std::int64_t asio_runtime::unix_now_s() const noexcept {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::chrono::steady_clock::time_point asio_runtime::to_steady(time_point t) const noexcept {
  using steady = std::chrono::steady_clock;
  const auto since = std::chrono::duration_cast<steady::duration>(t.time_since_epoch());
  if (since > steady::time_point::max() - origin_) return steady::time_point::max();
  return origin_ + since;
}

timer_id asio_runtime::start_timer(duration delay, timer_target& target, std::uint32_t cookie) {
  delay = std::clamp(delay, duration::zero(), delay_max);
  std::uint32_t index;
  if (free_head_ != 0) {
    index = free_head_ - 1;
    free_head_ = slots_[index].next_free;
  } else {
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slot& s = slots_[index];
  s.target = &target;
  s.cookie = cookie;
  s.next_free = 0;
  ++live_;
  heap_.push_back(entry{now() + delay, ++sequence_, index, s.generation});
  std::push_heap(heap_.begin(), heap_.end(), later{});
  // Never fire from here: even a zero delay is served by the io_context, after this call returns.
  if (!firing_) arm();
  return timer_id{(static_cast<std::uint64_t>(s.generation) << 32) | (static_cast<std::uint64_t>(index) + 1)};
}

void asio_runtime::cancel_timer(timer_id id) noexcept {
  if (!id) return;
  const std::uint64_t low = id.value & 0xffffffffULL;
  if (low == 0 || low > slots_.size()) return;
  const auto index = static_cast<std::uint32_t>(low - 1);
  const auto generation = static_cast<std::uint32_t>(id.value >> 32);
  slot& s = slots_[index];
  if (s.generation != generation || s.target == nullptr) return;  // fired, cancelled or reused
  free_slot(index);
  --live_;
  if (live_ == 0) {
    // Nothing left to wait for: a wake armed for a cancelled timer must not keep io_context::run() busy.
    heap_.clear();
    if (armed_) wake_.cancel();
    armed_ = false;
    return;
  }
  // Cancelled entries stay in the heap until they reach the top; rebuild when they dominate it, so that
  // many long timeouts cancelled early cannot grow the heap without bound.
  const std::size_t stale = heap_.size() - live_;
  if (stale > 1024 && stale > 2 * live_) compact();
}

void asio_runtime::free_slot(std::uint32_t index) noexcept {
  slot& s = slots_[index];
  s.target = nullptr;
  ++s.generation;
  if (s.generation == 0) s.generation = 1;  // 0 would make an id that names no timer
  s.next_free = free_head_;
  free_head_ = index + 1;
}

void asio_runtime::compact() {
  std::erase_if(heap_, [this](const entry& e) {
    const slot& s = slots_[e.slot];
    return s.generation != e.generation || s.target == nullptr;
  });
  std::make_heap(heap_.begin(), heap_.end(), later{});
}

void asio_runtime::arm() {
  while (!heap_.empty()) {
    const entry& top = heap_.front();
    const slot& s = slots_[top.slot];
    if (s.generation == top.generation && s.target != nullptr) break;
    std::pop_heap(heap_.begin(), heap_.end(), later{});
    heap_.pop_back();
  }
  if (heap_.empty()) {
    if (armed_) wake_.cancel();
    armed_ = false;
    return;
  }
  const time_point due = heap_.front().due;
  if (due <= now()) {
    if (!posted_) {
      posted_ = true;
      boost::asio::post(io_, [this, alive = std::weak_ptr<char>(alive_)] {
        if (alive.expired()) return;
        on_posted_wake();
      });
    }
    return;
  }
  // A wake armed for an earlier time stays: when it fires, it fires what is due and re-arms for the rest.
  if (armed_ && armed_for_ <= due) return;
  armed_ = true;
  armed_for_ = due;
  const std::uint64_t arming = ++arm_sequence_;
  // expires_at cancels the previous wait; its handler sees operation_aborted, or, when it had already
  // completed, a stale arming number, and does nothing.
  wake_.expires_at(to_steady(due));
  wake_.async_wait([this, arming, alive = std::weak_ptr<char>(alive_)](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    if (alive.expired()) return;
    on_wake(arming);
  });
}

void asio_runtime::on_wake(std::uint64_t arming) {
  if (arming != arm_sequence_) return;
  armed_ = false;
  fire_due();
  arm();
}

void asio_runtime::on_posted_wake() {
  posted_ = false;
  fire_due();
  arm();
}

void asio_runtime::fire_due() {
  firing_ = true;
  // Timers started by the callbacks below are due after `now`, so one wake cannot loop forever.
  const time_point now_at_wake = now();
  while (!heap_.empty()) {
    const entry top = heap_.front();
    slot& s = slots_[top.slot];
    const bool stale = s.generation != top.generation || s.target == nullptr;
    if (!stale && top.due > now_at_wake) break;
    std::pop_heap(heap_.begin(), heap_.end(), later{});
    heap_.pop_back();
    if (stale) continue;
    timer_target* target = s.target;
    const std::uint32_t cookie = s.cookie;
    free_slot(top.slot);
    --live_;
    ++fired_;
    target->on_timer(cookie);
  }
  firing_ = false;
}

}  // namespace squall
