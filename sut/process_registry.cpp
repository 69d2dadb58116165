#include "sut/process_registry.hpp"

#include <signal.h>

#include <array>
#include <atomic>
#include <cerrno>

namespace squall::sut {
namespace {

// A fixed array of atomics rather than a container: the signal handler may run in the middle of a
// register or unregister on another thread (or on its own thread), and must see either the old or the
// new slot, never a half-updated structure. 0 marks a free slot.
static_assert(std::atomic<pid_t>::is_always_lock_free, "kill_all_service_groups must stay signal-safe");
std::array<std::atomic<pid_t>, process_groups_max> slots{};

}  // namespace

bool register_process_group(pid_t pgid) noexcept {
  if (pgid <= 1) return false;
  for (auto& slot : slots) {
    pid_t expected = 0;
    if (slot.compare_exchange_strong(expected, pgid, std::memory_order_acq_rel)) return true;
  }
  return false;
}

void unregister_process_group(pid_t pgid) noexcept {
  if (pgid <= 1) return;
  for (auto& slot : slots) {
    pid_t expected = pgid;
    if (slot.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) return;
  }
}

std::size_t registered_process_groups() noexcept {
  std::size_t count = 0;
  for (const auto& slot : slots) count += slot.load(std::memory_order_acquire) != 0 ? 1u : 0u;
  return count;
}

int kill_all_service_groups() noexcept {
  const int saved_errno = errno;  // a handler must not change errno under the interrupted code
  int signalled = 0;
  for (const auto& slot : slots) {
    const pid_t pgid = slot.load(std::memory_order_acquire);
    if (pgid > 1 && ::kill(-pgid, SIGKILL) == 0) ++signalled;
  }
  errno = saved_errno;
  return signalled;
}

}  // namespace squall::sut
