// A scenario's "network" key, end to end: parsed with the provider and paid by every request.
#include <gtest/gtest.h>

#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"

namespace squall::sim {
namespace {

scenario network_scenario(const std::string& network) {
  const std::string text = R"({
    "name": "network", "duration_s": 20, "drain_s": 30,
    "providers": { "p": { "models": { "m": { "usd_per_mtok_in": 1, "usd_per_mtok_out": 2 } },
                          "latency": { "ttft_ms": 100, "ms_per_output_token": 0 },
                          "capacity": { "slots": 1000, "queue": 1000 })" + network + R"( } },
    "workload": { "arrivals": { "process": "poisson", "rate_per_s": 20 }, "output_tokens": 10 },
    "policies": { "plain": { "policies": [] } }
  })";
  auto s = parse_scenario(json::parse(text), ".");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().describe());
  return s.ok() ? std::move(*s) : scenario{};
}

TEST(NetworkScenario, EveryRequestPaysTheRoundTripOnTopOfService) {
  const auto plain = summarize(run_configuration(network_scenario(""), 0, 3));
  const auto networked = run_configuration(network_scenario(R"(, "network": { "rtt_ms": 50 })"), 0, 3);
  const auto with_rtt = summarize(networked);
  EXPECT_EQ(summary_value(plain, "requests"), summary_value(with_rtt, "requests"));
  EXPECT_EQ(summary_value(plain, "latency_max_ms"), 100);
  EXPECT_EQ(summary_value(with_rtt, "latency_p50_ms"), 150);
  EXPECT_EQ(summary_value(with_rtt, "latency_max_ms"), 150);
  ASSERT_TRUE(networked.providers[0].queue_wait.has_value());
  EXPECT_EQ(networked.providers[0].queue_wait->waited_share, 0.0) << "the network is no queue";
}

}  // namespace
}  // namespace squall::sim
