// Queue waits per provider: what the simulated provider records and what a run's provider summary
// says of them.
#include <gtest/gtest.h>

#include "sim/provider/sim_provider.hpp"
#include "sim/run/simulation.hpp"
#include "tests/sim/provider/provider_test_support.hpp"

namespace squall::sim {
namespace {

provider_config one_slot_100ms() {
  provider_config c = testing::simple_config();
  c.slots = 1;  // ttft 100 ms and no output tokens: 100 ms of service each
  return c;
}

TEST(QueueWait, OfTwoSimultaneousAttemptsOnOneSlotTheSecondWaitsTheFirstsService) {
  event_loop loop;
  sim_provider p(loop, one_slot_100ms(), 5);
  testing::client first(loop, 1);
  testing::client second(loop, 2);
  first.send(p);
  second.send(p);
  loop.run();
  ASSERT_EQ(second.received, 1);
  EXPECT_EQ(second.got->latency, from_ms(200)) << "100 ms in the queue, then 100 ms of service";

  EXPECT_EQ(p.stats().service_started, 2U);
  EXPECT_EQ(p.stats().service_waited, 1U);
  const queue_wait_summary q = summarize_queue_wait(p);
  EXPECT_EQ(q.service_started, 2U);
  EXPECT_DOUBLE_EQ(q.waited_share, 0.5);
  EXPECT_DOUBLE_EQ(q.mean_ms, 50.0);
  EXPECT_DOUBLE_EQ(q.p50_ms, 0.0) << "the first attempt found the slot free";
  // A fixed-size histogram reports a percentile within 1/64 of the value (the mean is exact).
  EXPECT_NEAR(q.p90_ms, 100.0, 100.0 / 64);
  EXPECT_NEAR(q.p99_ms, 100.0, 100.0 / 64);
}

TEST(QueueWait, NobodyWaitsWhileSlotsAreFree) {
  event_loop loop;
  sim_provider p(loop, testing::simple_config(), 5);  // 4 slots
  testing::client a(loop, 1);
  testing::client b(loop, 2);
  a.send(p);
  b.send(p);
  loop.run();
  const queue_wait_summary q = summarize_queue_wait(p);
  EXPECT_EQ(q.service_started, 2U);
  EXPECT_DOUBLE_EQ(q.waited_share, 0.0);
  EXPECT_DOUBLE_EQ(q.mean_ms, 0.0);
  EXPECT_DOUBLE_EQ(q.p99_ms, 0.0);
}

TEST(QueueWait, AnEmptyProviderHasNoFigures) {
  event_loop loop;
  sim_provider p(loop, testing::simple_config(), 5);
  const queue_wait_summary q = summarize_queue_wait(p);
  EXPECT_EQ(q.service_started, 0U);
  EXPECT_DOUBLE_EQ(q.waited_share, 0.0);
  EXPECT_DOUBLE_EQ(q.p50_ms, 0.0);
}

TEST(QueueWait, ARunFillsEachProvidersSummary) {
  // 20 requests/s of 100 ms on 2 slots: the provider is 100% busy on average, so queues form.
  const std::string text = R"({
    "name": "queue-wait", "duration_s": 30, "drain_s": 60,
    "providers": { "p": { "models": { "m": { "usd_per_mtok_in": 1, "usd_per_mtok_out": 2 } },
                          "latency": { "ttft_ms": 100, "ms_per_output_token": 0 },
                          "capacity": { "slots": 2, "queue": 100000 } } },
    "workload": { "arrivals": { "process": "poisson", "rate_per_s": 18 }, "output_tokens": 10 },
    "policies": { "plain": { "policies": [] } }
  })";
  auto s = parse_scenario(json::parse(text), ".");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  const configuration_result r = run_configuration(*s, 0, 11);
  ASSERT_EQ(r.providers.size(), 1U);
  ASSERT_TRUE(r.providers[0].queue_wait.has_value());
  const queue_wait_summary& q = *r.providers[0].queue_wait;
  EXPECT_EQ(q.service_started, r.metrics->attempts());
  EXPECT_GT(q.waited_share, 0.1);
  EXPECT_LT(q.waited_share, 1.0);
  EXPECT_GT(q.mean_ms, 0.0);
  EXPECT_LE(q.p50_ms, q.p90_ms);
  EXPECT_LE(q.p90_ms, q.p99_ms);
}

}  // namespace
}  // namespace squall::sim
