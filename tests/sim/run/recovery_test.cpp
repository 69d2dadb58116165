// Recovery after fault windows and assertions scoped to a window, on a scenario whose recovery is known
// from its parameters: a provider that answers every call with 503 from 30 s to 60 s, an unguarded
// configuration (recovers the moment the window ends) and a breaker whose open time is known (recovers
// when its second open period ends, 40 s after it first opened).
#include <gtest/gtest.h>

#include <cmath>

#include "sim/run/recovery.hpp"
#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::sim {
namespace {

constexpr double storm_start_s = 30, storm_end_s = 60, rate_per_s = 100, open_s = 20;
constexpr double calls_min = 20;

json recovery_scenario_json() {
  return json::parse(R"({
    "seed": 7, "duration_s": 120, "drain_s": 10, "interval_s": 1,
    "providers": {"p": {
      "models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 1}},
      "latency": {"ttft_ms": 100, "ms_per_output_token": 0},
      "error_latency_ms": 0,
      "capacity": {"slots": 10000, "queue": 10000},
      "faults": [{"name": "storm", "at_s": 30, "for_s": 30, "errors": {"503": 1.0}}]}},
    "workload": {"arrivals": {"process": "constant", "rate_per_s": 100}, "model": "m",
                 "input_tokens": 10, "output_tokens": 10},
    "policies": {
      "bare": {"policies": []},
      "breaker": {"policies": [{"type": "circuit_breaker", "window": "count", "window_size": 20, "calls_min": 20,
                                "failure_rate_threshold": 0.5, "open_ms": 20000, "half_open_calls": 5}]}},
    "assert": {
      "bare": {"success_rate_min": 0.7, "recovery_s_max": 1,
               "during": {"storm": {"success_rate_max": 0.01, "completed_min": 1}},
               "after": {"storm": {"success_rate_min": 0.99, "recovery_s_max": 1}}},
      "breaker": {"during": {"storm": {"success_rate_min": 0.5}},
                  "after": {"storm": {"success_rate_min": 0.99, "recovery_s_max": 12}}}}
  })");
}

struct recovery_run {
  scenario s;
  std::vector<configuration_result> results;
  std::vector<summary> summaries;
};

recovery_run run_recovery_scenario(const json& doc) {
  auto s = parse_scenario(doc, ".");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().describe());
  recovery_run out{*s, {}, {}};
  for (std::size_t i = 0; i < out.s.configurations.size(); ++i) {
    out.results.push_back(run_configuration(out.s, i, 7));
    out.summaries.push_back(summarize(out.results.back()));
  }
  return out;
}

TEST(Recovery, UnguardedConfigurationRecoversWhenTheWindowEnds) {
  const recovery_run run = run_recovery_scenario(recovery_scenario_json());
  const recovery_report r = measure_recovery(run.s, run.results[0].metrics->series());
  ASSERT_TRUE(r.baseline_success_rate.has_value());
  EXPECT_DOUBLE_EQ(*r.baseline_success_rate, 1.0);  // no errors outside the window
  ASSERT_EQ(r.windows.size(), 1U);
  EXPECT_EQ(r.windows[0].fault.name, "storm");
  ASSERT_TRUE(r.windows[0].recovery_s.has_value()) << r.windows[0].note;
  // Every call sent after 60 s succeeds, 100 ms later: recovered in the first interval after the window.
  EXPECT_LE(*r.windows[0].recovery_s, 1.0);
}

TEST(Recovery, BreakerRecoversWhenItsSecondOpenPeriodEnds) {
  const recovery_run run = run_recovery_scenario(recovery_scenario_json());
  const recovery_report r = measure_recovery(run.s, run.results[1].metrics->series());
  ASSERT_EQ(r.windows.size(), 1U);
  ASSERT_TRUE(r.windows[0].recovery_s.has_value()) << r.windows[0].note;
  // The breaker opens once calls_min calls have failed (at 30.2 s), stays open 20 s, its probes at 50.2 s
  // fail inside the window, it opens again until 70.2 s, and then its probes succeed: 10.2 s after 60 s.
  const double opened_s = storm_start_s + calls_min / rate_per_s;
  const double expected_s = opened_s + 2 * open_s - storm_end_s;
  EXPECT_NEAR(*r.windows[0].recovery_s, expected_s, run.s.effective_interval_s());
  EXPECT_GE(*r.windows[0].recovery_s, expected_s - 1e-9);  // not before the breaker let calls through
}

TEST(Recovery, WindowScopedAssertionsPassAndFailAsComputedByHand) {
  const recovery_run run = run_recovery_scenario(recovery_scenario_json());
  const auto verdicts = check_assertions(run.s, run.results, run.summaries);
  ASSERT_EQ(verdicts.size(), 9U);
  auto find = [&](const std::string& config, const std::string& metric, assertion_scope scope) {
    for (const auto& v : verdicts) {
      if (v.bound.configuration == config && v.bound.metric == metric && v.bound.scope == scope) return v;
    }
    ADD_FAILURE() << config << " " << metric;
    return assertion_result{};
  };
  // bare: 30 s of 120 fail; during the storm nothing sent succeeds; after it everything does.
  const auto whole = find("bare", "success_rate", assertion_scope::run);
  EXPECT_TRUE(whole.passed);
  EXPECT_NEAR(whole.measured, 1 - (storm_end_s - storm_start_s) / 120, 0.01);
  // A request counts where it completes: the 0.1 s of calls sent just before 30 s succeed inside the window,
  // beside the 30 s of calls that fail at once.
  const double late_ok = 0.1 * rate_per_s;
  const double during_expected = late_ok / ((storm_end_s - storm_start_s) * rate_per_s + late_ok);
  const auto during = find("bare", "success_rate", assertion_scope::during);
  EXPECT_TRUE(during.passed);
  EXPECT_NEAR(during.measured, during_expected, 1e-3);
  EXPECT_TRUE(find("bare", "completed", assertion_scope::during).passed);
  const auto after = find("bare", "success_rate", assertion_scope::after);
  EXPECT_TRUE(after.passed);
  EXPECT_DOUBLE_EQ(after.measured, 1.0);
  EXPECT_TRUE(find("bare", "recovery_s", assertion_scope::after).passed);
  EXPECT_TRUE(find("bare", "recovery_s", assertion_scope::run).passed);
  // breaker: nothing sent during the storm succeeds; after it, the 10.2 s still open reject their calls:
  // of the 60 s of arrivals after the window, (60 - 10.2) / 60 succeed.
  const auto b_during = find("breaker", "success_rate", assertion_scope::during);
  EXPECT_FALSE(b_during.passed);
  EXPECT_NEAR(b_during.measured, during_expected, 1e-3);
  const auto b_after = find("breaker", "success_rate", assertion_scope::after);
  EXPECT_FALSE(b_after.passed);
  const double open_after_s = storm_start_s + calls_min / rate_per_s + 2 * open_s - storm_end_s;
  EXPECT_NEAR(b_after.measured, (120 - storm_end_s - open_after_s) / (120 - storm_end_s), 0.02);
  const auto b_recovery = find("breaker", "recovery_s", assertion_scope::after);
  EXPECT_TRUE(b_recovery.passed) << b_recovery.measured;
}

TEST(Recovery, NotRecoveredIsAFlagNotANumber) {
  json doc = recovery_scenario_json();
  // The breaker stays open 100 s: past the end of the run.
  doc["policies"]["breaker"]["policies"][0]["open_ms"] = 100000;
  doc["assert"] = {{"breaker", {{"recovery_s_max", 1000}}}};
  const recovery_run run = run_recovery_scenario(doc);
  const recovery_report r = measure_recovery(run.s, run.results[1].metrics->series());
  ASSERT_EQ(r.windows.size(), 1U);
  EXPECT_FALSE(r.windows[0].recovery_s.has_value());
  EXPECT_EQ(r.windows[0].note, "not recovered before the run ended");
  const auto verdicts = check_assertions(run.s, run.results, run.summaries);
  ASSERT_EQ(verdicts.size(), 1U);
  EXPECT_FALSE(verdicts[0].passed);  // a bound of 1000 s cannot pass on a recovery that never came
  EXPECT_NE(verdicts[0].note.find("not recovered"), std::string::npos);
}

// k6#4283: a threshold on a metric with no samples passed. Here nothing succeeds, so the percentiles of
// successful calls have no samples: a _max bound on one fails instead of passing on 0.
TEST(Recovery, AssertionOnAMetricWithoutSamplesFails) {
  json doc = recovery_scenario_json();
  doc["providers"]["p"]["errors"] = {{"503", 1.0}};
  doc["providers"]["p"].erase("faults");
  doc["assert"] = {{"bare", {{"latency_ok_p99_ms_max", 5000}, {"cost_per_success_usd_max", 1}, {"retries_max", 0}}}};
  const recovery_run run = run_recovery_scenario(doc);
  const auto verdicts = check_assertions(run.s, run.results, run.summaries);
  ASSERT_EQ(verdicts.size(), 3U);
  EXPECT_FALSE(verdicts[0].passed);
  EXPECT_EQ(verdicts[0].note, "no samples: no request succeeded");
  EXPECT_FALSE(verdicts[1].passed);
  EXPECT_EQ(verdicts[1].note, "no samples: no request succeeded");
  EXPECT_TRUE(verdicts[2].passed);  // a count of zero is a measurement, not a missing sample
  EXPECT_TRUE(verdicts[2].note.empty());
}

TEST(Recovery, WindowWithoutCompletionsHasNoSamples) {
  json doc = recovery_scenario_json();
  // Arrivals stop at 20 s, before the storm: nothing finishes in it.
  doc["duration_s"] = 20;
  doc["drain_s"] = 60;
  doc["assert"] = {{"bare", {{"during", {{"storm", {{"success_rate_min", 0}}}}}}}};
  const recovery_run run = run_recovery_scenario(doc);
  const auto verdicts = check_assertions(run.s, run.results, run.summaries);
  ASSERT_EQ(verdicts.size(), 1U);
  EXPECT_FALSE(verdicts[0].passed);  // a bound of 0 would pass on any value: it fails on none
  EXPECT_EQ(verdicts[0].note.rfind("no samples", 0), 0U) << verdicts[0].note;
}

TEST(Recovery, AfterRunsToTheNextWindow) {
  const std::vector<fault_ref> faults = {{"a", "p", 10, 20}, {"b", "q", 15, 25}, {"c", "p", 40, 50}};
  const time_span after_a = scope_span(faults, "a", assertion_scope::after);
  EXPECT_DOUBLE_EQ(after_a.from_s, 20);
  EXPECT_DOUBLE_EQ(after_a.to_s, 40);  // "b" overlaps "a", so the next window after "a" ends is "c"
  const time_span during_c = scope_span(faults, "c", assertion_scope::during);
  EXPECT_DOUBLE_EQ(during_c.from_s, 40);
  EXPECT_DOUBLE_EQ(during_c.to_s, 50);
  EXPECT_TRUE(std::isinf(scope_span(faults, "c", assertion_scope::after).to_s));
}

}  // namespace
}  // namespace squall::sim
