// The network between client and provider ("network": {"rtt_ms"}): half the round trip on the way
// there, half on the way back, outside the provider's capacity and its latency factors.
#include <gtest/gtest.h>

#include "sim/provider/provider_config.hpp"
#include "sim/provider/sim_provider.hpp"
#include "tests/sim/provider/provider_test_support.hpp"

namespace squall::sim {
namespace {

using testing::client;
using testing::simple_config;

constexpr std::uint64_t network_seed = 77;

provider_config with_rtt(double rtt_ms) {
  provider_config c = simple_config();  // ttft 100 ms, 10 ms per token, errors after 30 ms
  c.network_rtt_ms = distribution::constant(rtt_ms);
  return c;
}

config_result<provider_config> parse_network(const std::string& network) {
  return parse_provider(json::parse(R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "network": )" +
                                    network + "}"),
                        "$.providers.p", "p");
}

TEST(Network, AFixedRoundTripAddsExactlyItselfToAnOkAnswer) {
  event_loop loop;
  sim_provider p(loop, with_rtt(40), network_seed);
  client c(loop, 1, 10);
  c.send(p);
  loop.run_until(time_point{from_ms(19)});
  EXPECT_EQ(p.stats().arrivals, 0U) << "still on its way";
  loop.run();
  ASSERT_EQ(c.received, 1);
  EXPECT_TRUE(c.got->ok());
  EXPECT_EQ(c.got->latency, from_ms(40 + 100 + 10 * 10));
  EXPECT_EQ(c.got->time_to_first_token, std::optional<duration>{from_ms(40 + 100)});
  EXPECT_EQ(p.live_attempts(), 0U);
}

TEST(Network, AFixedRoundTripAddsExactlyItselfToAnErrorAndARefusal) {
  event_loop loop;
  provider_config cfg = with_rtt(40);
  cfg.errors = {injected_error{503, 1.0}};
  sim_provider p(loop, cfg, network_seed);
  client c(loop);
  c.send(p);
  loop.run();
  ASSERT_EQ(c.received, 1);
  EXPECT_EQ(c.got->http_status, 503);
  EXPECT_EQ(c.got->latency, from_ms(40 + 30));

  provider_config down = with_rtt(40);
  fault_window w = testing::window(0, 10);
  w.outage = outage_kind::refuse;
  down.faults = {w};
  event_loop loop2;
  sim_provider refusing(loop2, down, network_seed);
  client r(loop2);
  r.send(refusing);
  loop2.run();
  ASSERT_EQ(r.received, 1);
  EXPECT_EQ(r.got->kind, outcome_class::connection_error);
  EXPECT_EQ(r.got->latency, from_ms(40 + 1));
}

TEST(Network, LegsHoldNoSlot) {
  // One slot, 100 ms of service, a 1 s round trip. Both attempts travel at once and arrive together at
  // 500 ms; the second waits only for the first's service, not for its answer's way back.
  event_loop loop;
  provider_config cfg = with_rtt(1000);
  cfg.slots = 1;
  sim_provider p(loop, cfg, network_seed);
  client a(loop, 1);
  client b(loop, 2);
  a.send(p);
  b.send(p);
  loop.run_until(time_point{from_ms(499)});
  EXPECT_EQ(p.in_flight(), 0U) << "nothing occupies the provider while on the network";
  EXPECT_EQ(p.live_attempts(), 2U);
  loop.run_until(time_point{from_ms(650)});
  EXPECT_EQ(p.busy(), 1U) << "the second is in service while the first's answer travels back";
  EXPECT_EQ(p.queue_depth(), 0U);
  loop.run();
  ASSERT_EQ(a.received, 1);
  ASSERT_EQ(b.received, 1);
  EXPECT_EQ(a.got->latency, from_ms(500 + 100 + 500));
  EXPECT_EQ(b.got->latency, from_ms(500 + 100 + 100 + 500));
  EXPECT_EQ(to_ms(p.stats().queue_wait_total), 100.0) << "queue waits count from arrival, not from sending";
}

TEST(Network, IsNotStretchedByALatencyWindowOrSlowdown) {
  event_loop loop;
  provider_config cfg = with_rtt(40);
  fault_window w = testing::window(0, 10);
  w.latency_x = 5;
  cfg.faults = {w};
  cfg.slowdown = 1.0;  // one busy slot of four: x1.25
  sim_provider p(loop, cfg, network_seed);
  client c(loop);
  c.send(p);
  loop.run();
  ASSERT_EQ(c.received, 1);
  EXPECT_EQ(c.got->latency, from_ms(40 + 100 * 5 * 1.25));
}

TEST(Network, DrawsNothingElseDifferently) {
  // The round trip is drawn after everything else: the same attempt draws the same error, latencies
  // and wire fault with and without a network, so scenarios without one draw exactly as before.
  provider_config plain = simple_config();
  plain.ttft_ms = distribution::lognormal(400, 0.5);
  provider_config networked = plain;
  networked.network_rtt_ms = distribution::lognormal(40, 0.3);
  const provider_model a(plain);
  const provider_model b(networked);
  for (std::uint64_t id = 1; id <= 50; ++id) {
    rng ra(mix_seed(mix_seed(network_seed, id), 1));
    rng rb(mix_seed(mix_seed(network_seed, id), 1));
    const attempt_draws da = a.draw(ra);
    const attempt_draws db = b.draw(rb);
    EXPECT_EQ(da.error_u, db.error_u);
    EXPECT_EQ(da.ttft_ms, db.ttft_ms);
    EXPECT_EQ(da.ms_per_output_token, db.ms_per_output_token);
    EXPECT_EQ(da.error_latency_ms, db.error_latency_ms);
    EXPECT_EQ(da.wire_u, db.wire_u);
    EXPECT_EQ(da.network_rtt_ms, 0.0);
    EXPECT_GT(db.network_rtt_ms, 0.0);
  }
}

TEST(Network, CancelledOnTheWayThereTheAttemptNeverArrives) {
  event_loop loop;
  sim_provider p(loop, with_rtt(200), network_seed);
  client c(loop);
  operation& op = c.send(p);
  loop.run_until(time_point{from_ms(50)});
  op.cancel();
  loop.run();
  EXPECT_EQ(c.received, 0);
  EXPECT_EQ(p.stats().arrivals, 0U);
  EXPECT_EQ(p.stats().cancelled_in_transit, 1U);
  EXPECT_EQ(p.stats().billed_usd, 0.0);
  EXPECT_EQ(p.live_attempts(), 0U);
}

TEST(Network, CancelledOnTheWayBackTheAnswerIsDroppedAndItsWorkAbandoned) {
  event_loop loop;
  testing::billing_listener bill;
  sim_provider p(loop, with_rtt(200), network_seed, &bill);
  client c(loop, 1, 10);
  operation& op = c.send(p);
  loop.run_until(time_point{from_ms(100 + 200 + 50)});  // served at 300 ms, on its way back
  EXPECT_EQ(p.stats().served, 1U);
  op.cancel();
  loop.run();
  EXPECT_EQ(c.received, 0);
  EXPECT_EQ(p.stats().abandoned, 1U);
  EXPECT_EQ(bill.calls, 1);
  EXPECT_DOUBLE_EQ(bill.total_usd, p.stats().billed_usd);
  EXPECT_DOUBLE_EQ(p.stats().abandoned_usd, p.stats().billed_usd);
  EXPECT_EQ(p.live_attempts(), 0U);
}

TEST(Network, AStreamCutHeardAfterTheServerFinished) {
  // 10 tokens: service 200 ms, the cut at 150 ms of it. With a 400 ms round trip the server finishes at
  // 400 ms, and the client hears of the cut at 200 + 150 + 200 = 550 ms.
  event_loop loop;
  testing::billing_listener bill;
  provider_config cfg = with_rtt(400);
  fault_window w = testing::window(0, 10);
  w.wire.stream_cut = 1.0;
  cfg.faults = {w};
  sim_provider p(loop, cfg, network_seed, &bill);
  client c(loop, 1, 10);
  c.send(p);
  loop.run_until(time_point{from_ms(450)});
  EXPECT_EQ(p.stats().served, 1U);
  EXPECT_EQ(c.received, 0);
  loop.run();
  ASSERT_EQ(c.received, 1);
  EXPECT_EQ(c.got->kind, outcome_class::connection_error);
  EXPECT_EQ(c.got->latency, from_ms(550));
  EXPECT_EQ(p.stats().wire_faults, 1U);
  EXPECT_EQ(p.stats().abandoned, 0U) << "a wire fault, not an abandonment";
  EXPECT_DOUBLE_EQ(p.stats().abandoned_usd, p.stats().billed_usd);
  EXPECT_EQ(bill.calls, 1);
  EXPECT_EQ(p.live_attempts(), 0U);
}

TEST(Network, ParsesAndValidatesWithThePath) {
  auto ok = parse_network(R"({"rtt_ms": {"dist": "lognormal", "median": 40, "sigma": 0.3}})");
  ASSERT_TRUE(ok.ok()) << ok.error().describe();
  ASSERT_TRUE(ok->network_rtt_ms.has_value());
  EXPECT_EQ(ok->network_rtt_ms->shape(), distribution::kind::lognormal);
  auto without = parse_provider(json::parse(R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}})"),
                                "$.providers.p", "p");
  ASSERT_TRUE(without.ok()) << without.error().describe();
  EXPECT_FALSE(without->network_rtt_ms.has_value());

  auto negative = parse_network(R"({"rtt_ms": -1})");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().path, "$.providers.p.network.rtt_ms");
  auto huge = parse_network(R"({"rtt_ms": 120000})");
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().path, "$.providers.p.network.rtt_ms");
  auto missing = parse_network("{}");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().path, "$.providers.p.network") << "a missing key is reported at its object";
  EXPECT_NE(missing.error().message.find("rtt_ms"), std::string::npos) << missing.error().message;
  auto misspelt = parse_network(R"({"rtt": 40})");
  ASSERT_FALSE(misspelt.ok());
  EXPECT_EQ(misspelt.error().path, "$.providers.p.network");
  EXPECT_NE(misspelt.error().message.find("rtt_ms"), std::string::npos) << misspelt.error().message;
  auto not_object = parse_network("40");
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.error().path, "$.providers.p.network");
}

}  // namespace
}  // namespace squall::sim
