#include "sim/provider/sim_transport.hpp"

#include <gtest/gtest.h>

#include "sim/provider/sim_provider.hpp"
#include "tests/sim/provider/provider_test_support.hpp"

namespace squall::sim {
namespace {

using namespace std::chrono_literals;
using testing::client;
using testing::simple_config;

// Calls the transport directly: it, not the test, counts attempts.
operation& start(handler& h, client& c) { return h.start(call_scope{&c.call, time_never}, c); }

struct two_providers {
  two_providers() : openai(loop, openai_config(), 1), anthropic(loop, anthropic_config(), 2), transport(loop) {
    transport.add_route("openai", openai);
    transport.add_route("anthropic", anthropic);
  }
  static provider_config openai_config() {
    provider_config c = simple_config();
    c.name = "openai";
    return c;
  }
  static provider_config anthropic_config() {
    provider_config c = simple_config();
    c.name = "anthropic";
    c.api = "anthropic";
    c.ttft_ms = distribution::constant(300);
    return c;
  }
  event_loop loop;
  sim_provider openai;
  sim_provider anthropic;
  sim_transport transport;
};

TEST(SimTransport, RoutesByProviderNameAndDefaultsToTheFirstRoute) {
  two_providers t;
  client named(t.loop, 1), unnamed(t.loop, 2);
  named.call.req.provider = "anthropic";
  start(t.transport, named);
  start(t.transport, unnamed);
  t.loop.run();
  EXPECT_EQ(named.got->provider, "anthropic");
  EXPECT_EQ(named.latency_ms(), 300);
  EXPECT_EQ(unnamed.got->provider, "openai");
  EXPECT_EQ(t.openai.stats().arrivals, 1U);
  EXPECT_EQ(t.anthropic.stats().arrivals, 1U);
  EXPECT_EQ(t.transport.live_relays(), 0U);
}

TEST(SimTransport, ExplicitDefaultRoute) {
  event_loop loop;
  sim_provider a(loop, simple_config(), 1);
  provider_config bc = simple_config();
  bc.name = "b";
  sim_provider b(loop, bc, 2);
  sim_transport transport(loop);
  transport.add_route("prov", a);
  transport.add_route("b", b, true);
  client c(loop);
  start(transport, c);
  loop.run();
  EXPECT_EQ(c.got->provider, "b");
}

TEST(SimTransport, CountsAttemptsAndAddsDeliveredCostToTheCall) {
  two_providers t;
  client c(t.loop, 1, 100);
  start(t.transport, c);
  EXPECT_EQ(c.call.attempts, 1U);
  t.loop.run();
  const double one = 1000 * 1.0 / 1e6 + 100 * 2.0 / 1e6;
  EXPECT_DOUBLE_EQ(c.got->cost_usd, one);
  EXPECT_DOUBLE_EQ(c.call.cost_usd, one);
  start(t.transport, c);
  EXPECT_EQ(c.call.attempts, 2U);
  t.loop.run();
  EXPECT_DOUBLE_EQ(c.call.cost_usd, 2 * one);
}

TEST(SimTransport, TheProviderSeesTheAttemptNumberTheTransportCounted) {
  // Counter-based draws key on the attempt number: attempt 2 through the transport must draw like
  // attempt 2 sent straight to an identical provider.
  provider_config cfg = simple_config();
  cfg.ttft_ms = distribution::lognormal(400, 0.8);
  event_loop loop;
  sim_provider via(loop, cfg, 7), direct(loop, cfg, 7);
  sim_transport transport(loop);
  transport.add_route("prov", via);
  client a(loop, 42), b(loop, 42);
  a.call.attempts = 1;
  start(transport, a);
  b.call.attempts = 1;
  b.send(direct);
  loop.run();
  EXPECT_EQ(a.call.attempts, 2U);
  EXPECT_EQ(a.got->latency, b.got->latency);
}

TEST(SimTransport, UnknownProviderFailsAsInvalidRequestButNotFromInsideStart) {
  two_providers t;
  client c(t.loop);
  c.call.req.provider = "gemini";
  start(t.transport, c);
  EXPECT_EQ(c.received, 0);
  t.loop.run();
  ASSERT_EQ(c.received, 1);
  EXPECT_EQ(c.got->kind, outcome_class::invalid_request);
  EXPECT_EQ(t.transport.unroutable(), 1U);
  EXPECT_EQ(t.loop.now(), time_point{});
}

TEST(SimTransport, CancelPropagatesToTheProvider) {
  two_providers t;
  client c(t.loop), lost(t.loop, 2);
  lost.call.req.provider = "nowhere";
  operation& op = start(t.transport, c);
  operation& op_lost = start(t.transport, lost);
  EXPECT_EQ(t.openai.busy(), 1U);
  op_lost.cancel();  // before its zero-delay answer fires
  t.loop.run_until(time_point{10ms});
  op.cancel();
  EXPECT_EQ(t.transport.live_relays(), 0U);
  t.loop.run();
  EXPECT_EQ(c.received, 0);
  EXPECT_EQ(lost.received, 0);
  EXPECT_EQ(t.openai.stats().abandoned, 1U) << "the provider went on with the work and billed it";
  EXPECT_DOUBLE_EQ(c.call.cost_usd, 0.0) << "nothing was delivered to the call";
}

}  // namespace
}  // namespace squall::sim
