#pragma once
// A scenario file: the providers with their fault timelines, the workload, the policy configurations to
// compare on identical draws, and the assertions that turn a run into a CI verdict. The schema is
// documented in docs/scenario-format.md; every mistake is reported with the file and the JSON path.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "policies/core/config_error.hpp"
#include "policies/pipeline/pipeline.hpp"
#include "sim/provider/provider_config.hpp"
#include "sim/scenario/scenario_document.hpp"
#include "sim/scenario/service_spec.hpp"
#include "sim/workload/workload_config.hpp"

namespace squall::sim {

// How requests are spread over the instances of a fleet.
enum class fleet_spread : std::uint8_t { round_robin, random, sticky };

// A configuration run as a fleet of client instances (pods): each instance has its own policy state
// (breakers, budgets, limiters, caches), the providers are shared. One instance is the plain case.
struct fleet_spec {
  static constexpr std::uint32_t instances_max = 1000;
  std::uint32_t instances = 1;
  fleet_spread spread = fleet_spread::round_robin;
};

struct configuration {
  std::string name;     // the key under "policies"
  std::string source;   // the policy file as written in the scenario, or "inline"
  pipeline_spec pipeline;
  fleet_spec fleet;     // "fleet" when the configuration is written {"policy": ..., "fleet": {...}}
  // "reference": why a configuration is kept though it is not a candidate (a bad example such as naive
  // retries, or today's setup to beat). Reports show it as a reference, never as the answer; empty for a
  // candidate.
  std::string reference;
};

// Over which part of the run an assertion's metric is measured: the whole run, the intervals of a named
// fault window ("during"), or the intervals from its end to the next window's start or the run's end
// ("after"). See sim/run/recovery.hpp.
enum class assertion_scope : std::uint8_t { run, during, after };

// One bound on one summary metric of one configuration: "success_rate_min": 0.99.
struct assertion {
  std::string configuration;
  std::string metric;   // a key of the summary, e.g. "latency_p99_ms", or "recovery_s"
  bool is_min = true;   // true: metric >= bound; false: metric <= bound
  double bound = 0;
  std::string path;     // where it was written, for messages
  assertion_scope scope = assertion_scope::run;
  std::string fault;    // the fault window's name, for during / after
};

// "recovery": how recovery after each fault window is measured (sim/run/recovery.hpp).
struct recovery_options {
  // A configuration has recovered when its success rate is back within this many percentage points of
  // its calm baseline. The default value is 2 pp.
  double tolerance_pp = 2;
  // ... and stays there for this many consecutive intervals (with completions). The default value is 3.
  std::uint32_t hold_intervals = 3;
};

struct scenario {
  std::string name;
  std::string description;
  std::string file;
  std::optional<std::uint64_t> seed;   // the scenario's default seed; --seed overrides it
  double duration_s = 60;              // arrivals are sent for this long
  double drain_s = 60;                 // then in-flight requests get at most this long to finish
  double interval_s = 0;               // time-series resolution; 0 = chosen from duration
  std::vector<provider_config> providers;
  workload_config workload;
  // With a service (a system under test), the configurations are its versions (service->configurations),
  // each with an empty pipeline: squall's own policies do not run, the service's code does.
  std::optional<service_spec> service;
  std::vector<configuration> configurations;
  std::vector<assertion> assertions;
  recovery_options recovery;
  std::string digest;                  // SHA-256 of the scenario with its policy files inlined
  // What the command line changed: each --set as given, and the ${NAME}s the file used with their values
  // (the digest covers the result of both).
  std::vector<std::string> overrides;
  std::vector<documents::used_variable> variables;

  double effective_interval_s() const noexcept;
};

// The summary metric names an assertion may name (the keys of results.json's "summary").
const std::vector<std::string>& summary_metric_names();
// The metrics an assertion scoped to a fault window ("during" / "after") may name: those the time series
// measures exactly as sums of its intervals (no latency percentiles: intervals' percentiles do not add).
const std::vector<std::string>& window_metric_names();
// The summary metrics of what the fake providers saw, which only a run with a service has.
const std::vector<std::string>& upstream_metric_names();

// Reads a scenario file (JSON or YAML), with the command line's --set and --env applied.
config_result<scenario> load_scenario(const std::filesystem::path& file, const scenario_inputs& inputs = {});
// Parses a scenario document; relative policy paths resolve against `base_dir`. Errors carry no file.
config_result<scenario> parse_scenario(const json& document, const std::filesystem::path& base_dir);

std::string sha256_hex(const std::string& data);

}  // namespace squall::sim
