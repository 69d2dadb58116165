#include "sim/provider/sim_provider.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "tests/sim/provider/provider_test_support.hpp"

namespace squall::sim {
namespace {

using namespace std::chrono_literals;
using testing::billing_listener;
using testing::client;
using testing::simple_config;
using testing::window;

constexpr std::uint64_t root_seed = 1234;

TEST(SimProvider, ServesWithTtftPlusTokensAndBills) {
  event_loop loop;
  sim_provider p(loop, simple_config(), root_seed);
  client c(loop, 1, 50);
  c.send(p);
  EXPECT_EQ(c.received, 0) << "never delivered from inside start()";
  EXPECT_EQ(p.busy(), 1U);
  loop.run();
  ASSERT_EQ(c.received, 1);
  const outcome& o = *c.got;
  EXPECT_TRUE(o.ok());
  EXPECT_EQ(o.http_status, 200);
  EXPECT_EQ(o.latency, from_ms(100 + 50 * 10));
  EXPECT_EQ(o.time_to_first_token, std::optional<duration>{from_ms(100)});
  EXPECT_EQ(o.input_tokens, 1000U);
  EXPECT_EQ(o.output_tokens, 50U);
  EXPECT_DOUBLE_EQ(o.cost_usd, 1000 * 1.0 / 1e6 + 50 * 2.0 / 1e6);
  EXPECT_EQ(o.provider, "prov");
  EXPECT_EQ(o.model, "m");
  EXPECT_EQ(p.stats().served, 1U);
  EXPECT_EQ(p.in_flight(), 0U);
  EXPECT_EQ(p.live_attempts(), 0U);
}

TEST(SimProvider, RefuseAnswersAConnectionErrorWithinAMillisecond) {
  event_loop loop;
  provider_config cfg = simple_config();
  fault_window w = window(0, 10);
  w.outage = outage_kind::refuse;
  cfg.faults = {w};
  sim_provider p(loop, cfg, root_seed);
  client c(loop);
  c.send(p);
  loop.run();
  ASSERT_EQ(c.received, 1);
  EXPECT_EQ(c.got->kind, outcome_class::connection_error);
  EXPECT_EQ(c.got->http_status, 0);
  EXPECT_EQ(c.got->latency, 1ms);
  EXPECT_EQ(p.stats().refused, 1U);
}

TEST(SimProvider, ResetAnswersAConnectionErrorAfterTheErrorLatency) {
  event_loop loop;
  provider_config cfg = simple_config();
  fault_window w = window(0, 10);
  w.outage = outage_kind::reset;
  cfg.faults = {w};
  sim_provider p(loop, cfg, root_seed);
  client c(loop);
  c.send(p);
  loop.run();
  ASSERT_EQ(c.received, 1);
  EXPECT_EQ(c.got->kind, outcome_class::connection_error);
  EXPECT_EQ(c.got->latency, 30ms);
  EXPECT_EQ(p.stats().reset, 1U);
}

TEST(SimProvider, HangNeverAnswersUntilCancelledThenFreesAtOnce) {
  event_loop loop;
  provider_config cfg = simple_config();
  fault_window w = window(0, 10);
  w.outage = outage_kind::hang;
  cfg.faults = {w};
  sim_provider p(loop, cfg, root_seed);
  client c(loop);
  operation& op = c.send(p);
  loop.run_until(time_point{3600s});
  EXPECT_EQ(c.received, 0);
  EXPECT_EQ(p.hung(), 1U);
  EXPECT_EQ(p.in_flight(), 1U);
  EXPECT_EQ(p.busy(), 0U) << "a hung attempt does no work";
  op.cancel();
  EXPECT_EQ(p.hung(), 0U);
  EXPECT_EQ(p.in_flight(), 0U);
  EXPECT_EQ(p.live_attempts(), 0U);
  loop.run();
  EXPECT_EQ(c.received, 0);
}

TEST(SimProvider, HangEndsForNewArrivalsWhenTheWindowEnds) {
  event_loop loop;
  provider_config cfg = simple_config();
  fault_window w = window(0, 10);
  w.outage = outage_kind::hang;
  cfg.faults = {w};
  sim_provider p(loop, cfg, root_seed);
  client before(loop, 1), edge(loop, 2);
  loop.run_until(time_point{10s} - duration{1});
  before.send(p);
  loop.run_until(time_point{10s});
  edge.send(p);
  loop.run();
  EXPECT_EQ(before.received, 0);
  ASSERT_EQ(edge.received, 1);
  EXPECT_TRUE(edge.got->ok());
}

TEST(SimProvider, InjectedErrorsCarryTheWindowsRetryHint) {
  event_loop loop;
  provider_config cfg = simple_config();
  fault_window w = window(0, 10);
  w.errors = {{503, 1.0}};
  w.retry_after_s = 2;
  cfg.faults = {w};
  sim_provider p(loop, cfg, root_seed);
  client c(loop);
  c.send(p);
  loop.run();
  ASSERT_EQ(c.received, 1);
  EXPECT_EQ(c.got->kind, outcome_class::overloaded);
  EXPECT_EQ(c.got->http_status, 503);
  EXPECT_EQ(c.got->retry_after, std::optional<duration>{2s});
  EXPECT_EQ(c.got->latency, 30ms);
  EXPECT_EQ(c.got->cost_usd, 0.0);
  EXPECT_EQ(c.got->model, "m");
  EXPECT_EQ(p.stats().injected_errors, 1U);
  EXPECT_EQ(p.busy(), 0U);
}

TEST(SimProvider, UnknownModelGets404) {
  event_loop loop;
  sim_provider p(loop, simple_config(), root_seed);
  client c(loop);
  c.call.req.model = "gpt-7";
  c.send(p);
  loop.run();
  ASSERT_EQ(c.received, 1);
  EXPECT_EQ(c.got->kind, outcome_class::invalid_request);
  EXPECT_EQ(c.got->http_status, 404);
  EXPECT_TRUE(c.got->model.empty());
}

TEST(SimProvider, RateLimitBurstBeyondTheBucketGets429WithTheRightHint) {
  event_loop loop;
  provider_config cfg = simple_config();
  cfg.rpm = 120;  // two per second; a minute's worth (120) in the bucket
  cfg.slots = 1000;
  sim_provider p(loop, cfg, root_seed);
  std::vector<std::unique_ptr<client>> clients;
  for (std::uint64_t i = 0; i < 125; ++i) {
    clients.push_back(std::make_unique<client>(loop, i + 1));
    clients.back()->send(p);
  }
  loop.run();
  int ok = 0, limited = 0;
  for (const auto& c : clients) {
    ASSERT_EQ(c->received, 1);
    if (c->got->ok()) {
      ++ok;
    } else {
      ++limited;
      EXPECT_EQ(c->got->kind, outcome_class::rate_limited);
      EXPECT_EQ(c->got->http_status, 429);
      EXPECT_EQ(c->got->latency, 30ms) << "answered after the error latency";
      // 1/2 s until the next token, rounded up to a whole second.
      EXPECT_EQ(c->got->retry_after, std::optional<duration>{1s});
    }
  }
  EXPECT_EQ(ok, 120);
  EXPECT_EQ(limited, 5);
  EXPECT_EQ(p.stats().rate_limited, 5U);
  // Obeying the hint works: the client that retries after it is served.
  client again(loop, 999);
  loop.run_until(time_point{1s});
  again.send(p);
  loop.run();
  EXPECT_TRUE(again.got->ok());
}

TEST(SimProvider, FullQueueShedsWith503ForOpenai) {
  event_loop loop;
  provider_config cfg = simple_config();
  cfg.slots = 2;
  cfg.queue = 3;
  sim_provider p(loop, cfg, root_seed);
  std::vector<std::unique_ptr<client>> cs;
  for (std::uint64_t i = 0; i < 6; ++i) {
    cs.push_back(std::make_unique<client>(loop, i + 1));
    cs.back()->send(p);
  }
  EXPECT_EQ(p.busy(), 2U);
  EXPECT_EQ(p.queue_depth(), 3U);
  EXPECT_EQ(p.in_flight(), 5U);
  loop.run();
  EXPECT_EQ(cs[0]->latency_ms(), 100);
  EXPECT_EQ(cs[1]->latency_ms(), 100);
  EXPECT_EQ(cs[2]->latency_ms(), 200);
  EXPECT_EQ(cs[3]->latency_ms(), 200);
  EXPECT_EQ(cs[4]->latency_ms(), 300);
  EXPECT_EQ(cs[2]->got->time_to_first_token, std::optional<duration>{200ms}) << "queue wait + ttft";
  EXPECT_EQ(cs[5]->got->kind, outcome_class::overloaded);
  EXPECT_EQ(cs[5]->got->http_status, 503);
  EXPECT_EQ(cs[5]->latency_ms(), 30);
  EXPECT_EQ(p.stats().shed, 1U);
  EXPECT_EQ(p.stats().queue_wait_total, 100ms + 100ms + 200ms);
}

TEST(SimProvider, AnthropicShedsWith529) {
  event_loop loop;
  provider_config cfg = simple_config();
  cfg.api = "anthropic";
  cfg.slots = 1;
  cfg.queue = 0;
  sim_provider p(loop, cfg, root_seed);
  client a(loop, 1), b(loop, 2);
  a.send(p);
  b.send(p);
  loop.run();
  EXPECT_TRUE(a.got->ok());
  EXPECT_EQ(b.got->http_status, 529);
  EXPECT_EQ(b.got->kind, outcome_class::overloaded);
}

TEST(SimProvider, AbandonedWorkKeepsItsSlotAndIsBilled) {
  event_loop loop;
  provider_config cfg = simple_config();
  cfg.slots = 1;
  billing_listener bills;
  sim_provider p(loop, cfg, root_seed, &bills);
  client a(loop, 1), b(loop, 2), c(loop, 3), d(loop, 4);
  operation& op_a = a.send(p);  // in service 0..100
  b.send(p);                     // queued, serves 100..200
  operation& op_c = c.send(p);  // queued, serves 200..300 though abandoned
  d.send(p);                     // queued, serves 300..400
  loop.run_until(time_point{50ms});
  op_a.cancel();
  op_c.cancel();
  EXPECT_EQ(p.busy(), 1U) << "the server does not know the caller left";
  EXPECT_EQ(p.queue_depth(), 3U);
  loop.run();
  EXPECT_EQ(a.received, 0);
  EXPECT_EQ(c.received, 0);
  EXPECT_EQ(b.latency_ms(), 200) << "the abandoned request still delayed the next one";
  EXPECT_EQ(d.latency_ms(), 400);
  const double one = 1000 * 1.0 / 1e6;
  EXPECT_EQ(bills.calls, 2);
  EXPECT_DOUBLE_EQ(bills.total_usd, 2 * one);
  EXPECT_EQ(p.stats().abandoned, 2U);
  EXPECT_DOUBLE_EQ(p.stats().abandoned_usd, 2 * one);
  EXPECT_DOUBLE_EQ(p.stats().billed_usd, 4 * one);
  EXPECT_EQ(p.stats().cancelled, 2U);
  EXPECT_EQ(p.live_attempts(), 0U);
}

TEST(SimProvider, CancellingAnErrorOnItsWaySuppressesIt) {
  event_loop loop;
  provider_config cfg = simple_config();
  cfg.errors = {{500, 1.0}};
  sim_provider p(loop, cfg, root_seed);
  client c(loop);
  operation& op = c.send(p);
  EXPECT_EQ(p.live_attempts(), 1U);
  op.cancel();
  EXPECT_EQ(p.live_attempts(), 0U);
  loop.run();
  EXPECT_EQ(c.received, 0);
}

TEST(SimProvider, LatencyFactorIsTakenAtServiceStart) {
  event_loop loop;
  provider_config cfg = simple_config();
  cfg.slots = 1;
  fault_window w = window(0.1, 10);
  w.latency_x = 10;
  cfg.faults = {w};
  sim_provider p(loop, cfg, root_seed);
  client a(loop, 1), b(loop, 2);
  a.send(p);  // starts at 0, before the window: 100 ms
  b.send(p);  // queued; starts at 100 ms, inside the window: 1000 ms
  loop.run();
  EXPECT_EQ(a.latency_ms(), 100);
  EXPECT_EQ(b.latency_ms(), 100 + 1000);
  EXPECT_EQ(b.got->time_to_first_token, std::optional<duration>{1100ms});
}

TEST(SimProvider, SlowdownGrowsWithBusySlots) {
  event_loop loop;
  provider_config cfg = simple_config();
  cfg.slowdown = 1.0;
  sim_provider p(loop, cfg, root_seed);
  client a(loop, 1), b(loop, 2);
  a.send(p);  // busy 1 of 4: x1.25
  b.send(p);  // busy 2 of 4: x1.5
  loop.run();
  EXPECT_EQ(a.latency_ms(), 125);
  EXPECT_EQ(b.latency_ms(), 150);
}

// A receiver that retries from inside on_outcome: it must queue behind work already waiting.
struct eager_client final : outcome_receiver {
  eager_client(event_loop& l, sim_provider& p) : loop(l), provider(p) { call.req.model = "m"; }
  void on_outcome(outcome&&) override {
    ++received;
    if (received == 1) {
      ++call.attempts;
      provider.start(call_scope{&call, time_never}, *this);
    } else {
      second_at = loop.now();
    }
  }
  event_loop& loop;
  sim_provider& provider;
  call_context call;
  int received = 0;
  time_point second_at{};
};

TEST(SimProvider, AFreedSlotGoesToTheQueueBeforeAnyoneHearsOfIt) {
  event_loop loop;
  provider_config cfg = simple_config();
  cfg.slots = 1;
  sim_provider p(loop, cfg, root_seed);
  eager_client e(loop, p);
  client waiting(loop, 2);
  ++e.call.attempts;
  p.start(call_scope{&e.call, time_never}, e);
  waiting.send(p);
  loop.run();
  EXPECT_EQ(waiting.latency_ms(), 200);
  EXPECT_EQ(e.second_at, time_point{300ms});
}

TEST(SimProvider, CommonRandomNumbersSameAttemptSameDrawWhateverCameBefore) {
  provider_config cfg = simple_config();
  cfg.ttft_ms = distribution::lognormal(400, 0.8);
  cfg.errors = {{500, 0.3}, {503, 0.2}};
  cfg.error_latency_ms = distribution::uniform(10, 60);
  cfg.slots = 10'000;

  struct result {
    outcome_class kind;
    duration latency;
  };
  // Sends attempt `attempt` of request `id` after some unrelated traffic, alone on a fresh provider.
  auto observe = [&](std::uint64_t id, std::uint32_t attempt, std::uint64_t noise_from, int noise) {
    event_loop loop;
    sim_provider p(loop, cfg, root_seed);
    std::vector<std::unique_ptr<client>> others;
    for (int i = 0; i < noise; ++i) {
      others.push_back(std::make_unique<client>(loop, noise_from + static_cast<std::uint64_t>(i)));
      others.back()->send(p);
    }
    loop.run_until(time_point{1s});
    client c(loop, id);
    c.call.attempts = attempt - 1;
    c.send(p);
    loop.run();
    return result{c.got->kind, c.got->latency};
  };

  int differing_attempts = 0;
  for (std::uint64_t id = 1; id <= 40; ++id) {
    const result quiet = observe(id, 1, 0, 0);
    const result busy = observe(id, 1, 1000, 25);
    const result other_noise = observe(id, 1, 5000, 3);
    EXPECT_EQ(quiet.kind, busy.kind) << id;
    EXPECT_EQ(quiet.latency, busy.latency) << id;
    EXPECT_EQ(quiet.kind, other_noise.kind) << id;
    EXPECT_EQ(quiet.latency, other_noise.latency) << id;
    const result second = observe(id, 2, 0, 0);
    differing_attempts += second.latency != quiet.latency ? 1 : 0;
  }
  EXPECT_GT(differing_attempts, 30) << "a retry is a new attempt with its own draws";

  // A different provider root_seed gives different draws.
  event_loop loop;
  sim_provider a(loop, cfg, 1), b(loop, cfg, 2);
  int same = 0;
  for (std::uint64_t id = 1; id <= 20; ++id) {
    client x(loop, id), y(loop, id);
    x.send(a);
    y.send(b);
    loop.run();
    same += x.got->latency == y.got->latency ? 1 : 0;
  }
  EXPECT_LT(same, 3);
}

TEST(SimProvider, DestructorFreesWorkInFlightAndCancelsItsTimers) {
  event_loop loop;
  provider_config cfg = simple_config();
  cfg.slots = 1;
  cfg.ttft_ms = distribution::constant(400);
  cfg.errors = {{500, 0.5}};
  fault_window w = window(1, 10);
  w.outage = outage_kind::hang;
  cfg.faults = {w};
  std::vector<std::unique_ptr<client>> cs;
  {
    sim_provider p(loop, cfg, root_seed);
    for (std::uint64_t i = 0; i < 20; ++i) {
      cs.push_back(std::make_unique<client>(loop, i + 1));
      cs.back()->send(p);  // about half served one by one, half answered 500 after 30 ms
    }
    cs[1]->send(p).cancel();  // request 2's second attempt, abandoned (queued or its error suppressed)
    loop.run_until(time_point{1s});
    for (std::uint64_t i = 0; i < 3; ++i) {
      cs.push_back(std::make_unique<client>(loop, 100 + i));
      cs.back()->send(p);  // hung
    }
    cs.push_back(std::make_unique<client>(loop, 200));
    EXPECT_EQ(p.hung(), 3U);
    EXPECT_EQ(p.busy(), 1U);
    EXPECT_GT(p.queue_depth(), 2U);
    EXPECT_GT(p.live_attempts(), 6U);
    EXPECT_GT(loop.pending(), 0U);
  }
  EXPECT_EQ(loop.pending(), 0U) << "the provider's timers are gone with it";
  loop.run();
}

TEST(SimProvider, PoolReusesAttemptObjects) {
  event_loop loop;
  sim_provider p(loop, simple_config(), root_seed);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    client c(loop, i);
    c.send(p);
    loop.run();
    ASSERT_TRUE(c.got->ok());
  }
  EXPECT_EQ(p.stats().served, 1000U);
  EXPECT_EQ(p.live_attempts(), 0U);
}

}  // namespace
}  // namespace squall::sim
