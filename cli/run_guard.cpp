#include "cli/run_guard.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace squall::cli {

run_guard::run_guard(std::optional<double> wall_s_max) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, &previous_);
  watcher_ = std::thread([this, wall_s_max] { watch(wall_s_max); });
}

run_guard::~run_guard() {
  finished_.store(true);
  // Wakes the watcher's sigwait; it sees finished_ and returns without stopping anything.
  pthread_kill(watcher_.native_handle(), SIGTERM);
  watcher_.join();
  // A signal that came while the outputs were written is pending still: take it, so that restoring the
  // mask does not kill the process after the run has chosen its exit code.
  const timespec now{};
  while (sigtimedwait(&set_, nullptr, &now) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

std::string run_guard::reason() const {
  if (!stop_.load(std::memory_order_acquire)) return {};
  return reason_;
}

void run_guard::watch(std::optional<double> wall_s_max) {
  bool limit_pending = wall_s_max.has_value();
  // The kernel counts the limit; a wake-up by another signal (EINTR) restarts the wait with what is
  // left, approximately: a few such wake-ups cannot stretch the limit by much.
  timespec left{};
  if (wall_s_max) {
    const double whole = std::floor(*wall_s_max);
    left.tv_sec = static_cast<time_t>(whole);
    left.tv_nsec = static_cast<long>((*wall_s_max - whole) * 1e9);
  }
  for (;;) {
    int got = 0;
    if (limit_pending) {
      got = sigtimedwait(&set_, nullptr, &left);
      if (got < 0 && errno == EINTR) continue;
    } else if (sigwait(&set_, &got) != 0) {
      continue;
    }
    if (finished_.load()) return;
    if (stop_.load(std::memory_order_relaxed)) {  // a second signal (or the limit after one): already stopping
      limit_pending = false;
      continue;
    }
    if (got < 0) {  // EAGAIN: the limit passed
      limit_pending = false;
      char text[128];
      std::snprintf(text, sizeof text, "stopped at the wall-clock limit of %g s (--max-wall-s)", *wall_s_max);
      reason_ = text;
    } else {
      reason_ = got == SIGINT ? "interrupted by SIGINT" : "interrupted by SIGTERM";
    }
    stop_.store(true, std::memory_order_release);
  }
}

}  // namespace squall::cli
