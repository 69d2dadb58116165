#include "sim/run/simulation.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "sim/run/summary.hpp"

namespace squall::sim {
namespace {

scenario make(const std::string& workload, const std::string& faults = "[]", const std::string& extra_policy = "",
              double duration_s = 60) {
  const std::string text = R"({
    "name": "t", "duration_s": )" + std::to_string(duration_s) + R"(, "drain_s": 120,
    "providers": { "p": { "models": { "m": { "usd_per_mtok_in": 1, "usd_per_mtok_out": 2 } },
                          "latency": { "ttft_ms": { "dist": "exponential", "mean": 200 }, "ms_per_output_token": 1 },
                          "capacity": { "slots": 1000, "queue": 1000 }, "faults": )" + faults + R"( } },
    "workload": )" + workload + R"(,
    "policies": { "plain": { "policies": [] },
                  "retry": { "policies": [ { "type": "retry", "attempts_max": 3, "delay_ms_base": 100, "jitter": "full" } )" +
                           extra_policy + R"( ] } }
  })";
  auto s = parse_scenario(json::parse(text), ".");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().describe());
  return s.ok() ? std::move(*s) : scenario{};
}

const std::string poisson_50 = R"({ "arrivals": { "process": "poisson", "rate_per_s": 50 }, "output_tokens": 100 })";

TEST(Simulation, SameSeedSameRunDifferentSeedDifferentRun) {
  const scenario s = make(poisson_50, R"([{ "at_s": 20, "for_s": 10, "errors": { "503": 0.5 } }])");
  const auto a = run_configuration(s, 1, 42);
  const auto b = run_configuration(s, 1, 42);
  const auto c = run_configuration(s, 1, 43);
  EXPECT_EQ(summarize(a), summarize(b));
  ASSERT_EQ(a.metrics->series().size(), b.metrics->series().size());
  for (std::size_t i = 0; i < a.metrics->series().size(); ++i) {
    EXPECT_EQ(a.metrics->series()[i].completed, b.metrics->series()[i].completed);
    EXPECT_EQ(a.metrics->series()[i].latency_p99_ms, b.metrics->series()[i].latency_p99_ms);
  }
  EXPECT_NE(summary_value(summarize(a), "requests"), summary_value(summarize(c), "requests"));
}

TEST(Simulation, ConfigurationsSeeTheSameWorkloadAndFirstAttemptFaults) {
  // Without faults a retry never fires, so both configurations must see exactly the same requests,
  // latencies and costs: the policy must not perturb the draws.
  const scenario s = make(poisson_50);
  const auto plain = summarize(run_configuration(s, 0, 7));
  const auto retry = summarize(run_configuration(s, 1, 7));
  for (const char* metric : {"requests", "succeeded", "latency_p50_ms", "latency_p99_ms", "cost_usd"}) {
    EXPECT_EQ(summary_value(plain, metric), summary_value(retry, metric)) << metric;
  }
  // With faults, the first attempts fail identically; the retry only adds successes.
  const scenario f = make(poisson_50, R"([{ "at_s": 0, "for_s": 60, "errors": { "500": 0.3 } }])");
  const auto plain_f = run_configuration(f, 0, 7);
  const auto retry_f = run_configuration(f, 1, 7);
  EXPECT_EQ(plain_f.metrics->offered(), retry_f.metrics->offered());
  const double x = 0.3;
  EXPECT_NEAR(summary_value(summarize(plain_f), "success_rate"), 1 - x, 0.02);
  EXPECT_NEAR(summary_value(summarize(retry_f), "success_rate"), 1 - x * x * x, 0.01);
}

TEST(Simulation, OpenLoopOffersTheConfiguredRate) {
  const scenario s = make(poisson_50, "[]", "", 200);
  const auto r = run_configuration(s, 0, 1);
  // Poisson count over 200 s at 50/s: mean 10000, sd 100.
  EXPECT_NEAR(static_cast<double>(r.metrics->offered()), 10000, 400);
  const scenario c = make(R"({ "arrivals": { "process": "constant", "rate_per_s": 50 } })", "[]", "", 200);
  EXPECT_EQ(run_configuration(c, 0, 1).metrics->offered(), 10000U);
}

TEST(Simulation, RampProfileAndBurstsAddUp) {
  const scenario s = make(R"({ "arrivals": { "process": "constant", "shape": "ramp",
                                "profile": [ { "at_s": 0, "rate_per_s": 0 }, { "at_s": 60, "rate_per_s": 100 } ] },
                                "bursts": [ { "at_s": 30, "requests": 500, "over_s": 1 } ] })");
  const auto r = run_configuration(s, 0, 1);
  // A linear ramp from 0 to 100/s over 60 s offers 3000 requests, plus the 500 of the burst.
  EXPECT_EQ(r.metrics->offered(), 3500U);
}

TEST(Simulation, ClosedLoopUsersWaitForAnswers) {
  // 10 users, each with a ~0.3 s round trip and 1.7 s thinking: about 5 requests per second in all.
  const scenario s = make(R"({ "users": { "count": 10, "think_ms": 1700 }, "output_tokens": 100 })", "[]", "", 200);
  const auto r = run_configuration(s, 0, 1);
  EXPECT_NEAR(static_cast<double>(r.metrics->offered()), 200.0 * 10 / 2.0, 60);
  EXPECT_EQ(r.metrics->shed(), 0U);
}

TEST(Simulation, HangsWithoutTimeoutEndAsUnfinishedAndTheClientShedsBeyondItsLimit) {
  const scenario s = make(R"({ "arrivals": { "process": "constant", "rate_per_s": 10 }, "in_flight_max": 50 })",
                          R"([{ "at_s": 10, "for_s": 1000, "outage": "hang" }])");
  const auto r = run_configuration(s, 0, 1);
  EXPECT_EQ(r.metrics->unfinished(), 50U);  // the client's in-flight limit
  EXPECT_EQ(r.metrics->offered(), 600U);
  EXPECT_EQ(r.metrics->shed(), 600U - 100U - 50U);
  EXPECT_EQ(r.metrics->completed(), 100U);
  EXPECT_LE(r.simulated_s, 60.0 + 120.0 + 1e-9);  // bounded by the drain
}

TEST(Simulation, LatencyIsMeasuredFromTheIntendedSendTime) {
  // One slot, constant 1 s service, 2 requests/s: the queue grows by one request per second, and the
  // latency the client sees includes the wait (no coordinated omission).
  const std::string text = R"({ "name": "q", "duration_s": 10, "drain_s": 60,
    "providers": { "p": { "models": { "m": { "usd_per_mtok_in": 0, "usd_per_mtok_out": 0 } }, "latency": { "ttft_ms": 1000, "ms_per_output_token": 0 },
                          "capacity": { "slots": 1, "queue": 100 } } },
    "workload": { "arrivals": { "process": "constant", "rate_per_s": 2 } },
    "policies": { "plain": { "policies": [] } } })";
  auto s = parse_scenario(json::parse(text), ".");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  const auto r = run_configuration(*s, 0, 1);
  EXPECT_EQ(r.metrics->completed(), 20U);
  // Request k (0-based) arrives at (k + 0.5)/2 s and finishes at k + 1.25 s: latency k/2 + 1 s, so the
  // worst (k = 19) is 10.5 s, of which 9.5 s were spent queueing.
  EXPECT_NEAR(static_cast<double>(r.metrics->latency().max()) / 1e6, 10.5, 0.1);
}

}  // namespace
}  // namespace squall::sim
