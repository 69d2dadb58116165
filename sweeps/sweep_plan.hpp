#pragma once
// What `squall sweep` runs: the cells of a grid (or random draws) over options of a scenario, each a list of
// --set changes to one configuration, and the units of work (cell x seed) that shards share out.
//
//   --param retry.attempts_max=1..5            integers 1 to 5
//   --param 'breaker.failure_rate=0.2,0.5'     a list (each item JSON when it is JSON, else text)
//   --param 'timeout.timeout_ms=[1000,5000]'   a JSON array is a list too
//   --param circuit_breaker.failure_rate=0.1..0.5:0.1   numbers from 0.1 to 0.5 in steps of 0.1
//   --param timeout.timeout_ms=~500..8000      drawn at random, uniform (integers when both ends are)
//   --param retry.delay_ms_base=~log:10..1000  drawn log-uniformly (--draws N cells per grid point)
//
// A path whose first key is not a scenario's top-level key (workload, providers, duration_s, ...) is read
// inside the swept configuration's policy, so `retry.attempts_max` means
// `policies.<configuration>.retry.attempts_max` (a layer by its name, else by its type:
// documents/set_override.hpp). Every cell runs on the same seeds, so workload and fault draws are identical
// across cells (common random numbers) and differences come from the options alone.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "documents/set_override.hpp"
#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::sweeps {

// A random draw between two ends, inclusive.
struct value_draw {
  double low = 0;
  double high = 0;
  bool log = false;      // log-uniform: even odds per decade
  bool integer = false;  // both ends written as integers
};

struct sweep_parameter {
  std::string text;                       // as given, for messages and the reproduce line
  std::string path;                       // the path as written ("retry.attempts_max")
  std::vector<documents::path_step> steps;
  bool in_policy = false;                 // read inside the configuration's policy
  std::vector<json> values;               // a list or a range; empty for a draw
  std::optional<value_draw> draw;
};

inline constexpr std::size_t values_max = 10'000;  // of one parameter's list or range
inline constexpr std::size_t units_max = 1'000'000;  // runs of a sweep (cells x seeds), whatever the limits

// Parses one --param; errors name the text and what was expected.
config_result<sweep_parameter> parse_parameter(std::string_view text);

struct sweep_cell {
  std::size_t index = 0;
  std::string configuration;
  bool baseline = false;    // the configuration as the scenario writes it, no --param applied
  std::vector<json> values;  // one per parameter (empty for a baseline)
  std::vector<std::string> sets;  // the --set changes that make the cell, as `squall run` takes them
};

struct sweep_request {
  std::vector<sweep_parameter> parameters;
  std::vector<std::string> configurations;  // empty: every configuration of the scenario
  std::uint32_t draws = 20;                  // cells per grid point when a parameter is drawn
  std::uint64_t seed = 1;
  std::uint32_t seeds = 1;
  std::size_t cells_max = 10'000;
};

struct sweep_plan {
  std::vector<sweep_parameter> parameters;
  std::vector<std::string> configurations;
  std::vector<sweep_cell> cells;  // per configuration: its baseline, then the grid in order (last parameter fastest)
  std::uint32_t draws = 0;        // 0 when no parameter is drawn
  std::uint64_t seed = 1;
  std::uint32_t seeds = 1;

  std::size_t units() const noexcept { return cells.size() * seeds; }
  // Unit u is cell u / seeds on seed seed + u % seeds.
  std::size_t cell_of(std::size_t unit) const noexcept { return unit / seeds; }
  std::uint64_t seed_of(std::size_t unit) const noexcept { return seed + unit % seeds; }
};

// The cells of a sweep of `base` (the scenario as read with the command line's own --set and --env). Draws
// come from a generator seeded by the sweep's seed, so the same command gives the same cells.
config_result<sweep_plan> plan_sweep(const sim::scenario& base, const sweep_request& request);

// The path of a --set for configuration `name` ("policies.c" or 'policies["a.b"]').
std::string configuration_path(const std::string& name);

// A shard of N: which units it runs (u % N == index). "i/N" is parsed by parse_shard, 0 <= i < N.
struct shard_spec {
  std::uint32_t index = 0;
  std::uint32_t count = 1;
  bool owns(std::size_t unit) const noexcept { return unit % count == index; }
};
config_result<shard_spec> parse_shard(std::string_view text);

}  // namespace squall::sweeps
