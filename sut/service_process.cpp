#include "sut/service_process.hpp"

#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <cerrno>
#include <filesystem>
#include <mutex>
#include <utility>

#include "sut/http_probe.hpp"
#include "sut/output_capture.hpp"
#include "sut/process_registry.hpp"
#include "sut/real_time.hpp"
#include "sut/spawn.hpp"

namespace squall::sut {
namespace {

// How often stop() looks whether the service has ended during the grace period.
constexpr std::uint64_t stop_check_ms = 10;
// After SIGKILL the group's processes end at once; this bounds the wait for them to be reaped (and for
// a grandchild's re-parenting to squall), for a process stuck in the kernel (uninterruptible I/O).
constexpr std::uint64_t group_reap_bound_ms = 5'000;
// How long stop() lets the output reader take what is still in the pipe once the group is gone; a
// process that left the group (setsid) may hold the pipe open for ever.
constexpr std::uint64_t output_drain_ms = 2'000;
constexpr std::size_t quoted_lines = 5;

service_error invalid(std::string message) {
  return {service_error_kind::invalid_options, "service options: " + std::move(message)};
}

bool valid_env_name(const std::string& name) { return !name.empty() && name.find('=') == std::string::npos; }

std::optional<service_error> validate(const service_options& options) {
  if (options.argv.empty() || options.argv[0].empty())
    return invalid("argv is empty: name the program to start");
  if (options.log_path.empty()) return invalid("log_path is empty: say where the service's output goes");
  for (const auto& [name, value] : options.env_set) {
    if (!valid_env_name(name)) return invalid("env_set has an invalid variable name `" + name + "`");
  }
  for (const auto& name : options.env_unset) {
    if (!valid_env_name(name)) return invalid("env_unset has an invalid variable name `" + name + "`");
  }
  if (const auto* http = std::get_if<http_ready>(&options.ready)) {
    if (http->port == 0) return invalid("http readiness needs the port the service listens on (got 0)");
    if (http->path.empty() || http->path[0] != '/') {
      return invalid("http readiness path must start with '/' (got \"" + http->path + "\")");
    }
  }
  if (const auto* output = std::get_if<output_ready>(&options.ready)) {
    if (output->text.empty()) return invalid("output readiness needs the text to wait for (got \"\")");
  }
  if (options.ready_poll_ms == 0) return invalid("ready_poll_ms must be at least 1");
  if (options.ready_probe_timeout_ms == 0) return invalid("ready_probe_timeout_ms must be at least 1");
  if (options.stop_signal <= 0 || options.stop_signal >= NSIG) {
    return invalid("stop_signal " + std::to_string(options.stop_signal) + " is not a signal");
  }
  return std::nullopt;
}

// Lets the service's orphaned children come to squall to be reaped (see the header). Once per process:
// the setting is the process's, and harmless to repeat, but there is no reason to.
void become_subreaper() {
#ifdef __linux__
  static std::once_flag once;
  std::call_once(once, [] { ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); });
#endif
}

// How the service ended, from its wait status; `stop_signal` is 0 unless squall's stop had signalled it.
service_end end_from_status(int status, int stop_signal, std::uint64_t grace_ms) {
  service_end end;
  if (WIFEXITED(status)) end.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) end.signal = WTERMSIG(status);
  if (stop_signal != 0) {
    end.kind = service_end_kind::stopped;
    end.stop_signal = stop_signal;
    end.grace_ms = grace_ms;
  } else {
    end.kind = WIFEXITED(status) ? service_end_kind::exited : service_end_kind::signaled;
  }
  return end;
}

// "exited with status 1", "was ended by SIGSEGV": how a service ended on its own, inside a sentence.
std::string ended_phrase(const service_end& end) {
  if (end.kind == service_end_kind::exited) return "exited with status " + std::to_string(end.exit_status);
  if (end.kind == service_end_kind::signaled) return "was ended by " + signal_name(end.signal);
  return "ended (how is unknown: its status was collected elsewhere)";
}

}  // namespace

std::string signal_name(int signal) {
  static constexpr std::pair<int, const char*> names[] = {
      {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
      {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
      {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
      {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGXCPU, "SIGXCPU"},
      {SIGXFSZ, "SIGXFSZ"}};
  for (const auto& [number, name] : names) {
    if (number == signal) return name;
  }
  return "signal " + std::to_string(signal);
}

std::string service_end::describe() const {
  switch (kind) {
    case service_end_kind::exited:
      return "exited by itself with status " + std::to_string(exit_status);
    case service_end_kind::signaled:
      return "ended by " + signal_name(signal);
    case service_end_kind::stopped: {
      std::string text = "stopped by " + signal_name(stop_signal);
      if (exit_status >= 0) text += " (it exited with status " + std::to_string(exit_status) + ")";
      if (signal != 0 && signal != stop_signal) text += " (it ended by " + signal_name(signal) + ")";
      return text;
    }
    case service_end_kind::killed:
      return "killed with SIGKILL after the grace period of " + std::to_string(grace_ms) + " ms (" +
             signal_name(stop_signal) + " did not stop it)";
    case service_end_kind::lost:
      break;
  }
  return "ended, how is unknown (its status was collected elsewhere: is SIGCHLD ignored?)";
}

service_result<std::unique_ptr<service_process>> service_process::start(service_options options) {
  if (auto error = validate(options)) return std::move(*error);
  const std::string command = detail::command_display(options.argv);
  if (!options.working_directory.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(options.working_directory, ec)) {
      return service_error{service_error_kind::not_found, "cannot start " + command +
                                                              ": its working directory " +
                                                              options.working_directory + " is not a folder"};
    }
  }
  const std::vector<std::string> env = detail::child_environment(options.env_set, options.env_unset);
  auto program = detail::find_program(options.argv[0], env, options.working_directory);
  if (!program) return std::move(program).error();

  const auto* output = std::get_if<output_ready>(&options.ready);
  auto capture = detail::output_capture::open(options.log_path, options.log_bytes_max,
                                              output != nullptr ? output->text : std::string());
  if (!capture) return std::move(capture).error();
  (*capture)->write_note("starting " + command +
                         (options.working_directory.empty() ? "" : " in " + options.working_directory));

  become_subreaper();
  auto pid = detail::spawn_in_new_group(*program, options.argv, env, options.working_directory,
                                        (*capture)->write_fd());
  if (!pid) {
    (*capture)->write_note(pid.error().message);
    return std::move(pid).error();
  }
  if (!register_process_group(*pid)) {
    ::kill(-*pid, SIGKILL);
    int status = 0;
    while (::waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
    }
    (*capture)->write_note("not started: too many services at once");
    return service_error{service_error_kind::too_many,
                         "cannot start " + command + ": " + std::to_string(process_groups_max) +
                             " services are running already, the most one squall process supervises"};
  }
  (*capture)->start_reading();

  std::unique_ptr<service_process> process(
      new service_process(std::move(options), command, *pid, std::move(capture).value()));
  auto ready = process->wait_ready();
  if (!ready)
    return std::move(ready).error();  // the service is stopped already; the destructor has no more to do
  return process;
}

service_process::service_process(service_options options, std::string command, pid_t pid,
                                 std::unique_ptr<detail::output_capture> capture)
    : options_(std::move(options)), command_(std::move(command)), pid_(pid), capture_(std::move(capture)) {}

service_process::~service_process() {
  try {
    stop();
  } catch (...) {
    // Out of memory while composing a message: still leave nothing running.
    ::kill(-pid_, SIGKILL);
    int status = 0;
    if (!end_) ::waitpid(pid_, &status, 0);
    unregister_process_group(pid_);
  }
}

service_result<bool> service_process::wait_ready() {
  if (std::holds_alternative<std::monostate>(options_.ready)) return true;
  const auto* http = std::get_if<http_ready>(&options_.ready);
  const detail::deadline until = detail::deadline::after_ms(options_.ready_timeout_ms);
  std::string last_probe = "none yet";
  for (;;) {
    // A service that ended is reported as such, even if it printed its ready text on the way out.
    if (poll()) break;
    if (http != nullptr) {
      const std::uint64_t bound = until.remaining_ms(options_.ready_probe_timeout_ms);
      if (bound == 0) break;
      detail::probe_result probe = detail::probe_http(http->port, http->path, bound);
      if (probe.ready) return true;
      // A probe cut short by the overall timeout ("no answer within 2 ms") would hide what the full
      // probes before it saw.
      if (bound == options_.ready_probe_timeout_ms || last_probe == "none yet")
        last_probe = std::move(probe.seen);
      if (until.passed()) break;
      detail::sleep_ms(until.remaining_ms(options_.ready_poll_ms));
    } else {
      if (capture_->wait_for_ready_text(until.remaining_ms(options_.ready_poll_ms))) return true;
      if (until.passed()) break;
    }
  }
  // The timeout and an exit may come together: the exit is the better explanation.
  if (const auto end = poll()) {
    stop();
    return service_error{service_error_kind::exited_before_ready,
                         "the service " + command_ + " " + ended_phrase(*end) + " before it was ready " +
                             log_and_last_lines()};
  }
  const service_end end = stop();
  std::string waiting_for;
  if (http != nullptr) {
    waiting_for = "waiting for a 2xx answer to GET http://127.0.0.1:" + std::to_string(http->port) +
                  http->path + "; the last probe saw: " + last_probe;
  } else {
    waiting_for = "waiting for its output to contain \"" + std::get<output_ready>(options_.ready).text + "\"";
  }
  return service_error{service_error_kind::not_ready, "the service " + command_ + " was not ready within " +
                                                          std::to_string(options_.ready_timeout_ms) +
                                                          " ms (" + waiting_for + "); it was " +
                                                          end.describe() + " " + log_and_last_lines()};
}

std::optional<service_end> service_process::poll() {
  if (end_) return end_;
  int status = 0;
  pid_t got = 0;
  do {
    got = ::waitpid(pid_, &status, WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got == 0) return std::nullopt;
  end_ = got == pid_ ? end_from_status(status, 0, 0) : service_end{};  // ECHILD: lost
  after_leader_ended();
  return end_;
}

void service_process::after_leader_ended() {
  // What the service started and left behind is orphaned: SIGKILL it now rather than at stop(), so it
  // cannot keep a port or write into the next configuration's run. While any of it is unreaped the
  // group id stays reserved, so the signal cannot reach an unrelated group that reused the number.
  ::kill(-pid_, SIGKILL);
  if (reap_group(0)) {
    group_gone_ = true;
    unregister_process_group(pid_);
  }
}

bool service_process::reap_group(std::uint64_t bound_ms) {
  const detail::deadline until = detail::deadline::after_ms(bound_ms);
  for (;;) {
    int status = 0;
    const pid_t got = ::waitpid(-pid_, &status, WNOHANG);
    if (got > 0) continue;  // one of the group reaped (re-parented to squall, the subreaper)
    if (got < 0 && errno == EINTR) continue;
    // None of squall's children in the group is left to reap; the group is gone when nobody else is.
    if (got < 0 && ::kill(-pid_, 0) != 0 && errno == ESRCH) return true;
    if (until.passed()) return false;
    detail::sleep_ms(1);
  }
}

service_end service_process::stop() {
  if (stopped_) return *end_;
  if (!poll()) {
    ::kill(-pid_, options_.stop_signal);
    const detail::deadline grace = detail::deadline::after_ms(options_.stop_grace_ms);
    for (;;) {
      int status = 0;
      const pid_t got = ::waitpid(pid_, &status, WNOHANG);
      if (got == pid_) {
        end_ = end_from_status(status, options_.stop_signal, options_.stop_grace_ms);
        break;
      }
      if (got < 0 && errno != EINTR) {
        end_ = service_end{};  // lost
        break;
      }
      if (grace.passed()) break;
      detail::sleep_ms(stop_check_ms);
    }
    if (!end_) {
      ::kill(-pid_, SIGKILL);
      // SIGKILL ends a process at once unless it is stuck in the kernel (uninterruptible I/O on a dead
      // mount); squall does not hang on such a one: it reports it killed and moves on.
      const detail::deadline reap = detail::deadline::after_ms(group_reap_bound_ms);
      int status = 0;
      pid_t got = 0;
      for (;;) {
        got = ::waitpid(pid_, &status, WNOHANG);
        if (got == pid_ || (got < 0 && errno != EINTR) || reap.passed()) break;
        detail::sleep_ms(1);
      }
      service_end killed;
      killed.kind = got < 0 ? service_end_kind::lost : service_end_kind::killed;
      killed.signal = got == pid_ && WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
      killed.exit_status = got == pid_ && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      killed.stop_signal = options_.stop_signal;
      killed.grace_ms = options_.stop_grace_ms;
      end_ = killed;
    }
  }
  // The rest of the group: a child that ignored the stop signal, or that the service left when it
  // exited by itself. Then every process squall can reap, and the pgid leaves the registry (even if the
  // bound passed: everything in the group has had its SIGKILL, a kill-all could do no more).
  if (!group_gone_) {
    ::kill(-pid_, SIGKILL);
    group_gone_ = reap_group(group_reap_bound_ms);
    unregister_process_group(pid_);
  }
  capture_->finish(output_drain_ms);
  capture_->write_note("the service (pid " + std::to_string(pid_) + ") " + end_->describe());
  stopped_ = true;
  return *end_;
}

std::string service_process::last_output_lines(std::size_t lines_max) const {
  return capture_->last_lines(lines_max);
}

std::string service_process::log_and_last_lines() const {
  std::string text = "(log: " + options_.log_path + ")";
  const std::string lines = capture_->last_lines(quoted_lines);
  if (lines.empty()) return text + "; it printed nothing";
  text += "; last lines:";
  std::size_t start = 0;
  while (start <= lines.size()) {
    std::size_t end = lines.find('\n', start);
    if (end == std::string::npos) end = lines.size();
    text += "\n    " + lines.substr(start, end - start);
    start = end + 1;
  }
  return text;
}

}  // namespace squall::sut
