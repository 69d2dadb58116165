#pragma once
// What a sweep measured, and the document it writes (sweep.json, "squall-sweep/1").
//
// A unit (one cell on one seed) keeps counts and its whole latency histogram, never percentiles: the cells
// of several seeds, and the units of several shards, combine exactly (merged histograms, summed counts),
// so `squall merge` of the shards gives the same bytes as the unsharded sweep. Both paths build the
// document from units through the same code; a shard's file carries them as JSON, which holds integers
// exactly and doubles in their shortest round-trip form.
//
// Per cell: success_rate, latency percentiles and attempts_per_request pooled over its seeds (as
// summarize() computes them for one run), cost_usd the mean per seed, success_rate_min/_max over seeds.
// The Pareto frontier is over success rate (higher), p99 latency and cost (lower); the recommendation is
// the best cell by the objective among those meeting every constraint.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"
#include "sim/metrics/histogram.hpp"
#include "sim/run/simulation.hpp"
#include "sweeps/sweep_plan.hpp"

namespace squall::sweeps {

inline constexpr const char* sweep_format = "squall-sweep/1";
inline constexpr const char* shard_format = "squall-sweep-shard/1";

struct unit_record {
  std::size_t unit = 0;
  bool incomplete = false;  // the run was stopped before its scenario's end
  std::uint64_t requests = 0, completed = 0, succeeded = 0, unfinished = 0, attempts = 0;
  double cost_usd = 0;
  std::vector<std::pair<std::size_t, std::uint64_t>> latency_buckets;  // (bucket index, count), rising
  std::uint64_t latency_sum_us = 0, latency_min_us = 0, latency_max_us = 0;
};

unit_record make_unit_record(std::size_t unit, const sim::configuration_result& result);
// Writes a latency histogram into a record as it travels: its non-empty buckets, sum, min and max.
void set_latency(unit_record& r, const sim::histogram& h);
json unit_json(const unit_record& r);
// Reads one unit back; `where` names it in errors ("shard-0-of-4.json: $.units[3]").
config_result<unit_record> read_unit(const json& j, const std::string& file, const std::string& where);

// "attempts_per_request<=1.2", "success_rate>=0.99", "cost_usd<=1.1x" (x: times the baseline's value).
struct constraint {
  std::string text;
  std::string metric;
  bool at_most = true;
  double bound = 0;
  bool relative = false;
};
config_result<constraint> parse_constraint(std::string_view text);

// The metric the recommendation optimises: success_rate (the default) is maximised, the others minimised.
struct objective {
  std::string metric = "success_rate";
  bool maximize = true;
};
config_result<objective> parse_objective(std::string_view text);

// The metrics a cell reports, which constraints and the objective may name.
const std::vector<std::string>& cell_metric_names();

// The sweep as planned, without results: what shards must agree on.
struct sweep_definition {
  std::string scenario_name;
  std::string scenario_file;
  std::string scenario_digest;  // of the scenario as read with the command line's --set and --env
  std::string reproduce;        // the `squall sweep` command, without --shard, --jobs and --out
  // "squall run FILE" with the command line's own --set and --env: each cell's "run" is it with the cell's
  // --set changes and the seed, each quoted for a shell by `quote`.
  std::string run_prefix;
  std::function<std::string(const std::string&)> quote;
  objective goal;
  std::vector<constraint> constraints;
};
json plan_json(const sweep_plan& plan, const sweep_definition& definition);

// The document of a whole sweep from its plan (plan_json) and one record per unit (nullopt: not run).
json sweep_document(const json& plan, const std::vector<std::optional<unit_record>>& units,
                    const std::string& incomplete_reason);

// A shard's file: the plan and the records of the units it owns.
json shard_document(const json& plan, const shard_spec& shard, const std::vector<std::optional<unit_record>>& units,
                    const std::string& incomplete_reason);

// Shards read back, checked to be the N parts of one sweep, each once; their units in order.
struct merged_shards {
  json plan;
  std::vector<std::optional<unit_record>> units;
  std::string incomplete_reason;  // the first shard's, when any shard was stopped early
};
config_result<merged_shards> merge_shards(const std::vector<std::pair<std::string, json>>& files);

}  // namespace squall::sweeps
