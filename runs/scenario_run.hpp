#pragma once
// How a scenario is run, whatever it drives: every configuration in virtual time (sim/run), live on the
// real clock through squall's policies and HTTP transport (sim/live), or against a service under test
// (runs/service_run.hpp); once per seed, the seeds' documents combined. The command line (`squall run`,
// `squall replay`) only parses flags into a scenario_run_setup and prints what the observer hears.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "policies/core/config_error.hpp"
#include "runs/service_run.hpp"
#include "sim/live/live_run.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::runs {

enum class run_mode : std::uint8_t { sim, live, service };
// "sim", "live", "service": results.json's "mode".
const char* to_string(run_mode mode) noexcept;

struct scenario_run_setup {
  run_mode mode = run_mode::sim;
  std::uint64_t seed = 1;
  std::uint32_t seeds = 1;  // seed, seed+1, ...: each can be rerun alone with --seed
  std::string reproduce;    // the command line that reproduces the run, written into every document
  // live: the targets (none: squall's fake providers, fresh in this process for each configuration),
  // caps and stream; its stop flag is set below.
  sim::live_options live;
  service_run_options service;  // service: the logs folder and caps; its stop flag is set below
  std::string trace_path;       // a trace of every attempt (sim, live); "" for none
  // Set from another thread (a signal watcher, a wall-clock limit): the configuration under way ends where
  // it is, no further one or seed starts. `stop_reason` says why, once it is set.
  const std::atomic<bool>* stop = nullptr;
  std::function<std::string()> stop_reason;
};

// What the command line shows while a run goes; called on the running thread.
class scenario_run_observer {
 public:
  // A configuration starts (`label`: its name, with " (seed N)" when there are several seeds).
  virtual void configuration_started(const std::string& label) = 0;
  virtual void progress(double fraction) = 0;
  // It ended: its summary; `service_log` is the service's log in a service run ("" otherwise).
  virtual void configuration_finished(const std::string& label, const sim::summary& summary, bool incomplete,
                                      const std::string& service_log) = 0;
  // It could not run: the service did not start or was not ready.
  virtual void configuration_failed(const std::string& label) = 0;

 protected:
  ~scenario_run_observer() = default;
};

struct scenario_run_result {
  std::optional<json> document;     // the results document, to write (unless an error below says not to)
  std::optional<config_error> bad_input;  // found while running (a live target that cannot be resolved)
  std::string trace_error;          // a trace could not be written: nothing else is written either
  std::string service_failure;      // the service under test failed ("<configuration>: what happened")
};

scenario_run_result run_scenario(const sim::scenario& s, const scenario_run_setup& setup,
                                 scenario_run_observer& observer);

// Where configuration `name` of `count` writes its trace: `path` itself for a single configuration, else
// "t.jsonl" -> "t.<name>.jsonl" (characters other than letters, digits, '.', '_' and '-' become '_').
std::string trace_path_for(const std::string& path, const std::string& name, std::size_t count);

}  // namespace squall::runs
