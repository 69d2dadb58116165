#pragma once
// What ends a run early: SIGINT or SIGTERM, or its wall-clock limit (--max-wall-s). The guard blocks both
// signals in the constructing thread before any other thread of the run exists (the live load generator's
// and the fake providers' threads inherit the mask), and a watcher thread takes them synchronously with
// sigtimedwait, which also counts the wall-clock limit: no handler runs, and no clock is read here. Either
// sets the stop flag that the simulation loop and the live generator look at; the run then writes what
// it finished, marked incomplete. While the guard lives, further signals are taken and ignored, so a
// second Ctrl-C cannot cut the outputs in half; the destructor restores the signal mask.

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>

namespace squall::cli {

class run_guard {
 public:
  // `wall_s_max`: stop the run after this many seconds of real time; nullopt: no limit.
  explicit run_guard(std::optional<double> wall_s_max);
  ~run_guard();
  run_guard(const run_guard&) = delete;
  run_guard& operator=(const run_guard&) = delete;

  const std::atomic<bool>& stop_flag() const noexcept { return stop_; }
  bool stopped() const noexcept { return stop_.load(std::memory_order_acquire); }
  // Why the run was stopped ("interrupted by SIGINT", "stopped at the wall-clock limit of 5 s
  // (--max-wall-s)"); empty while it was not. Read it after stopped() returned true.
  std::string reason() const;

 private:
  void watch(std::optional<double> wall_s_max);

  sigset_t set_{};
  sigset_t previous_{};
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::string reason_;  // written once by the watcher before stop_ is set (release), read after (acquire)
  std::thread watcher_;
};

}  // namespace squall::cli
