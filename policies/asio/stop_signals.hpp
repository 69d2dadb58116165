#pragma once
// SIGINT and SIGTERM taken synchronously by the thread that runs a real-time server (`squall serve`,
// `squall record`): constructed before the server's I/O thread starts, it blocks them, so that the thread
// inherits the mask and never runs a handler; wait() then returns on either signal or after a time limit;
// the destructor restores the previous mask.

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cmath>
#include <ctime>
#include <optional>

namespace squall {

class stop_signals {
 public:
  stop_signals() noexcept {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &previous_);
  }
  ~stop_signals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  stop_signals(const stop_signals&) = delete;
  stop_signals& operator=(const stop_signals&) = delete;

  // Until SIGINT or SIGTERM arrives, or `for_s` seconds pass when given. A stray wake-up (EINTR) waits
  // again. The kernel counts the time: no clock is read here.
  void wait(std::optional<double> for_s) const noexcept {
    for (;;) {
      int got = 0;
      if (for_s) {
        timespec limit{};
        const double whole = std::floor(*for_s);
        limit.tv_sec = static_cast<time_t>(whole);
        limit.tv_nsec = static_cast<long>((*for_s - whole) * 1e9);
        got = sigtimedwait(&set_, nullptr, &limit);
        if (got < 0 && errno != EAGAIN) continue;
        return;
      }
      if (sigwait(&set_, &got) == 0) return;
    }
  }

 private:
  sigset_t set_{};
  sigset_t previous_{};
};

}  // namespace squall
