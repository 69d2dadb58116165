#pragma once
// The process groups of every service this process has started and not yet cleaned up, so that none is
// left behind when squall itself ends abruptly. service_process registers its group when it starts the
// service and removes it once the group is empty; nothing else needs to call register/unregister.
//
// How the command line should use it (not wired here). A run under cli/run_guard takes SIGINT and
// SIGTERM synchronously and unwinds: the service_process destructors then stop each service gracefully
// (signal, grace period, SIGKILL) and nothing more is needed. kill_all_service_groups() is for the paths
// where no destructor will run:
//   - a handler (sigaction) for the fatal signals squall does not take itself (SIGSEGV, SIGBUS, SIGFPE,
//     SIGILL, SIGABRT, and SIGHUP when no guard is active), which calls it, restores SIG_DFL and raises
//     the signal again:
//       extern "C" void on_fatal(int sig) {
//         squall::sut::kill_all_service_groups();
//         ::signal(sig, SIG_DFL);
//         ::raise(sig);
//       }
//   - std::set_terminate (an exception nobody caught) and std::atexit (std::exit past the run's scope);
//   - the guard's watcher on a second SIGINT, if the user's impatience should win over a graceful stop.
// The services are SIGKILLed, without a grace period: when squall is going, nothing would wait for them.
//
// Limits: a signal arriving while posix_spawn runs, before the new group is registered, misses that one
// group (a window of a few hundred microseconds). A service that leaves its process group on its own
// (setsid, or a double fork into a daemon) is out of reach of kill(-pgid) and is not tracked.

#include <sys/types.h>

#include <cstddef>

namespace squall::sut {

// How many services may be alive at once in one squall process; a start beyond it fails with
// service_error_kind::too_many. A scenario runs one service per configuration, one after another.
inline constexpr std::size_t process_groups_max = 64;

// Remembers a live process group; false when the registry is full or pgid is not a real group (<= 1:
// kill(-1) or kill(0) would signal far more than a service).
bool register_process_group(pid_t pgid) noexcept;
// Forgets it (no-op when it is not there).
void unregister_process_group(pid_t pgid) noexcept;
// How many groups are registered now (for tests and diagnostics).
std::size_t registered_process_groups() noexcept;

// SIGKILLs every registered process group and returns how many were signalled. Async-signal-safe: it only
// loads lock-free atomics and calls kill(2); no allocation, no lock, errno preserved. The groups stay
// registered: the owning service_process still reaps its service and unregisters it when it stops.
int kill_all_service_groups() noexcept;

}  // namespace squall::sut
