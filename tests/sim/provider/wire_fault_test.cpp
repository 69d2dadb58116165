// Wire faults (malformed body, stream cut, error event after a 200, slow first token) as the simulated
// provider plays them: the outcome a client of the HTTP fake providers would see, at the same time.
#include <gtest/gtest.h>

#include "sim/provider/sim_provider.hpp"
#include "tests/sim/provider/provider_test_support.hpp"

namespace squall::sim {
namespace {

using namespace std::chrono_literals;
using testing::billing_listener;
using testing::client;
using testing::simple_config;
using testing::window;

constexpr std::uint64_t wire_seed = 99;

provider_config with_wire(wire_mix mix) {
  provider_config cfg = simple_config();
  fault_window w = window(0, 100);
  w.wire = mix;
  cfg.faults = {w};
  return cfg;
}

TEST(WireFault, MalformedBodyIsAServerErrorAtTheEndOfServiceBilledButUnused) {
  event_loop loop;
  billing_listener bill;
  sim_provider p(loop, with_wire({.malformed = 1.0}), wire_seed, &bill);
  client c(loop, 1, 50);
  c.send(p);
  loop.run();
  ASSERT_EQ(c.received, 1);
  EXPECT_EQ(c.got->kind, outcome_class::server_error);
  EXPECT_EQ(c.got->http_status, 200);
  EXPECT_EQ(c.got->latency, from_ms(100 + 50 * 10));
  EXPECT_EQ(c.got->cost_usd, 0.0);
  EXPECT_EQ(bill.calls, 1);
  EXPECT_DOUBLE_EQ(bill.total_usd, 1000 * 1.0 / 1e6 + 50 * 2.0 / 1e6);
  EXPECT_EQ(p.stats().wire_faults, 1U);
  EXPECT_EQ(p.stats().abandoned, 0U);
}

TEST(WireFault, StreamCutIsAConnectionErrorHalfwayThroughTheTokensWhileTheSlotStaysBusy) {
  event_loop loop;
  billing_listener bill;
  sim_provider p(loop, with_wire({.stream_cut = 1.0}), wire_seed, &bill);
  client c(loop, 1, 50);
  c.send(p);
  loop.run_until(loop.now() + 400ms);  // cut at 100 + 25 * 10 = 350 ms
  ASSERT_EQ(c.received, 1);
  EXPECT_EQ(c.got->kind, outcome_class::connection_error);
  EXPECT_EQ(c.got->http_status, 200) << "the head was sent before the cut, as the HTTP fake does";
  EXPECT_EQ(c.got->latency, 350ms);
  EXPECT_EQ(p.busy(), 1U) << "the server does not know the stream broke";
  loop.run();
  EXPECT_EQ(c.received, 1);
  EXPECT_EQ(p.busy(), 0U);
  EXPECT_EQ(bill.calls, 1);
  EXPECT_EQ(p.stats().wire_faults, 1U);
  EXPECT_EQ(p.stats().abandoned, 0U);
  EXPECT_EQ(p.live_attempts(), 0U);
}

TEST(WireFault, ErrorEventIsOverloadedHalfwayWithTheShedStatus) {
  event_loop loop;
  provider_config cfg = with_wire({.error_event = 1.0});
  cfg.api = "anthropic";
  sim_provider p(loop, cfg, wire_seed);
  client c(loop, 1, 50);
  c.send(p);
  loop.run();
  ASSERT_EQ(c.received, 1);
  EXPECT_EQ(c.got->kind, outcome_class::overloaded);
  EXPECT_EQ(c.got->http_status, 529);
  EXPECT_EQ(c.got->latency, 350ms);
}

TEST(WireFault, CancelledBeforeTheCutCountsAsAbandonedAndHearsNothing) {
  event_loop loop;
  sim_provider p(loop, with_wire({.stream_cut = 1.0}), wire_seed);
  client c(loop, 1, 50);
  operation& op = c.send(p);
  loop.run_until(loop.now() + 200ms);
  op.cancel();
  loop.run();
  EXPECT_EQ(c.received, 0);
  EXPECT_EQ(p.stats().abandoned, 1U);
  EXPECT_EQ(p.stats().wire_faults, 0U);
}

TEST(WireFault, MixSplitsAttemptsByProbabilityAndLeavesTheRestServed) {
  event_loop loop;
  provider_config cfg = with_wire({.malformed = 0.2, .stream_cut = 0.2, .error_event = 0.2});
  cfg.slots = 1000;  // no shedding: every overloaded answer is an error event
  sim_provider p(loop, cfg, wire_seed);
  std::vector<std::unique_ptr<client>> clients;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    clients.push_back(std::make_unique<client>(loop, i + 1, 1));
    clients.back()->send(p);
    loop.run_until(loop.now() + 1ms);
  }
  loop.run();
  int ok = 0, server = 0, conn = 0, over = 0;
  for (const auto& c : clients) {
    ASSERT_EQ(c->received, 1);
    ok += c->got->kind == outcome_class::ok;
    server += c->got->kind == outcome_class::server_error;
    conn += c->got->kind == outcome_class::connection_error;
    over += c->got->kind == outcome_class::overloaded;
  }
  // 2000 draws at p = 0.2 and 0.4: a band of about five standard deviations.
  EXPECT_NEAR(server, 400, 90);
  EXPECT_NEAR(conn, 400, 90);
  EXPECT_NEAR(over, 400, 90);
  EXPECT_NEAR(ok, 800, 110);
}

TEST(WireFault, SlowFirstTokenStretchesOnlyTheTimeToFirstToken) {
  event_loop loop;
  provider_config cfg = simple_config();
  fault_window w = window(0, 100);
  w.ttft_x = 10;
  cfg.faults = {w};
  sim_provider p(loop, cfg, wire_seed);
  client c(loop, 1, 50);
  c.send(p);
  loop.run();
  ASSERT_EQ(c.received, 1);
  EXPECT_TRUE(c.got->ok());
  EXPECT_EQ(c.got->time_to_first_token, std::optional<duration>{1000ms});
  EXPECT_EQ(c.got->latency, from_ms(1000 + 50 * 10));
}

TEST(WireFault, ConfigParsesWireAndTtftAndRejectsOverfullMixes) {
  const json ok = json::parse(R"({"at_s": 1, "for_s": 2, "ttft_x": 5,
                                  "wire": {"malformed": 0.1, "stream_cut": 0.2, "error_event": 0.3}})");
  auto w = parse_fault_window(ok, "$.f");
  ASSERT_TRUE(w.ok()) << w.error().describe();
  EXPECT_EQ(w->ttft_x, 5);
  EXPECT_DOUBLE_EQ(w->wire.malformed, 0.1);
  EXPECT_DOUBLE_EQ(w->wire.stream_cut, 0.2);
  EXPECT_DOUBLE_EQ(w->wire.error_event, 0.3);

  auto over = parse_fault_window(json::parse(R"({"at_s": 1, "for_s": 2, "wire": {"malformed": 0.6, "stream_cut": 0.6}})"), "$.f");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().path, "$.f.wire");
  EXPECT_NE(over.error().message.find("sum to at most 1"), std::string::npos);

  auto typo = parse_fault_window(json::parse(R"({"at_s": 1, "for_s": 2, "wire": {"malformd": 0.5}})"), "$.f");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.error().path, "$.f.wire");
  EXPECT_NE(typo.error().message.find("malformed"), std::string::npos) << typo.error().message;
}

TEST(WireFault, SetFaultsReplacesTheTimelineButKeepsTheRateLimitBuckets) {
  provider_config cfg = simple_config();
  cfg.rpm = 2;
  provider_model m(cfg);
  request req;
  req.model = "m";
  attempt_draws d;
  EXPECT_EQ(m.admit(time_point{}, req, d).kind, admission_kind::serve);
  fault_window w = window(1, 1);
  w.outage = outage_kind::hang;
  m.set_faults({w});
  EXPECT_EQ(m.admit(time_point{} + 1500ms, req, d).kind, admission_kind::hang);
  // One request left in the bucket (plus a little refill), so the next two: one served, one limited.
  EXPECT_EQ(m.admit(time_point{} + 2500ms, req, d).kind, admission_kind::serve);
  EXPECT_EQ(m.admit(time_point{} + 2500ms, req, d).kind, admission_kind::rate_limited);
}

}  // namespace
}  // namespace squall::sim
