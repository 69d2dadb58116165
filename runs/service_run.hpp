#pragma once
// One configuration of a scenario with a service under test (docs/black-box.md), on the real clock:
//
//   1. squall's fake providers start in this process (ports from "providers_port", else ephemeral) and
//      record every attempt they receive;
//   2. the service starts with its environment pointing at them (${providers.<name>.base_url}, ${port})
//      and squall waits until it is ready; its output goes to <logs_dir>/<configuration>/service.log;
//   3. the providers' fault timeline restarts at the instant the load starts, so that the fault windows
//      of the report are exact;
//   4. the workload is sent to the service (runs/service_handler.hpp) open loop, latency counted from each
//      request's intended time; the service is watched, and a service that dies ends the run there;
//   5. the service is stopped (its signal, then SIGKILL after the grace period) and the providers' attempts
//      are joined with what the users saw (runs/upstream_view.hpp).
//
// A service that cannot start or become ready is a failure of the configuration (the message names what
// happened and the log); nothing of it is left running either way.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "sim/live/live_run.hpp"
#include "sim/run/simulation.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::runs {

struct service_run_options {
  sim::live_options live;          // caps, the stop flag, allow_remote (for a "base_url" service)
  std::filesystem::path logs_dir;  // <logs_dir>/<configuration>/service.log
};

// Why a configuration could not run at all: nothing was sent to the service.
struct service_run_failure {
  enum class kind { providers, service_start, service_target } what = kind::service_start;
  std::string message;
};

struct service_run_outcome {
  std::optional<sim::configuration_result> result;  // set when load was sent (complete or not)
  std::optional<service_run_failure> failure;       // set when it could not run
  std::string log_path;                             // the service's log, when squall started it
  bool service_died = false;  // the service ended during the run, which ended there (result incomplete)
};

// Checks what can be checked before anything starts: a "base_url" that parses and is loopback unless
// allow_remote, and the caps. The error's path names the scenario key or flag.
std::optional<config_error> check_service_run(const sim::scenario& s, const service_run_options& options);

service_run_outcome run_service_configuration(const sim::scenario& s, std::size_t index, std::uint64_t seed,
                                              const service_run_options& options,
                                              const sim::progress_fn& progress = {});

}  // namespace squall::runs
