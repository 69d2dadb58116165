// Sweeps of a library scenario, really run: a cell's figures are those of `squall run` with the cell's --set
// changes, the threads change no byte, and four shards merged give the unsharded document.
#include "sweeps/sweep_runner.hpp"

#include <gtest/gtest.h>

#include "policies/core/json_parse.hpp"
#include "reports/format.hpp"
#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"

namespace squall::sweeps {
namespace {

const std::string storm_file = std::string(SQUALL_SOURCE_DIR) + "/scenarios/openai-503-storm.json";

// The storm scenario shortened to its first 200 s (the storm is from 120 s to 180 s) and at half the rate,
// so that a sweep of a dozen runs stays quick under the sanitizers.
sim::scenario_inputs short_storm() {
  sim::scenario_inputs inputs;
  inputs.sets.push_back(documents::parse_set_override("duration_s=200").value());
  inputs.sets.push_back(documents::parse_set_override("workload.arrivals.rate_per_s=25").value());
  return inputs;
}

sweep_plan storm_plan(const sim::scenario_inputs& inputs, std::uint32_t seeds) {
  auto base = sim::load_scenario(storm_file, inputs);
  EXPECT_TRUE(base.ok()) << (base.ok() ? "" : base.error().describe());
  sweep_request r;
  r.parameters = {parse_parameter("retry.attempts_max=1,3").value(), parse_parameter("circuit_breaker.failure_rate_threshold=0.3,0.6").value()};
  r.configurations = {"retry-breaker"};
  r.seed = 42;
  r.seeds = seeds;
  auto plan = plan_sweep(*base, r);
  EXPECT_TRUE(plan.ok()) << (plan.ok() ? "" : plan.error().describe());
  return *plan;
}

json storm_plan_json(const sweep_plan& plan) {
  sweep_definition d;
  d.scenario_name = "openai-503-storm";
  d.constraints.push_back(parse_constraint("cost_usd<=1.1x").value());
  return plan_json(plan, d);
}

TEST(SweepRunner, ACellIsTheRunOfItsChanges) {
  const auto inputs = short_storm();
  const sweep_plan plan = storm_plan(inputs, 1);
  sweep_run_options options;
  options.jobs = 2;
  const auto units = run_units(storm_file, inputs, plan, options);
  const json doc = sweep_document(storm_plan_json(plan), units, "");
  ASSERT_EQ(doc["cells"].size(), 5U);
  // Cell 3 (attempts 3, threshold 0.3) by the other road: the scenario read with its --set changes, run
  // alone and summarised as `squall run` does.
  sim::scenario_inputs with_cell = inputs;
  with_cell.sets.push_back(documents::parse_set_override("policies.retry-breaker.retry.attempts_max=3").value());
  with_cell.sets.push_back(documents::parse_set_override("policies.retry-breaker.circuit_breaker.failure_rate_threshold=0.3").value());
  auto s = sim::load_scenario(storm_file, with_cell);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  const auto result = sim::run_configuration(*s, 2, 42);  // retry-breaker is the third configuration
  ASSERT_EQ(s->configurations[2].name, "retry-breaker");
  const sim::summary summary = sim::summarize(result);
  const json& m = doc["cells"][3]["metrics"];
  EXPECT_EQ(m["requests"].get<double>(), sim::summary_value(summary, "requests"));
  // The same figures, rounded to six digits as results.json writes them.
  for (const char* metric : {"success_rate", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "cost_usd", "attempts_per_request"}) {
    EXPECT_EQ(m[metric].get<double>(), reports::results_number(sim::summary_value(summary, metric))) << metric;
  }
  // The options do something: one attempt against three during a 503 storm.
  EXPECT_NE(doc["cells"][1]["metrics"]["attempts_per_request"], doc["cells"][3]["metrics"]["attempts_per_request"]);
}

TEST(SweepRunner, ThreadsAndShardsChangeNoByte) {
  const auto inputs = short_storm();
  const sweep_plan plan = storm_plan(inputs, 2);
  const json plan_doc = storm_plan_json(plan);
  sweep_run_options one;
  one.jobs = 1;
  const std::string alone = dump_json(sweep_document(plan_doc, run_units(storm_file, inputs, plan, one), ""), 2);
  sweep_run_options two;
  two.jobs = 2;
  std::size_t reported = 0;
  two.progress = [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(total, plan.units());
    reported = std::max(reported, done);
  };
  EXPECT_EQ(dump_json(sweep_document(plan_doc, run_units(storm_file, inputs, plan, two), ""), 2), alone);
  EXPECT_EQ(reported, plan.units());

  std::vector<std::pair<std::string, json>> files;
  for (std::uint32_t i = 0; i < 4; ++i) {
    sweep_run_options part;
    part.jobs = 2;
    part.shard = {i, 4};
    const auto units = run_units(storm_file, inputs, plan, part);
    for (std::size_t u = 0; u < units.size(); ++u) EXPECT_EQ(units[u].has_value(), u % 4 == i) << u;
    files.emplace_back("shard-" + std::to_string(i), parse_json(dump_json(shard_document(plan_doc, part.shard, units, ""))).value());
  }
  auto merged = merge_shards(files);
  ASSERT_TRUE(merged.ok()) << merged.error().describe();
  EXPECT_EQ(dump_json(sweep_document(merged->plan, merged->units, merged->incomplete_reason), 2), alone);
}

TEST(SweepRunner, AStopEndsTheSweepIncomplete) {
  const auto inputs = short_storm();
  const sweep_plan plan = storm_plan(inputs, 1);
  std::atomic<bool> stop{true};
  sweep_run_options options;
  options.jobs = 2;
  options.stop = &stop;
  const auto units = run_units(storm_file, inputs, plan, options);
  for (const auto& u : units) EXPECT_FALSE(u.has_value());
  const json doc = sweep_document(storm_plan_json(plan), units, "interrupted by SIGINT");
  EXPECT_TRUE(doc["incomplete"].get<bool>());
  EXPECT_TRUE(doc["recommendation"]["cell"].is_null());
}

TEST(SweepRunner, ChecksEveryCellBeforeAnyRuns) {
  const auto inputs = short_storm();
  auto base = sim::load_scenario(storm_file, inputs);
  ASSERT_TRUE(base.ok());
  sweep_request r;
  r.parameters = {parse_parameter("retry.attempts_max=1,-1").value()};
  r.configurations = {"retry-breaker"};
  auto plan = plan_sweep(*base, r);
  ASSERT_TRUE(plan.ok());
  auto error = check_sweep(storm_file, inputs, *plan, sim::run_limits{}, 2, "--allow-large-run");
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->describe().find("sweep cell 2 (policies.retry-breaker.retry.attempts_max=-1)"), std::string::npos)
      << error->describe();
  EXPECT_NE(error->describe().find("attempts_max"), std::string::npos);

  // A sweep past the request limit is refused with its size and the way to raise it.
  r.parameters = {parse_parameter("workload.arrivals.rate_per_s=1000,2000").value()};
  plan = plan_sweep(*base, r);
  ASSERT_TRUE(plan.ok());
  sim::run_limits small;
  small.requests_max = 500'000;
  error = check_sweep(storm_file, inputs, *plan, small, 2, "--allow-large-run");
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->describe().find("--allow-large-run"), std::string::npos) << error->describe();
}

}  // namespace
}  // namespace squall::sweeps
