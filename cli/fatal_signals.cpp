#include "cli/fatal_signals.hpp"

#include <signal.h>

#include <array>
#include <cstdlib>
#include <exception>

#include "sut/process_registry.hpp"

namespace squall::cli {
namespace {

constexpr std::array<int, 5> fatal_signals = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
std::array<struct sigaction, fatal_signals.size()> previous{};
std::terminate_handler previous_terminate = nullptr;

extern "C" void on_fatal_signal(int sig, siginfo_t* info, void* context) {
  sut::kill_all_service_groups();  // async-signal-safe
  for (std::size_t i = 0; i < fatal_signals.size(); ++i) {
    if (fatal_signals[i] != sig) continue;
    const struct sigaction& before = previous[i];
    if ((before.sa_flags & SA_SIGINFO) != 0 && before.sa_sigaction != nullptr) {
      before.sa_sigaction(sig, info, context);
      return;
    }
    if (before.sa_handler != SIG_DFL && before.sa_handler != SIG_IGN && before.sa_handler != nullptr) {
      before.sa_handler(sig);
      return;
    }
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void on_terminate() {
  sut::kill_all_service_groups();
  if (previous_terminate) previous_terminate();
  std::abort();
}

}  // namespace

void install_fatal_signal_handlers() noexcept {
  for (std::size_t i = 0; i < fatal_signals.size(); ++i) {
    struct sigaction action {};
    action.sa_sigaction = on_fatal_signal;
    // glibc defines SA_RESETHAND as an unsigned 0x80000000; sa_flags is an int.
    action.sa_flags = static_cast<int>(static_cast<unsigned>(SA_SIGINFO) | SA_RESETHAND | SA_NODEFER);
    sigemptyset(&action.sa_mask);
    sigaction(fatal_signals[i], &action, &previous[i]);
  }
  previous_terminate = std::set_terminate(on_terminate);
}

}  // namespace squall::cli
