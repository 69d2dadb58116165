#include "sim/provider/provider_model.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "tests/sim/provider/provider_test_support.hpp"

namespace squall::sim {
namespace {

using namespace std::chrono_literals;
using testing::simple_config;
using testing::window;

request req(std::uint32_t in = 1000, std::uint32_t out = 0, std::string model = "m") {
  request r;
  r.model = std::move(model);
  r.input_tokens = in;
  r.output_tokens = out;
  return r;
}

time_point at_s(double s) { return time_point{from_s(s)}; }

TEST(ProviderModel, FaultWindowsSwitchExactlyAtTheirEdges) {
  provider_config c = simple_config();
  fault_window a = window(120, 60);
  a.latency_x = 10;
  fault_window b = window(180, 30);  // adjacent: starts when a ends
  b.outage = outage_kind::refuse;
  c.faults = {a, b};
  provider_model m(c);
  const duration ns{1};
  EXPECT_EQ(m.window_at(at_s(0)), nullptr);
  EXPECT_EQ(m.window_at(at_s(120) - ns), nullptr);
  ASSERT_NE(m.window_at(at_s(120)), nullptr);
  EXPECT_EQ(m.window_at(at_s(120))->latency_x, 10);
  EXPECT_EQ(m.latency_x_at(at_s(179.5)), 10);
  EXPECT_EQ(m.latency_x_at(at_s(180) - ns), 10);
  ASSERT_NE(m.window_at(at_s(180)), nullptr);
  EXPECT_EQ(m.window_at(at_s(180))->outage, outage_kind::refuse);
  EXPECT_EQ(m.window_at(at_s(210) - ns)->outage, outage_kind::refuse);
  EXPECT_EQ(m.window_at(at_s(210)), nullptr);
  EXPECT_EQ(m.latency_x_at(at_s(210)), 1.0);
  // Going back in time finds the right window again (a real-clock caller may ask out of order).
  EXPECT_EQ(m.window_at(at_s(150))->latency_x, 10);
  EXPECT_EQ(m.window_at(at_s(10)), nullptr);
  EXPECT_EQ(m.window_at(at_s(200))->outage, outage_kind::refuse);
}

TEST(ProviderModel, WindowsCountFromTheOrigin) {
  provider_config c = simple_config();
  fault_window w = window(10, 5);
  w.latency_x = 3;
  c.faults = {w};
  provider_model m(c, at_s(1000));
  EXPECT_EQ(m.latency_x_at(at_s(15)), 1.0);
  EXPECT_EQ(m.latency_x_at(at_s(1010)), 3.0);
  EXPECT_EQ(m.latency_x_at(at_s(1015)), 1.0);
}

TEST(ProviderModel, UnsortedOverlappingWindowsFromCodeGetTheLaterWindow) {
  provider_config c = simple_config();
  fault_window late = window(20, 10);
  late.latency_x = 5;
  fault_window early = window(10, 15);  // overlaps `late` from 20 to 25
  early.latency_x = 2;
  c.faults = {late, early};
  provider_model m(c);
  EXPECT_EQ(m.latency_x_at(at_s(15)), 2);
  EXPECT_EQ(m.latency_x_at(at_s(22)), 5);
  EXPECT_EQ(m.latency_x_at(at_s(29)), 5);
  EXPECT_EQ(m.latency_x_at(at_s(30)), 1);
}

TEST(ProviderModel, ErrorMixFrequenciesMatchTheProbabilities) {
  provider_config c = simple_config();
  c.errors = {{500, 0.10}, {503, 0.20}, {429, 0.05}};
  provider_model m(c);
  rng r(99);
  std::map<int, int> counts;
  constexpr int n = 200'000;
  for (int i = 0; i < n; ++i) {
    const admission a = m.admit(at_s(1), req(), m.draw(r));
    counts[a.kind == admission_kind::serve ? 200 : a.http_status]++;
    if (a.kind == admission_kind::injected) {
      EXPECT_EQ(a.cls, a.http_status == 429 ? outcome_class::rate_limited
                       : a.http_status == 503 ? outcome_class::overloaded
                                              : outcome_class::server_error);
      EXPECT_FALSE(a.retry_after.has_value()) << "baseline errors carry no hint";
    }
  }
  for (auto [status, p] : std::map<int, double>{{500, 0.10}, {503, 0.20}, {429, 0.05}, {200, 0.65}}) {
    const double sigma = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(static_cast<double>(counts[status]) / n, p, 5 * sigma) << status;
  }
}

TEST(ProviderModel, AWindowsMixReplacesTheBaselineAndCarriesItsRetryHint) {
  provider_config c = simple_config();
  c.errors = {{500, 1.0}};
  fault_window w = window(10, 10);
  w.errors = {{503, 1.0}};
  w.retry_after_s = 2;
  fault_window slow = window(30, 10);
  slow.latency_x = 4;  // no errors: inside it, there are none
  c.faults = {w, slow};
  provider_model m(c);
  rng r(1);
  admission a = m.admit(at_s(5), req(), m.draw(r));
  EXPECT_EQ(a.http_status, 500);
  a = m.admit(at_s(10), req(), m.draw(r));
  EXPECT_EQ(a.kind, admission_kind::injected);
  EXPECT_EQ(a.http_status, 503);
  EXPECT_EQ(a.cls, outcome_class::overloaded);
  EXPECT_EQ(a.retry_after, std::optional<duration>{2s});
  a = m.admit(at_s(35), req(), m.draw(r));
  EXPECT_EQ(a.kind, admission_kind::serve);
  a = m.admit(at_s(40), req(), m.draw(r));
  EXPECT_EQ(a.http_status, 500);
}

TEST(ProviderModel, OutagesComeBeforeEverythingElse) {
  provider_config c = simple_config();
  c.errors = {{500, 1.0}};
  fault_window w = window(0, 10);
  w.outage = outage_kind::reset;
  c.faults = {w};
  provider_model m(c);
  rng r(1);
  const admission a = m.admit(at_s(1), req(1000, 0, "no-such-model"), m.draw(r));
  EXPECT_EQ(a.kind, admission_kind::reset);
  EXPECT_EQ(a.cls, outcome_class::connection_error);
}

TEST(ProviderModel, UnknownModelIs404AndEmptyMeansTheFirstModel) {
  provider_model m(simple_config());
  rng r(1);
  admission a = m.admit(at_s(0), req(1000, 0, "gpt-5"), m.draw(r));
  EXPECT_EQ(a.kind, admission_kind::unknown_model);
  EXPECT_EQ(a.http_status, 404);
  EXPECT_EQ(a.cls, outcome_class::invalid_request);
  a = m.admit(at_s(0), req(1000, 0, ""), m.draw(r));
  EXPECT_EQ(a.kind, admission_kind::serve);
  EXPECT_EQ(a.model_index, 0U);
  a = m.admit(at_s(0), req(1000, 0, "big"), m.draw(r));
  EXPECT_EQ(a.model_index, 1U);
}

TEST(ProviderModel, RequestsPerMinuteBucketAndItsRetryHint) {
  provider_config c = simple_config();
  c.rpm = 60;  // one per second, a minute's worth in the bucket
  provider_model m(c);
  rng r(1);
  for (int i = 0; i < 60; ++i) ASSERT_EQ(m.admit(at_s(0), req(), m.draw(r)).kind, admission_kind::serve) << i;
  admission a = m.admit(at_s(0), req(), m.draw(r));
  EXPECT_EQ(a.kind, admission_kind::rate_limited);
  EXPECT_EQ(a.http_status, 429);
  EXPECT_EQ(a.retry_after, std::optional<duration>{1s});
  // 0.25 s later, a quarter token: still 1 s (rounded up), and the refused attempt took nothing.
  a = m.admit(at_s(0.25), req(), m.draw(r));
  EXPECT_EQ(a.retry_after, std::optional<duration>{1s});
  // Exactly when the token is due, it is there.
  EXPECT_EQ(m.admit(at_s(1), req(), m.draw(r)).kind, admission_kind::serve);
  EXPECT_EQ(m.admit(at_s(1), req(), m.draw(r)).kind, admission_kind::rate_limited);
  // After 2.5 s idle: two tokens; the third waits 0.5 s, hinted as 1 s.
  EXPECT_EQ(m.admit(at_s(3.5), req(), m.draw(r)).kind, admission_kind::serve);
  EXPECT_EQ(m.admit(at_s(3.5), req(), m.draw(r)).kind, admission_kind::serve);
  a = m.admit(at_s(3.5), req(), m.draw(r));
  EXPECT_EQ(a.kind, admission_kind::rate_limited);
  EXPECT_EQ(a.retry_after, std::optional<duration>{1s});
  EXPECT_NEAR(m.requests_remaining(at_s(3.5)), 0.5, 1e-6);
}

TEST(ProviderModel, TokensPerMinuteCountInputAndOutput) {
  provider_config c = simple_config();
  c.tpm = 6000;  // 100 tokens per second
  provider_model m(c);
  rng r(1);
  for (int i = 0; i < 6; ++i) ASSERT_EQ(m.admit(at_s(0), req(600, 400), m.draw(r)).kind, admission_kind::serve);
  admission a = m.admit(at_s(0), req(600, 400), m.draw(r));
  EXPECT_EQ(a.kind, admission_kind::rate_limited);
  EXPECT_EQ(a.retry_after, std::optional<duration>{10s});  // 1000 tokens at 100/s
  // A small request needs less: 50 tokens after 0.2 s of refill is 0.3 s away, hinted as 1 s.
  a = m.admit(at_s(0.2), req(50, 0), m.draw(r));
  EXPECT_EQ(a.kind, admission_kind::rate_limited);
  EXPECT_EQ(a.retry_after, std::optional<duration>{1s});
  EXPECT_EQ(m.admit(at_s(0.5), req(50, 0), m.draw(r)).kind, admission_kind::serve);
  EXPECT_NEAR(m.tokens_remaining(at_s(0.5)), 0, 1e-6);
}

TEST(ProviderModel, ARequestBiggerThanAMinuteOfTokensIsRefusedWithoutAHint) {
  provider_config c = simple_config();
  c.tpm = 1000;
  provider_model m(c);
  rng r(1);
  const admission a = m.admit(at_s(0), req(900, 200), m.draw(r));
  EXPECT_EQ(a.kind, admission_kind::rate_limited);
  EXPECT_FALSE(a.retry_after.has_value());
  EXPECT_EQ(m.tokens_remaining(at_s(0)), 1000);
}

TEST(ProviderModel, ServicePlanAppliesWindowFactorAndSlowdown) {
  provider_config c = simple_config();
  c.slowdown = 2.0;
  provider_model m(c);
  rng r(1);
  const attempt_draws d = m.draw(r);
  EXPECT_EQ(d.ttft_ms, 100);
  EXPECT_EQ(d.ms_per_output_token, 10);
  // (100 + 50 * 10) * 3 * (1 + 2 * 2/4) = 600 * 3 * 2
  const service_plan p = m.plan_service(d, 50, 3.0, 2);
  EXPECT_EQ(p.total, from_ms(3600));
  EXPECT_EQ(p.ttft, from_ms(600));
}

TEST(ProviderModel, CostArithmetic) {
  provider_config c = simple_config();
  c.models = {{"gpt-4o-mini", model_price{0.15, 0.60}}, {"claude", model_price{3, 15}}};
  provider_model m(c);
  EXPECT_DOUBLE_EQ(m.cost_usd(0, 1'000'000, 1'000'000), 0.75);
  EXPECT_DOUBLE_EQ(m.cost_usd(0, 2000, 500), 2000 * 0.15 / 1e6 + 500 * 0.60 / 1e6);
  EXPECT_DOUBLE_EQ(m.cost_usd(1, 1000, 1000), 0.003 + 0.015);
  EXPECT_DOUBLE_EQ(m.cost_usd(1, 0, 0), 0.0);
}

TEST(ProviderModel, CapacityAndShedStatus) {
  provider_config c = simple_config();
  provider_model openai(c);
  EXPECT_EQ(openai.place(3, 0), capacity_decision::start);
  EXPECT_EQ(openai.place(4, 7), capacity_decision::enqueue);
  EXPECT_EQ(openai.place(4, 8), capacity_decision::shed);
  EXPECT_EQ(openai.shed_status(), 503);
  c.api = "anthropic";
  provider_model anthropic(c);
  EXPECT_EQ(anthropic.shed_status(), 529);
  c.api = "gemini";
  provider_model gemini(c);
  EXPECT_EQ(gemini.shed_status(), 503) << "503 UNAVAILABLE";
}

TEST(ProviderModel, DrawsAreAFunctionOfTheSeedOnly) {
  provider_config c = simple_config();
  c.ttft_ms = distribution::lognormal(400, 0.5);
  c.error_latency_ms = distribution::uniform(10, 50);
  provider_model m(c);
  rng a(mix_seed(5, 6));
  rng b(mix_seed(5, 6));
  const attempt_draws x = m.draw(a);
  const attempt_draws y = m.draw(b);
  EXPECT_EQ(x.error_u, y.error_u);
  EXPECT_EQ(x.ttft_ms, y.ttft_ms);
  EXPECT_EQ(x.error_latency_ms, y.error_latency_ms);
}

}  // namespace
}  // namespace squall::sim
