#pragma once
// The real-clock runtime: squall::runtime over a Boost.Asio io_context, for production services and for
// `squall run --mode live`. This is the one place in policies/ that reads std::chrono clocks.
//
// Time is std::chrono::steady_clock, counted from the moment the runtime was constructed (now() starts
// near zero, like the simulation's virtual clock). Timers live in one heap ordered by (due, start order),
// served by a single steady_timer armed for the earliest one: timers due at the same instant fire in the
// order they were started, as on the simulation's event loop, and a cancelled timer costs no Asio work.
//
// Threading: the runtime is not thread-safe. Every call (start_timer, cancel_timer, now) and every
// on_timer callback happens on the thread that runs the io_context; run it from one thread.
//
// Lifetime: destroying the runtime drops every pending timer without firing it. The io_context must
// outlive the runtime.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "policies/core/runtime.hpp"

namespace squall {

class asio_runtime final : public runtime {
 public:
  explicit asio_runtime(boost::asio::io_context& io);
  ~asio_runtime() override;
  asio_runtime(const asio_runtime&) = delete;
  asio_runtime& operator=(const asio_runtime&) = delete;

  time_point now() const noexcept override;
  timer_id start_timer(duration delay, timer_target& target, std::uint32_t cookie) override;
  void cancel_timer(timer_id id) noexcept override;

  // Seconds since the Unix epoch by the system clock: only for server hints written as dates (HTTP
  // Retry-After dates, Anthropic's RFC 3339 reset times). Never used to measure a duration.
  std::int64_t unix_now_s() const noexcept;

  // The steady_clock instant of a runtime time point, for Asio deadlines.
  std::chrono::steady_clock::time_point to_steady(time_point t) const noexcept;

  boost::asio::io_context& io() noexcept { return io_; }
  std::size_t pending() const noexcept { return live_; }  // started, neither fired nor cancelled
  std::uint64_t fired() const noexcept { return fired_; }

 private:
  struct entry {
    time_point due;
    std::uint64_t sequence;  // start order: the tie-breaker for equal due times
    std::uint32_t slot;
    std::uint32_t generation;
  };
  struct later {
    bool operator()(const entry& a, const entry& b) const noexcept {
      return a.due != b.due ? a.due > b.due : a.sequence > b.sequence;
    }
  };
  struct slot {
    timer_target* target = nullptr;  // null while the slot is free or its timer was cancelled
    std::uint32_t cookie = 0;
    std::uint32_t generation = 1;
    std::uint32_t next_free = 0;  // index + 1 of the next free slot; 0 = none
  };

  void arm();
  void on_wake(std::uint64_t arm_sequence);
  void on_posted_wake();
  void fire_due();
  void free_slot(std::uint32_t index) noexcept;
  void compact();

  boost::asio::io_context& io_;
  std::chrono::steady_clock::time_point origin_;
  boost::asio::steady_timer wake_;
  std::vector<entry> heap_;
  std::vector<slot> slots_;
  std::uint32_t free_head_ = 0;
  std::size_t live_ = 0;
  std::uint64_t sequence_ = 0;
  std::uint64_t fired_ = 0;
  // The wake timer: the due time it is armed for, and which arming is current (a re-arm supersedes).
  bool armed_ = false;
  // A wake posted to the io_context for timers already due: a zero delay (every deferred answer) is a
  // queue push instead of a timerfd re-arm, which is a system call and dominated live runs' CPU.
  bool posted_ = false;
  time_point armed_for_{};
  std::uint64_t arm_sequence_ = 0;
  bool firing_ = false;
  // Handlers still queued in the io_context after the runtime is gone must not touch it.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace squall
