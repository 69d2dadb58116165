// The hedging mechanism under virtual time: when hedges start, who wins, that losers and timers are
// cancelled, the limits (hedges_max, budget, deadline) and cancellation of the whole call.

#include "policies/hedging/hedging.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"
#include "tests/support/time_points.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_receiver;
using testing::recording_sink;

using testing::at_ms;

// A per-attempt script: latency and outcome of attempt number n (1 = the first) of a call.
struct step {
  double latency_ms;
  outcome result;
};

// Sets the fake transport's latency for each attempt before passing the attempt on, and records the
// scope and start time of every attempt.
class latency_by_attempt final : public handler {
 public:
  latency_by_attempt(runtime& clock, fake_transport& transport, std::function<double(std::uint32_t)> latency_ms)
      : clock_(clock), transport_(transport), latency_ms_(std::move(latency_ms)) {}

  operation& start(const call_scope& scope, outcome_receiver& receiver) override {
    transport_.set_latency(from_ms(latency_ms_(scope.call->attempts + 1)));
    scopes.push_back(scope);
    starts.push_back(clock_.now());
    return transport_.start(scope, receiver);
  }

  std::vector<call_scope> scopes;
  std::vector<time_point> starts;

 private:
  runtime& clock_;
  fake_transport& transport_;
  std::function<double(std::uint32_t)> latency_ms_;
};

// A hedging policy in front of a transport scripted per attempt number; attempts past the script
// answer `fallback` after 10 ms.
struct hedging_rig {
  explicit hedging_rig(hedging_options o, std::vector<step> s = {}) : options(o), script(std::move(s)) {
    transport = std::make_unique<fake_transport>(loop, from_ms(1), [this](const call_context&, std::uint32_t n) {
      return n <= script.size() ? script[n - 1].result : fallback;
    });
    shaper = std::make_unique<latency_by_attempt>(loop, *transport, [this](std::uint32_t n) {
      return n <= script.size() ? script[n - 1].latency_ms : 10.0;
    });
    policy = std::make_unique<hedging_handler>(options, "hedge", policy_environment{loop, sink, 1}, *shaper);
  }

  operation& start(time_point deadline = time_never) {
    ctx = call_context{};
    ctx.req.id = 42;
    return policy->start(call_scope{&ctx, deadline}, receiver);
  }
  // Steps until the call has delivered; returns the time it did.
  time_point until_delivered() {
    while (receiver.calls == 0) {
      if (!loop.step()) {
        ADD_FAILURE() << "the call never delivered";
        break;
      }
    }
    return loop.now();
  }
  std::vector<policy_event> events(policy_event_kind k) const {
    std::vector<policy_event> out;
    for (const auto& e : sink.events) {
      if (e.kind == k) out.push_back(e);
    }
    return out;
  }

  hedging_options options;
  std::vector<step> script;
  outcome fallback = outcome::failure(outcome_class::server_error);
  sim::event_loop loop;
  recording_sink sink;
  std::unique_ptr<fake_transport> transport;
  std::unique_ptr<latency_by_attempt> shaper;
  std::unique_ptr<hedging_handler> policy;
  call_context ctx;
  recording_receiver receiver;
};

hedging_options after_ms(double delay_ms, std::uint32_t hedges_max = 1) {
  hedging_options o;
  o.delay_ms = delay_ms;
  o.hedges_max = hedges_max;
  return o;
}

outcome failed(outcome_class c, int status) {
  outcome o = outcome::failure(c);
  o.http_status = status;
  return o;
}

outcome ok_with(int tokens) {
  outcome o;
  o.output_tokens = static_cast<std::uint32_t>(tokens);
  return o;
}

TEST(hedging, a_fast_answer_sends_no_hedge_and_leaves_nothing_pending) {
  hedging_rig rig(after_ms(100), {{50, ok_with(3)}});
  rig.start();
  EXPECT_EQ(rig.receiver.calls, 0) << "never delivered from inside start()";
  EXPECT_EQ(rig.until_delivered(), at_ms(50));
  EXPECT_TRUE(rig.receiver.last.ok());
  EXPECT_EQ(rig.receiver.last.output_tokens, 3U);
  EXPECT_EQ(rig.transport->started(), 1);
  EXPECT_TRUE(rig.sink.events.empty());
  EXPECT_EQ(rig.loop.pending(), 0U) << "the hedge timer was cancelled";
}

TEST(hedging, a_slow_first_attempt_is_overtaken_by_the_hedge_and_cancelled) {
  hedging_rig rig(after_ms(200), {{5000, ok_with(1)}, {100, ok_with(2)}});
  rig.start();
  EXPECT_EQ(rig.until_delivered(), at_ms(300)) << "hedge at 200 ms answering after 100 ms";
  EXPECT_EQ(rig.receiver.last.output_tokens, 2U) << "the hedge's answer";
  EXPECT_EQ(rig.transport->started(), 2);
  EXPECT_EQ(rig.transport->cancelled(), 1);
  EXPECT_EQ(rig.loop.pending(), 0U);
  const auto sent = rig.events(policy_event_kind::hedge_sent);
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0].value, 1U);
  EXPECT_EQ(sent[0].at, at_ms(200));
  EXPECT_EQ(sent[0].delay, from_ms(200));
  EXPECT_EQ(sent[0].request_id, 42U);
  EXPECT_EQ(sent[0].policy, "hedge");
  const auto cancelled = rig.events(policy_event_kind::hedge_cancelled);
  ASSERT_EQ(cancelled.size(), 1U);
  EXPECT_EQ(cancelled[0].value, 0U) << "the first attempt lost";
  EXPECT_EQ(cancelled[0].at, at_ms(300));
}

TEST(hedging, the_first_attempt_may_still_win_after_a_hedge_was_sent) {
  hedging_rig rig(after_ms(100), {{150, ok_with(1)}, {500, ok_with(2)}});
  rig.start();
  EXPECT_EQ(rig.until_delivered(), at_ms(150));
  EXPECT_EQ(rig.receiver.last.output_tokens, 1U);
  EXPECT_EQ(rig.transport->cancelled(), 1);
  ASSERT_EQ(rig.events(policy_event_kind::hedge_cancelled).size(), 1U);
  EXPECT_EQ(rig.events(policy_event_kind::hedge_cancelled)[0].value, 1U);
}

TEST(hedging, every_attempt_gets_the_same_scope) {
  hedging_rig rig(after_ms(100, 2), {{1000, ok_with(1)}, {1000, ok_with(2)}, {1000, ok_with(3)}});
  rig.start(at_ms(5000));
  rig.until_delivered();
  ASSERT_EQ(rig.shaper->scopes.size(), 3U);
  for (const auto& s : rig.shaper->scopes) {
    EXPECT_EQ(s.call, &rig.ctx);
    EXPECT_EQ(s.deadline, at_ms(5000));
  }
  EXPECT_EQ(rig.ctx.attempts, 3U);
}

TEST(hedging, hedges_max_bounds_the_attempts_started_by_the_timer) {
  hedging_rig rig(after_ms(100, 3), {{10000, ok_with(1)}, {10000, ok_with(2)}, {10000, ok_with(3)},
                                     {10000, ok_with(4)}, {10000, ok_with(5)}});
  rig.start();
  rig.until_delivered();
  EXPECT_EQ(rig.transport->started(), 4);
  EXPECT_EQ(rig.shaper->starts, (std::vector<time_point>{at_ms(0), at_ms(100), at_ms(200), at_ms(300)}));
  const auto sent = rig.events(policy_event_kind::hedge_sent);
  ASSERT_EQ(sent.size(), 3U);
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(sent[i].value, i + 1);
  EXPECT_EQ(rig.receiver.last.output_tokens, 1U) << "the first attempt answered first";
  EXPECT_EQ(rig.transport->cancelled(), 3);
  EXPECT_EQ(rig.events(policy_event_kind::hedge_cancelled).size(), 3U);
  EXPECT_EQ(rig.loop.pending(), 0U);
}

TEST(hedging, a_fast_failure_in_hedge_on_starts_the_next_hedge_at_once) {
  hedging_rig rig(after_ms(1000), {{10, failed(outcome_class::overloaded, 529)}, {20, ok_with(2)}});
  rig.start();
  EXPECT_EQ(rig.until_delivered(), at_ms(30));
  EXPECT_TRUE(rig.receiver.last.ok());
  EXPECT_EQ(rig.shaper->starts, (std::vector<time_point>{at_ms(0), at_ms(10)}));
  const auto sent = rig.events(policy_event_kind::hedge_sent);
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0].cause, outcome_class::overloaded);
  EXPECT_EQ(sent[0].delay, duration{0});
  EXPECT_TRUE(rig.events(policy_event_kind::hedge_cancelled).empty()) << "nothing else was running";
}

TEST(hedging, a_fast_failure_restarts_the_delay_for_the_following_hedge) {
  hedging_rig rig(after_ms(100, 2),
                  {{10, failed(outcome_class::server_error, 500)}, {1000, ok_with(2)}, {1000, ok_with(3)}});
  rig.start();
  rig.until_delivered();
  EXPECT_EQ(rig.shaper->starts, (std::vector<time_point>{at_ms(0), at_ms(10), at_ms(110)}));
}

TEST(hedging, when_every_attempt_fails_the_last_failure_is_delivered) {
  hedging_rig rig(after_ms(1000, 2), {{10, failed(outcome_class::server_error, 500)},
                                      {10, failed(outcome_class::connection_error, 0)},
                                      {10, failed(outcome_class::overloaded, 503)}});
  rig.start();
  EXPECT_EQ(rig.until_delivered(), at_ms(30));
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::overloaded);
  EXPECT_EQ(rig.receiver.last.http_status, 503);
  EXPECT_EQ(rig.transport->started(), 3) << "hedges_max is respected on fast failures too";
  EXPECT_EQ(rig.events(policy_event_kind::hedge_sent).size(), 2U);
  EXPECT_EQ(rig.loop.pending(), 0U);
}

TEST(hedging, a_failure_outside_hedge_on_ends_the_call_and_cancels_the_others) {
  hedging_rig rig(after_ms(100), {{1000, ok_with(1)}, {10, failed(outcome_class::invalid_request, 400)}});
  rig.start();
  EXPECT_EQ(rig.until_delivered(), at_ms(110));
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::invalid_request);
  EXPECT_EQ(rig.transport->cancelled(), 1);
  ASSERT_EQ(rig.events(policy_event_kind::hedge_cancelled).size(), 1U);
  EXPECT_EQ(rig.events(policy_event_kind::hedge_cancelled)[0].cause, outcome_class::invalid_request);
}

TEST(hedging, a_failure_after_all_hedges_started_waits_for_the_others) {
  hedging_rig rig(after_ms(100), {{300, failed(outcome_class::server_error, 500)}, {400, ok_with(2)}});
  rig.start();
  EXPECT_EQ(rig.until_delivered(), at_ms(500));
  EXPECT_TRUE(rig.receiver.last.ok());
  EXPECT_EQ(rig.transport->cancelled(), 0);
}

TEST(hedging, a_budget_refusal_sends_no_hedge_and_reports_it) {
  hedging_options o = after_ms(100);
  o.budget.kind = retry_budget_kind::percent;
  o.budget.percent = 0.0;
  o.budget.retries_min_per_s = 0.0;
  hedging_rig rig(o, {{500, ok_with(1)}});
  rig.start();
  EXPECT_EQ(rig.until_delivered(), at_ms(500));
  EXPECT_EQ(rig.transport->started(), 1);
  EXPECT_TRUE(rig.events(policy_event_kind::hedge_sent).empty());
  const auto refused = rig.events(policy_event_kind::retry_budget_exhausted);
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].value, 1U) << "the hedge number refused";
  EXPECT_EQ(refused[0].at, at_ms(100));
}

TEST(hedging, a_budget_refusal_after_a_fast_failure_delivers_that_failure) {
  hedging_options o = after_ms(1000);
  o.budget.kind = retry_budget_kind::percent;
  o.budget.percent = 0.0;
  o.budget.retries_min_per_s = 0.0;
  hedging_rig rig(o, {{10, failed(outcome_class::overloaded, 529)}});
  rig.start();
  EXPECT_EQ(rig.until_delivered(), at_ms(10));
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::overloaded);
  EXPECT_EQ(rig.loop.pending(), 0U);
}

TEST(hedging, a_token_bucket_shared_by_all_calls_stops_hedging_when_failures_dominate) {
  hedging_options o = after_ms(1000);
  o.budget.kind = retry_budget_kind::token_bucket;
  o.budget.tokens_max = 10.0;
  hedging_rig rig(o);  // every attempt fails server_error after 10 ms
  int attempts_before = 0;
  std::vector<int> per_call;
  for (int call = 0; call < 6; ++call) {
    rig.receiver.calls = 0;
    rig.start();
    rig.until_delivered();
    per_call.push_back(rig.transport->started() - attempts_before);
    attempts_before = rig.transport->started();
  }
  // Tokens 10 -> 9 (hedge) -> 8 | 7 (hedge) -> 6 | 5 (refused) | 4 (refused) ...
  EXPECT_EQ(per_call, (std::vector<int>{2, 2, 1, 1, 1, 1}));
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_budget_exhausted), 4U);
}

TEST(hedging, cancelling_the_call_cancels_every_attempt_and_the_timer) {
  hedging_rig rig(after_ms(100, 3), {{10000, ok_with(1)}, {10000, ok_with(2)}, {10000, ok_with(3)}});
  operation& op = rig.start();
  rig.loop.run_until(at_ms(250));
  ASSERT_EQ(rig.transport->started(), 3);
  ASSERT_EQ(rig.loop.pending(), 4U) << "three attempts and the hedge timer";
  op.cancel();
  EXPECT_EQ(rig.transport->cancelled(), 3);
  EXPECT_EQ(rig.loop.pending(), 0U);
  while (rig.loop.step()) {
  }
  EXPECT_EQ(rig.receiver.calls, 0);
  EXPECT_TRUE(rig.events(policy_event_kind::hedge_cancelled).empty()) << "the caller cancelled, nobody lost";
}

TEST(hedging, cancelling_before_any_hedge) {
  hedging_rig rig(after_ms(100), {{10000, ok_with(1)}});
  operation& op = rig.start();
  op.cancel();
  EXPECT_EQ(rig.transport->cancelled(), 1);
  EXPECT_EQ(rig.loop.pending(), 0U);
  EXPECT_EQ(rig.receiver.calls, 0);
}

TEST(hedging, no_hedge_is_scheduled_that_could_only_start_after_the_deadline) {
  hedging_rig rig(after_ms(100), {{150, ok_with(1)}});
  rig.start(at_ms(100));
  EXPECT_EQ(rig.loop.pending(), 1U) << "only the attempt; a hedge at the deadline cannot help";
  rig.until_delivered();
  EXPECT_EQ(rig.transport->started(), 1);
}

TEST(hedging, the_percentile_delay_follows_recent_successful_latencies) {
  hedging_options o = after_ms(1000);
  o.delay_percentile = 0.95;
  o.latency_samples_min = 20;
  hedging_rig rig(o);
  EXPECT_EQ(rig.policy->hedge_delay(), from_ms(1000)) << "delay_ms until enough samples";
  double latency = 10.0;
  rig.shaper = std::make_unique<latency_by_attempt>(rig.loop, *rig.transport, [&](std::uint32_t) { return latency; });
  rig.policy = std::make_unique<hedging_handler>(o, "hedge", policy_environment{rig.loop, rig.sink, 1}, *rig.shaper);
  rig.fallback = outcome{};
  for (int i = 1; i <= 20; ++i) {
    latency = 10.0 * i;
    rig.receiver.calls = 0;
    rig.start();
    rig.until_delivered();
    if (i < 20) {
      EXPECT_EQ(rig.policy->hedge_delay(), from_ms(1000)) << i;
    }
  }
  EXPECT_EQ(rig.policy->hedge_delay(), from_ms(190)) << "p95 of 10, 20, ..., 200 ms";
  // The next call hedges after 190 ms.
  latency = 5000.0;
  rig.receiver.calls = 0;
  const time_point start = rig.loop.now();
  operation& op = rig.start();
  rig.loop.run_until(start + from_ms(189));
  EXPECT_EQ(rig.transport->started(), 20 + 1);
  rig.loop.run_until(start + from_ms(190));
  EXPECT_EQ(rig.transport->started(), 20 + 2);
  op.cancel();
  EXPECT_EQ(rig.loop.pending(), 0U);
}

// A delay at the median of a window that refreshes its estimate on every sample: after one call holding a
// single sample, hedge_delay() is that sample, and after two the smaller one.
hedging_options median_after_ms(double delay_ms, std::uint32_t hedges_max = 1) {
  hedging_options o = after_ms(delay_ms, hedges_max);
  o.delay_percentile = 0.5;
  o.latency_window = 20;
  o.latency_samples_min = 1;
  return o;
}

// Issue 17: the winners of races were the samples, which put the p95 delay too low and hedged about
// twice as often as asked.
TEST(hedging, a_first_attempt_overtaken_by_a_hedge_counts_as_its_running_time_and_the_hedge_not_at_all) {
  hedging_rig rig(median_after_ms(200), {{5000, ok_with(1)}, {100, ok_with(2)}});
  rig.start();
  EXPECT_EQ(rig.until_delivered(), at_ms(300));
  EXPECT_EQ(rig.receiver.last.output_tokens, 2U);
  EXPECT_EQ(rig.policy->hedge_delay(), from_ms(300))
      << "the first attempt ran 300 ms and would have taken longer; the hedge's 100 ms is a race's winner";
}

TEST(hedging, a_first_attempt_that_wins_after_a_hedge_started_counts_whole_and_the_cancelled_hedge_not) {
  hedging_rig rig(median_after_ms(100), {{150, ok_with(1)}, {500, ok_with(2)}});
  rig.start();
  EXPECT_EQ(rig.until_delivered(), at_ms(150));
  EXPECT_EQ(rig.policy->hedge_delay(), from_ms(150)) << "not the hedge's 50 ms of running";
}

TEST(hedging, a_hedge_started_after_the_first_attempt_failed_runs_alone_and_counts) {
  hedging_rig rig(median_after_ms(1000), {{10, failed(outcome_class::server_error, 500)}, {20, ok_with(2)}});
  rig.start();
  EXPECT_EQ(rig.until_delivered(), at_ms(30));
  EXPECT_EQ(rig.policy->hedge_delay(), from_ms(20)) << "the failure's 10 ms is no latency";
}

TEST(hedging, a_call_cancelled_by_its_caller_counts_the_first_attempt_only_after_the_delay) {
  hedging_rig rig(median_after_ms(100), {{10000, ok_with(1)}, {10000, ok_with(2)}});
  operation& early = rig.start();
  rig.loop.run_until(at_ms(50));
  early.cancel();
  EXPECT_EQ(rig.policy->hedge_delay(), from_ms(100)) << "an attempt cancelled before the delay is left out";
  operation& late = rig.start();
  rig.loop.run_until(at_ms(300));
  ASSERT_EQ(rig.transport->started(), 3) << "the hedge started at 150 ms";
  late.cancel();
  EXPECT_EQ(rig.policy->hedge_delay(), from_ms(250)) << "the first attempt ran 250 ms; the hedge's 150 ms not";
}

// Call latencies with and without hedging over many calls, where one first attempt in ten is slow.
TEST(hedging, cuts_the_tail_latency_of_slow_first_attempts) {
  auto run = [](std::uint32_t hedges_max, bool hedge) {
    sim::event_loop loop;
    recording_sink sink;
    fake_transport transport(loop, from_ms(1), [](const call_context&, std::uint32_t) { return outcome{}; });
    std::uint64_t call_number = 0;
    latency_by_attempt shaper(loop, transport, [&](std::uint32_t attempt) {
      return attempt == 1 && call_number % 10 == 0 ? 3000.0 : 100.0;
    });
    hedging_options o = after_ms(hedge ? 200.0 : 3600000.0, hedges_max);
    hedging_handler policy(o, "hedge", policy_environment{loop, sink, 1}, shaper);
    std::vector<double> latencies;
    for (call_number = 0; call_number < 1000; ++call_number) {
      call_context ctx;
      recording_receiver receiver;
      const time_point start = loop.now();
      policy.start(call_scope{&ctx, time_never}, receiver);
      while (receiver.calls == 0 && loop.step()) {
      }
      latencies.push_back(to_ms(loop.now() - start));
      EXPECT_EQ(loop.pending(), 0U);
    }
    std::sort(latencies.begin(), latencies.end());
    return std::pair{latencies[989], transport.started()};
  };
  const auto [p99_plain, attempts_plain] = run(1, false);
  const auto [p99_hedged, attempts_hedged] = run(1, true);
  EXPECT_EQ(p99_plain, 3000.0);
  EXPECT_EQ(p99_hedged, 300.0) << "the hedge at 200 ms answers after 100 ms";
  EXPECT_EQ(attempts_plain, 1000);
  EXPECT_EQ(attempts_hedged, 1100) << "only the slow tenth was hedged";
}

}  // namespace
}  // namespace squall
