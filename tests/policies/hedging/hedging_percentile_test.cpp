// The adaptive hedge delay against known latency distributions: hedging at the p95 of single-attempt
// latencies must add about 5% attempts, as "The Tail at Scale" promises. Regression test for issue 17,
// where the percentile was taken over the winners of races only, biased low, and hedging at p95 added
// about 10% attempts with exponential latencies.

#include <cstdint>

#include <gtest/gtest.h>

#include "policies/core/rng.hpp"
#include "policies/hedging/hedging.hpp"
#include "sim/distributions/distribution.hpp"
#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_receiver;

// Every attempt answers ok after a latency drawn from `latency_ms`, independently of the others.
class drawn_latency_handler final : public handler {
 public:
  drawn_latency_handler(fake_transport& transport, sim::distribution latency_ms, std::uint64_t seed)
      : transport_(transport), latency_ms_(latency_ms), draws_(seed) {}

  operation& start(const call_scope& scope, outcome_receiver& receiver) override {
    transport_.set_latency(from_ms(latency_ms_.sample(draws_)));
    return transport_.start(scope, receiver);
  }

 private:
  fake_transport& transport_;
  sim::distribution latency_ms_;
  rng draws_;
};

// Hedges started per call over `calls_measured` sequential calls through a hedging policy at the p95,
// after one latency window of calls that fills the window.
double hedges_per_call_at_p95(sim::distribution latency_ms, std::uint64_t seed, int calls_measured) {
  sim::event_loop loop;
  testing::recording_sink sink;
  fake_transport transport(loop, from_ms(1), [](const call_context&, std::uint32_t) { return outcome{}; });
  drawn_latency_handler attempts(transport, latency_ms, seed);
  hedging_options o;
  o.delay_percentile = 0.95;
  o.hedges_max = 1;
  hedging_handler policy(o, "hedge", policy_environment{loop, sink, 1}, attempts);
  auto run_calls = [&](int calls) {
    for (int i = 0; i < calls; ++i) {
      call_context ctx;
      recording_receiver receiver;
      policy.start(call_scope{&ctx, time_never}, receiver);
      loop.run();
      EXPECT_EQ(receiver.calls, 1);
    }
  };
  run_calls(static_cast<int>(o.latency_window));
  const int started_before = transport.started();
  run_calls(calls_measured);
  return static_cast<double>(transport.started() - started_before - calls_measured) / calls_measured;
}

// With the percentile over the winners of races, these gave 0.098 (exponential) and 0.120 (lognormal).
// The estimate is still a little high, about 0.053 and 0.052 over seeds: 0.001 is the nearest-rank
// percentile of a 1000-latency window (a new latency lies above its 950th smallest with odds 51/1001),
// and the rest comes from first attempts cancelled at a lower delay than the one the window has moved to.
TEST(hedging_percentile, hedging_at_the_p95_of_exponential_latencies_adds_five_percent_attempts) {
  const double rate = hedges_per_call_at_p95(sim::distribution::exponential(100), 1, 20000);
  EXPECT_NEAR(rate, 0.05, 0.005) << "hedges per call, exponential latencies of mean 100 ms";
}

TEST(hedging_percentile, hedging_at_the_p95_of_lognormal_latencies_adds_five_percent_attempts) {
  // A heavy tail (p95 = 5.2 times the median), where a hedge overtakes a slow first attempt more often.
  const double rate = hedges_per_call_at_p95(sim::distribution::lognormal(100, 1.0), 1, 20000);
  EXPECT_NEAR(rate, 0.05, 0.005) << "hedges per call, lognormal latencies of median 100 ms, sigma 1";
}

}  // namespace
}  // namespace squall
