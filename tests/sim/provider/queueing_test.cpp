// The simulated provider against queueing theory: with Poisson arrivals and exponential service times,
// its capacity model is an M/M/c queue, whose mean wait is known in closed form. A provider that gets
// FIFO order, slot accounting or the clock subtly wrong drifts away from these numbers.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "sim/provider/sim_provider.hpp"
#include "tests/sim/provider/provider_test_support.hpp"

namespace squall::sim {
namespace {

// Erlang C: the probability that an arrival waits in an M/M/c queue with offered load a = lambda/mu.
double erlang_c(int c, double a) {
  double term = 1.0;  // a^k / k!
  double sum = 0.0;
  for (int k = 0; k < c; ++k) {
    sum += term;
    term *= a / (k + 1);
  }
  const double rho = a / c;
  const double top = term / (1 - rho);  // a^c / c! / (1 - rho)
  return top / (sum + top);
}

// Drives a provider with Poisson arrivals on the event loop; the provider copies what it needs from the
// call at start(), so one call context serves every arrival.
struct poisson_source final : timer_target, outcome_receiver {
  poisson_source(event_loop& l, sim_provider& p, double rate_per_s, std::uint64_t arrivals, std::uint64_t seed)
      : loop(l), provider(p), mean_gap_s(1.0 / rate_per_s), remaining(arrivals), r(seed) {
    call.req.model = "m";
    call.attempts = 1;
  }
  void start() { loop.start_timer(from_s(r.exponential(mean_gap_s)), *this, 0); }
  void on_timer(std::uint32_t) override {
    ++call.req.id;
    provider.start(call_scope{&call, time_never}, *this);
    if (--remaining > 0) start();
  }
  void on_outcome(outcome&& o) override {
    ++completed;
    ok += o.ok() ? 1U : 0U;
  }

  event_loop& loop;
  sim_provider& provider;
  double mean_gap_s;
  std::uint64_t remaining;
  rng r;
  call_context call;
  std::uint64_t completed = 0;
  std::uint64_t ok = 0;
};

struct measured {
  double wait_mean_s;
  std::uint64_t served;
};

measured run_mmc(std::uint32_t servers, double lambda, double mu, std::uint64_t arrivals, std::uint64_t seed) {
  provider_config cfg = testing::simple_config();
  cfg.slots = servers;
  cfg.queue = 1'000'000;  // effectively unbounded: the theory has no shedding
  cfg.ttft_ms = distribution::exponential(1000.0 / mu);
  cfg.ms_per_output_token = distribution::constant(0);
  event_loop loop;
  sim_provider provider(loop, cfg, stream_seed(seed, "provider"));
  poisson_source source(loop, provider, lambda, arrivals, stream_seed(seed, "arrivals"));
  source.start();
  while (loop.step()) {
  }
  EXPECT_EQ(source.completed, arrivals);
  EXPECT_EQ(source.ok, arrivals);
  EXPECT_EQ(provider.stats().shed, 0U);
  const auto& s = provider.stats();
  return measured{to_s(s.queue_wait_total) / static_cast<double>(s.service_started), s.service_started};
}

// Long enough for the mean wait to settle within about 1% (one standard error at rho = 0.8); short
// enough for a debug or sanitizer build.
constexpr std::uint64_t arrivals = 1'000'000;
constexpr double tolerance = 0.04;

TEST(Queueing, SingleSlotMatchesMM1) {
  const double mu = 100;  // mean service 10 ms
  const double rho = 0.8;
  const double lambda = rho * mu;
  const double wq = rho / (mu - lambda);  // 40 ms
  const measured m = run_mmc(1, lambda, mu, arrivals, 42);
  EXPECT_EQ(m.served, arrivals);
  EXPECT_NEAR(m.wait_mean_s / wq, 1.0, tolerance) << "measured " << m.wait_mean_s * 1e3 << " ms, M/M/1 says "
                                                  << wq * 1e3 << " ms";
  std::printf("M/M/1 rho 0.8: mean wait %.3f ms, theory %.3f ms (%+.2f%%)\n", m.wait_mean_s * 1e3, wq * 1e3,
              (m.wait_mean_s / wq - 1) * 100);
}

TEST(Queueing, FourSlotsMatchMMcWithErlangC) {
  const double mu = 100;
  const int c = 4;
  const double rho = 0.8;
  const double lambda = rho * c * mu;
  const double a = lambda / mu;
  const double wq = erlang_c(c, a) / (c * mu - lambda);
  const measured m = run_mmc(c, lambda, mu, arrivals, 43);
  EXPECT_NEAR(m.wait_mean_s / wq, 1.0, tolerance) << "measured " << m.wait_mean_s * 1e3 << " ms, M/M/" << c
                                                  << " says " << wq * 1e3 << " ms";
  std::printf("M/M/4 rho 0.8: mean wait %.3f ms, theory %.3f ms (%+.2f%%)\n", m.wait_mean_s * 1e3, wq * 1e3,
              (m.wait_mean_s / wq - 1) * 100);
}

TEST(Queueing, ErlangCReducesToRhoForOneServer) {
  EXPECT_NEAR(erlang_c(1, 0.8), 0.8, 1e-12);
  EXPECT_NEAR(erlang_c(2, 1.0), 1.0 / 3.0, 1e-12);
}

}  // namespace
}  // namespace squall::sim
