#pragma once
// Live mode: one configuration of a scenario run against real HTTP endpoints (squall's fake providers on
// loopback) on the real clock. The workload is the simulation's: the same request factory and the same
// arrival times (sim/workload), open loop, with latency measured from each request's INTENDED send time,
// so a generator that falls behind shows up as latency rather than as missing load (no coordinated
// omission). The configuration's policy pipeline runs unchanged on asio_runtime over http_transport, and
// the run is recorded into the same run_metrics and returned as the same configuration_result, so the
// reports are written exactly as for a simulation (mode "live").
//
// Bounded and safe: live load goes only to loopback targets (127.0.0.0/8, ::1, localhost) unless
// allow_remote is set; in-flight requests, run time and the total of requests are capped; a stop flag
// (set from a SIGINT handler) ends the run within about 20 ms, cancelling what is in flight, and the
// result is marked incomplete.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "policies/asio/asio_runtime.hpp"
#include "policies/core/config_error.hpp"
#include "sim/run/simulation.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::sim {

// Where one scenario provider is served: `squall run --target openai=http://127.0.0.1:8081/v1`.
struct live_target {
  std::string provider;
  std::string base_url;
};

struct live_options {
  std::vector<live_target> targets;  // one per scenario provider
  bool allow_remote = false;         // --allow-remote: permit targets that are not loopback
  bool stream = true;                // ask for SSE answers (time to first token is measured)
  std::uint32_t in_flight_max = 1000;   // also bounded by the workload's own in_flight_max
  double run_s_max = 900;               // arrivals + drain; arrivals past it are not sent
  std::uint64_t requests_max = 200000;  // arrivals offered; past it arrivals stop
  // --live-connections: a client's pool size. Past it requests wait for a free connection.
  std::uint32_t connections_per_target_max = 256;
  std::string api_key = "squall-live";  // sent to the fake providers, which ignore it
  const std::atomic<bool>* stop = nullptr;  // when it becomes true the run ends early
  traces::trace_writer* trace = nullptr;    // when set, every attempt sent is written to it
  // Asked every 20 ms while the run goes; a non-empty answer ends the run there, marked incomplete with
  // that reason (a service under test that died: runs/service_run.hpp).
  std::function<std::string()> watch;
};

// What driving a workload came to.
struct live_drive {
  bool incomplete = false;
  std::string incomplete_reason;
  double elapsed_s = 0;      // real seconds from the first arrival's time 0 to the end
  std::uint64_t events = 0;  // timers fired
};

// Drives the workload of `s` through `chain` on `rt`, running its io_context until the run ends: the
// open-loop arrivals, users and bursts, the caps and the stop flag of `options`, latency from each
// request's intended time, all into `metrics`. run_live_configuration calls it with the policy pipeline
// over the HTTP transport; a run with a service under test with runs/service_handler.hpp in its place.
live_drive drive_live_workload(const scenario& s, std::uint64_t seed, const live_options& options, asio_runtime& rt,
                               handler& chain, run_metrics& metrics, const progress_fn& progress,
                               traces::tracing_handler* tracer = nullptr);

// Parses "provider=URL" as written after --target. Errors say what was expected.
config_result<live_target> parse_live_target(const std::string& text);

// Checks the targets against the scenario: every provider has exactly one, URLs are usable, and every
// host is loopback unless allow_remote. The error's path names the flag ("--target openai").
std::optional<config_error> check_live_options(const scenario& s, const live_options& options);

// Runs configuration `index` of `s` live. Fails only on what check_live_options reports (or an endpoint
// that cannot be resolved); a run that was stopped or capped returns its result marked incomplete.
config_result<configuration_result> run_live_configuration(const scenario& s, std::size_t index, std::uint64_t seed,
                                                           const live_options& options,
                                                           const progress_fn& progress = {});

}  // namespace squall::sim
