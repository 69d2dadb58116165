#pragma once
// Why a service could not be started (or made ready), as a value: starting a team's service fails for
// ordinary reasons (a typo in the command, a crash on boot, a port already taken) that the command line
// reports in one sentence, so nothing here throws. The message names the command and the log file and,
// once the service has run, quotes its last lines of output.

#include <string>
#include <utility>
#include <variant>

namespace squall::sut {

enum class service_error_kind {
  invalid_options,      // the options themselves are wrong (empty command, no log path, ...)
  not_found,            // the program or the working directory does not exist
  start_failed,         // the system refused to start it (permissions, exec format, no more processes)
  log_failed,           // the log file could not be created or opened
  too_many,             // more services at once than the registry holds (process_groups_max)
  exited_before_ready,  // the service ended (status or signal) before it was ready
  not_ready,            // it ran but was not ready within the timeout; it was stopped
};

struct service_error {
  service_error_kind kind = service_error_kind::start_failed;
  std::string message;  // a sentence for the user, naming the command and the log file

  const std::string& describe() const noexcept { return message; }
};

// A value or the reason it could not be had; the shape of squall::config_result (std::expected is C++23).
template <class T>
class service_result {
 public:
  service_result(T value) : state_(std::move(value)) {}              // NOLINT: implicit by design
  service_result(service_error error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const T& value() const& { return std::get<0>(state_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &std::get<0>(state_); }
  const T* operator->() const { return &std::get<0>(state_); }
  const service_error& error() const& { return std::get<1>(state_); }
  service_error&& error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, service_error> state_;
};

}  // namespace squall::sut
