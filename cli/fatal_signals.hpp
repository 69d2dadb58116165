#pragma once
// When squall itself dies (a crash signal, an exception nobody caught), no destructor stops the services
// under test it started: these handlers SIGKILL their process groups first (sut/process_registry.hpp),
// so that no service outlives squall. A handler that was installed before (AddressSanitizer's report
// of a SEGV, for one) still runs afterwards; then the signal ends squall as it would have.

namespace squall::cli {

// Installs the handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT, and a terminate handler. Once,
// early in main.
void install_fatal_signal_handlers() noexcept;

}  // namespace squall::cli
