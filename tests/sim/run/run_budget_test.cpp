// Issue 13: a run is bounded before it starts (its size estimated from the scenario), and a simulation
// stops when asked, marked incomplete, instead of running to the end whatever happens.
#include "sim/run/run_budget.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"

namespace squall::sim {
namespace {

scenario budget_scenario(const std::string& top, const std::string& workload) {
  const std::string text = R"({
    "name": "t", )" + top + R"(,
    "providers": { "p": { "models": { "m": { "usd_per_mtok_in": 1, "usd_per_mtok_out": 2 } },
                          "latency": { "ttft_ms": { "dist": "exponential", "mean": 200 }, "ms_per_output_token": 1 } } },
    "workload": )" + workload + R"(,
    "policies": { "plain": { "policies": [] }, "again": { "policies": [] } }
  })";
  auto s = parse_scenario(json::parse(text), ".");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().describe());
  s->file = "t.json";
  return s.ok() ? std::move(*s) : scenario{};
}

TEST(RunBudget, EstimatesRequestsIntervalsAndMemoryFromTheScenario) {
  const scenario s = budget_scenario(R"("duration_s": 60, "drain_s": 120)", R"({ "arrivals": { "process": "poisson", "rate_per_s": 50 },
    "bursts": [ { "at_s": 10, "requests": 100, "over_s": 1 } ] })");
  const run_estimate e = estimate_run(s, 3);
  EXPECT_DOUBLE_EQ(e.arrivals, 3100);
  EXPECT_DOUBLE_EQ(e.requests, 3100 * 2 * 3);
  EXPECT_EQ(e.intervals, 361U);  // (60 + 120) / 0.5, and the last partial one
  EXPECT_GT(e.memory_bytes, 64.0 * 1024 * 1024);
  EXPECT_LT(e.memory_bytes, 128.0 * 1024 * 1024);
  EXPECT_FALSE(check_run_limits(s, e, run_limits{}, true, "--allow-large-run"));

  // Closed loop: users x duration / (think time + time to first token).
  const scenario c = budget_scenario(R"("duration_s": 100)", R"({ "users": { "count": 10, "think_ms": 800 } })");
  EXPECT_NEAR(estimate_run(c, 1).arrivals, 10 * (100 * 1000.0 / 830 + 1), 1e-6);  // errors answer in 30 ms
}

TEST(RunBudget, EachLimitIsReportedWithTheKeysToChange) {
  const scenario s = budget_scenario(R"("duration_s": 2592000, "interval_s": 0.01)", R"({ "arrivals": { "process": "poisson", "rate_per_s": 10000000 } })");
  const run_estimate e = estimate_run(s, 1);
  EXPECT_DOUBLE_EQ(e.requests, 2 * 1e7 * 2592000);
  auto requests = check_run_limits(s, e, run_limits{}, true, "--allow-large-run");
  ASSERT_TRUE(requests);
  EXPECT_EQ(requests->file, "t.json");
  EXPECT_EQ(requests->path, "$.workload.arrivals, $.duration_s");
  EXPECT_NE(requests->message.find("--allow-large-run"), std::string::npos) << requests->message;
  // Live runs are capped by their own flags: the interval count is the next limit.
  auto intervals = check_run_limits(s, e, run_limits{}, false, "--allow-large-run");
  ASSERT_TRUE(intervals);
  EXPECT_EQ(intervals->path, "$.interval_s, $.duration_s, $.drain_s");
  // Within the interval limits, memory: 16 configurations' worth of intervals with many seeds.
  run_limits roomy = run_limits::large();
  roomy.intervals_max = 1'000'000'000;
  auto memory = check_run_limits(s, e, roomy, false, "--allow-large-run");
  ASSERT_TRUE(memory);
  EXPECT_EQ(memory->path, "$.interval_s, $.policies");
}

TEST(RunBudget, ASimulationStopsWhenItsStopFlagIsSetAndSaysItIsIncomplete) {
  const scenario s = budget_scenario(R"("duration_s": 600)", R"({ "arrivals": { "process": "poisson", "rate_per_s": 100 } })");
  std::atomic<bool> stop{false};
  const auto whole = run_configuration(s, 0, 7, {}, nullptr, &stop);
  EXPECT_FALSE(whole.incomplete);
  EXPECT_EQ(summarize(whole), summarize(run_configuration(s, 0, 7)));  // an unset flag changes nothing

  stop = true;
  const auto stopped = run_configuration(s, 0, 7, {}, nullptr, &stop);
  EXPECT_TRUE(stopped.incomplete);
  EXPECT_EQ(stopped.incomplete_reason, "stopped at 0 s of simulated time");
  EXPECT_LT(stopped.simulated_s, 600);
  EXPECT_LT(stopped.metrics->offered(), whole.metrics->offered());
}

}  // namespace
}  // namespace squall::sim
