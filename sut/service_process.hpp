#pragma once
// The system under test: a team's own service (Node, Python, anything) that squall starts as a child
// process for one configuration of a scenario, pointed at squall's fake providers through its environment
// (OPENAI_BASE_URL=...), waits for until it is ready, watches while load runs, and stops afterwards.
//
//   auto port = squall::sut::free_loopback_port();                  // sut/free_port.hpp
//   squall::sut::service_options options;
//   options.argv = {"node", "server.js"};
//   options.working_directory = "examples/node-service";
//   options.env_set = {{"PORT", std::to_string(*port)}, {"OPENAI_BASE_URL", fake_openai_url}};
//   options.log_path = "out/run/baseline/service.log";
//   options.ready = squall::sut::http_ready{*port, "/health"};
//   auto service = squall::sut::service_process::start(options);
//   if (!service) { print(service.error().describe()); return 2; }
//   ... drive load; now and then: if (auto end = (*service)->poll()) { the service died mid-run }
//   squall::sut::service_end end = (*service)->stop();            // or let the destructor stop it
//
// The command is an argv vector, never a shell line: no quoting surprises, and the pid squall watches is
// the service's own. (A user who wants a shell writes {"sh", "-c", "..."}; `exec` in the line keeps the
// pid.) It runs in a process group of its own, so that stopping it reaches whatever it started (npm's
// node, a worker pool); the command must stay in the foreground: a start script that backgrounds the
// server and exits is reported as having exited before it was ready, and a daemon that calls setsid
// leaves the group and squall's reach. Every live group is in the process-wide registry of
// sut/process_registry.hpp, whose kill_all_service_groups() is safe in a signal handler.
//
// On Linux the first start makes squall a child subreaper (prctl PR_SET_CHILD_SUBREAPER): the service's
// own children, when their parent dies first, are re-parented to squall instead of to PID 1, and stop()
// reaps them. Without it they would stay zombies where PID 1 does not reap (a container whose PID 1 is
// squall itself or a plain supervisor).
//
// A service_process belongs to one thread: start, poll, running, stop and the destructor are not meant
// to be called concurrently. Its output is read by a thread of its own (sut/output_capture.hpp).

#include <signal.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sut/service_error.hpp"

namespace squall::sut {

namespace detail {
class output_capture;
}

// Ready once GET http://127.0.0.1:<port><path> answers with a 2xx status.
struct http_ready {
  std::uint16_t port = 0;
  std::string path = "/";  // starts with '/'
};
// Ready once the service's output (stdout or stderr) contains this text, e.g. "listening on".
struct output_ready {
  std::string text;
};
// std::monostate: ready as soon as the process is started.
using readiness = std::variant<std::monostate, http_ready, output_ready>;

struct service_options {
  // The program and its arguments. argv[0] is looked up on the PATH of the service's environment (after
  // env_set and env_unset) unless it contains a '/', then it is relative to working_directory.
  std::vector<std::string> argv;
  // Where the service runs; empty: squall's own working directory.
  std::string working_directory;
  // The service's environment is squall's, without the names in env_unset, with env_set applied (a
  // name in both is set).
  std::map<std::string, std::string> env_set;
  std::vector<std::string> env_unset;
  // The log of stdout and stderr together, appended to; its parent folders are created. Required.
  std::string log_path;
  // Output beyond this many bytes (per start) is dropped after one line saying so. The default is 16 MiB.
  std::uint64_t log_bytes_max = 16 * 1024 * 1024;

  readiness ready;
  // How long start() waits for readiness before it stops the service. The default is 30000 ms.
  std::uint64_t ready_timeout_ms = 30'000;
  // The pause between two readiness checks. The default is 50 ms.
  std::uint64_t ready_poll_ms = 50;
  // The bound on one HTTP readiness probe (connect, send, status line). The default is 1000 ms.
  std::uint64_t ready_probe_timeout_ms = 1'000;

  // stop() sends this signal to the group first. The default is SIGTERM.
  int stop_signal = SIGTERM;
  // Then waits this long for the service to end before SIGKILLing the group. The default is 5000 ms.
  std::uint64_t stop_grace_ms = 5'000;
};

enum class service_end_kind {
  exited,    // it ended by itself, with an exit status, before squall stopped it
  signaled,  // a signal squall's stop did not send ended it: a crash, or kill_all_service_groups()
  stopped,   // it ended within the grace period after squall's stop signal
  killed,    // it outlived the grace period and was SIGKILLed
  lost,      // someone else collected its status (SIGCHLD set to SIG_IGN in squall): how it ended is unknown
};

// How a service ended.
struct service_end {
  service_end_kind kind = service_end_kind::lost;
  int exit_status = -1;        // the status it exited with; -1 when a signal ended it (or lost)
  int signal = 0;              // the signal that ended it; 0 when it exited (or lost)
  int stop_signal = 0;         // stopped, killed: the signal squall's stop sent first
  std::uint64_t grace_ms = 0;  // stopped, killed: the grace period it had

  // "exited by itself with status 1", "ended by SIGSEGV", "stopped by SIGTERM", "stopped by SIGTERM
  // (it exited with status 0)", "killed with SIGKILL after the grace period of 5000 ms (SIGTERM did not
  // stop it)".
  std::string describe() const;
};

// "SIGTERM" for the usual signals, "signal 42" for the others.
std::string signal_name(int signal);

class service_process {
 public:
  // Starts the service and waits until it is ready (options.ready). On any failure nothing is left
  // running: a service that exited is reported with its status and last lines; one that was not ready
  // in time is stopped (as stop() does) and reported so.
  static service_result<std::unique_ptr<service_process>> start(service_options options);

  ~service_process();  // stop()
  service_process(const service_process&) = delete;
  service_process& operator=(const service_process&) = delete;

  pid_t pid() const noexcept { return pid_; }  // also its process group's id
  const std::string& log_path() const noexcept { return options_.log_path; }
  const std::string& command() const noexcept { return command_; }  // as shown in messages

  // Whether it still runs: std::nullopt while it does, how it ended once it has. Cheap (one waitpid
  // with WNOHANG), for a run that checks between requests that its service did not die. When it finds
  // the service ended it also SIGKILLs what the service left in its group: nothing of a dead service
  // should outlive it into the next configuration.
  std::optional<service_end> poll();
  bool running() { return !poll().has_value(); }

  // Stops the service: stop_signal to the whole group, up to stop_grace_ms for the service to end, then
  // SIGKILL to the group; reaps it and what it left, and says so in the log. Idempotent: later calls
  // return the same end. A service that had already ended keeps the end it had (exited, signaled).
  service_end stop();

  // The last lines of its output (stdout and stderr, from memory, whatever the log limit cut), for
  // a message about a service that died mid-run.
  std::string last_output_lines(std::size_t lines_max = 5) const;

 private:
  service_process(service_options options, std::string command, pid_t pid,
                  std::unique_ptr<detail::output_capture> capture);
  service_result<bool> wait_ready();
  bool reap_group(std::uint64_t bound_ms);
  void after_leader_ended();
  std::string log_and_last_lines() const;

  service_options options_;
  std::string command_;
  pid_t pid_;
  std::unique_ptr<detail::output_capture> capture_;
  std::optional<service_end> end_;  // set once the service itself (the group leader) is reaped
  bool group_gone_ = false;         // no process of its group is left; its pgid is out of the registry
  bool stopped_ = false;            // stop() has run to the end
};

}  // namespace squall::sut
