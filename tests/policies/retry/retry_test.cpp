// The retry state machine under virtual time: which outcomes are retried, when, how often, and that
// cancellation leaves nothing behind.

#include "policies/retry/retry.hpp"

#include <cmath>
#include <deque>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"
#include "tests/policies/retry/retry_rig.hpp"
#include "tests/support/time_points.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::no_jitter;
using testing::recording_sink;
using testing::retry_rig;
using testing::with_class;

using testing::at_ms;

TEST(retry, success_on_the_first_attempt_is_delivered_unchanged) {
  retry_rig rig(no_jitter());
  outcome ok;
  ok.http_status = 200;
  ok.output_tokens = 17;
  rig.answers = {ok};
  rig.start();
  EXPECT_EQ(rig.receiver.calls, 0) << "never delivered from inside start()";
  rig.run();
  EXPECT_EQ(rig.receiver.calls, 1);
  EXPECT_TRUE(rig.receiver.last.ok());
  EXPECT_EQ(rig.receiver.last.output_tokens, 17U);
  EXPECT_EQ(rig.transport->started(), 1);
  EXPECT_TRUE(rig.sink.events.empty());
}

TEST(retry, retries_a_retryable_failure_until_success) {
  retry_rig rig(no_jitter());
  rig.answers = {with_class(outcome_class::overloaded), with_class(outcome_class::rate_limited), outcome{}};
  rig.start();
  rig.run();
  EXPECT_EQ(rig.receiver.calls, 1);
  EXPECT_TRUE(rig.receiver.last.ok());
  EXPECT_EQ(rig.transport->started(), 3);
  EXPECT_EQ(rig.ctx.attempts, 3U);
  ASSERT_EQ(rig.sink.count(policy_event_kind::retry_scheduled), 2U);
  EXPECT_EQ(rig.sink.events[0].cause, outcome_class::overloaded);
  EXPECT_EQ(rig.sink.events[1].cause, outcome_class::rate_limited);
  EXPECT_EQ(rig.sink.events[0].request_id, 7U);
  EXPECT_EQ(rig.sink.events[0].policy, "retry");
}

TEST(retry, retries_only_the_classes_in_retry_on) {
  retry_options o = no_jitter();
  o.retry_on = {outcome_class::server_error};
  {
    retry_rig rig(o);
    rig.fallback = with_class(outcome_class::overloaded);
    rig.start();
    rig.run();
    EXPECT_EQ(rig.transport->started(), 1);
    EXPECT_EQ(rig.receiver.last.kind, outcome_class::overloaded);
    EXPECT_TRUE(rig.sink.events.empty()) << "a class not retried is not 'exhausted'";
  }
  {
    retry_rig rig(o);
    rig.answers = {with_class(outcome_class::server_error), outcome{}};
    rig.start();
    rig.run();
    EXPECT_EQ(rig.transport->started(), 2);
    EXPECT_TRUE(rig.receiver.last.ok());
  }
}

TEST(retry, never_retries_permanent_classes_even_when_listed) {
  // Validation refuses to list them; the mechanism refuses too, for options built in code.
  retry_options o = no_jitter();
  o.retry_on = {outcome_class::invalid_request, outcome_class::auth, outcome_class::quota,
                outcome_class::server_error};
  for (auto c : {outcome_class::invalid_request, outcome_class::auth, outcome_class::quota}) {
    retry_rig rig(o);
    rig.fallback = with_class(c);
    rig.start();
    rig.run();
    EXPECT_EQ(rig.transport->started(), 1) << to_string(c);
    EXPECT_EQ(rig.receiver.last.kind, c);
  }
}

TEST(retry, honours_attempts_max_and_reports_exhaustion) {
  retry_options o = no_jitter();
  o.attempts_max = 4;
  retry_rig rig(o);
  rig.fallback = with_class(outcome_class::connection_error);
  rig.fallback.http_status = 0;
  rig.start();
  rig.run();
  EXPECT_EQ(rig.transport->started(), 4);
  EXPECT_EQ(rig.receiver.calls, 1);
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::connection_error);
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_scheduled), 3U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_exhausted), 1U);
  EXPECT_EQ(rig.sink.events.back().cause, outcome_class::connection_error);
}

TEST(retry, attempts_max_one_never_retries) {
  retry_options o = no_jitter();
  o.attempts_max = 1;
  retry_rig rig(o);
  rig.start();
  rig.run();
  EXPECT_EQ(rig.transport->started(), 1);
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_exhausted), 1U);
}

TEST(retry, delivers_the_last_attempts_outcome) {
  retry_options o = no_jitter();
  o.attempts_max = 2;
  retry_rig rig(o);
  outcome first = with_class(outcome_class::server_error);
  first.http_status = 500;
  outcome second = with_class(outcome_class::overloaded);
  second.http_status = 529;
  rig.answers = {first, second};
  rig.start();
  rig.run();
  EXPECT_EQ(rig.receiver.last.http_status, 529);
  EXPECT_EQ(rig.receiver.last.latency, from_ms(10)) << "the inner latency is left as it was";
}

TEST(retry, exponential_delays_in_virtual_time_match_the_formula) {
  retry_options o = no_jitter(backoff_kind::exponential, 100.0);
  o.multiplier = 2.0;
  o.delay_ms_max = 350.0;
  o.attempts_max = 5;
  retry_rig rig(o);
  rig.start();
  rig.run();
  // Each attempt takes 10 ms; the waits are 100, 200, 350 (400 capped), 350 (800 capped).
  const std::vector<time_point> expected = {at_ms(0), at_ms(110), at_ms(320), at_ms(680), at_ms(1040)};
  EXPECT_EQ(rig.attempt_starts, expected);
  std::vector<duration> delays;
  for (const auto& e : rig.sink.events) {
    if (e.kind == policy_event_kind::retry_scheduled) delays.push_back(e.delay);
  }
  EXPECT_EQ(delays, (std::vector<duration>{from_ms(100), from_ms(200), from_ms(350), from_ms(350)}));
}

TEST(retry, linear_and_constant_delays_in_virtual_time_match_the_formula) {
  {
    retry_options o = no_jitter(backoff_kind::linear, 50.0);
    o.attempts_max = 4;
    retry_rig rig(o);
    rig.start();
    rig.run();
    EXPECT_EQ(rig.attempt_starts, (std::vector<time_point>{at_ms(0), at_ms(60), at_ms(170), at_ms(330)}));
  }
  {
    retry_options o = no_jitter(backoff_kind::constant, 50.0);
    o.attempts_max = 4;
    retry_rig rig(o);
    rig.start();
    rig.run();
    EXPECT_EQ(rig.attempt_starts, (std::vector<time_point>{at_ms(0), at_ms(60), at_ms(120), at_ms(180)}));
  }
}

TEST(retry, full_jitter_waits_between_zero_and_the_backoff) {
  retry_options o;  // defaults: exponential 200 ms x2, full jitter
  o.attempts_max = 6;
  retry_rig rig(o);
  rig.start();
  rig.run();
  ASSERT_EQ(rig.attempt_starts.size(), 6U);
  for (std::size_t i = 1; i < rig.attempt_starts.size(); ++i) {
    const duration wait = rig.attempt_starts[i] - rig.attempt_starts[i - 1] - from_ms(10);
    EXPECT_GE(wait, duration{0});
    EXPECT_LE(wait, from_ms(200.0 * std::pow(2.0, static_cast<double>(i - 1))));
  }
}

TEST(retry, same_seed_gives_the_same_jittered_schedule) {
  retry_options o;
  o.attempts_max = 5;
  retry_rig a(o);
  retry_rig b(o);
  a.start();
  a.run();
  b.start();
  b.run();
  EXPECT_EQ(a.attempt_starts, b.attempt_starts);
}

TEST(retry, stops_when_the_next_attempt_would_start_past_the_deadline) {
  retry_options o = no_jitter(backoff_kind::constant, 100.0);
  o.attempts_max = 10;
  retry_rig rig(o);
  rig.start(at_ms(250));
  rig.run();
  // Attempts at 0, 110, 220; after the third (230 ms) the next would start at 330 >= 250.
  EXPECT_EQ(rig.attempt_starts, (std::vector<time_point>{at_ms(0), at_ms(110), at_ms(220)}));
  EXPECT_EQ(rig.receiver.calls, 1);
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::server_error);
  EXPECT_EQ(rig.loop.now(), at_ms(230)) << "gave up at once rather than waiting for the deadline";
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_exhausted), 1U);
}

TEST(retry, a_wait_ending_exactly_at_the_deadline_is_not_scheduled) {
  retry_options o = no_jitter(backoff_kind::constant, 90.0);
  retry_rig rig(o);
  rig.start(at_ms(100));
  rig.run();
  EXPECT_EQ(rig.transport->started(), 1);
}

TEST(retry, cancel_during_backoff_leaves_nothing_running) {
  retry_rig rig(no_jitter(backoff_kind::constant, 100.0));
  operation& op = rig.start();
  while (rig.transport->completed() < 1) ASSERT_TRUE(rig.loop.step());
  ASSERT_EQ(rig.loop.pending(), 1U) << "the backoff timer";
  op.cancel();
  EXPECT_EQ(rig.loop.pending(), 0U);
  rig.run();
  EXPECT_EQ(rig.receiver.calls, 0);
  EXPECT_EQ(rig.transport->started(), 1);
}

TEST(retry, cancel_during_an_attempt_cancels_it_and_leaves_nothing_running) {
  retry_rig rig(no_jitter(backoff_kind::constant, 100.0));
  operation& op = rig.start();
  // First attempt answered, backoff elapsed, second attempt in flight.
  while (rig.transport->started() < 2) ASSERT_TRUE(rig.loop.step());
  op.cancel();
  EXPECT_EQ(rig.transport->cancelled(), 1);
  EXPECT_EQ(rig.loop.pending(), 0U);
  rig.run();
  EXPECT_EQ(rig.receiver.calls, 0);
}

TEST(retry, cancel_before_anything_happened) {
  retry_rig rig(no_jitter());
  operation& op = rig.start();
  op.cancel();
  EXPECT_EQ(rig.transport->cancelled(), 1);
  EXPECT_EQ(rig.loop.pending(), 0U);
  EXPECT_EQ(rig.receiver.calls, 0);
}

// Receives many calls' outcomes, counting successes.
struct counting_receiver final : outcome_receiver {
  void on_outcome(outcome&& o) override {
    ++delivered;
    successes += o.ok() ? 1 : 0;
  }
  long delivered = 0;
  long successes = 0;
};

// With attempts failing independently with probability x and n attempts allowed, a call succeeds with
// probability 1 - x^n and makes 1 + x + ... + x^(n-1) attempts on average. A retry that lost, repeated
// or skipped attempts would move these numbers by far more than the tolerance.
void check_independent_failures(double x, std::uint32_t n) {
  SCOPED_TRACE(::testing::Message() << "x=" << x << " n=" << n);
  constexpr long calls = 200000;
  constexpr long batch = 10000;
  sim::event_loop loop;
  recording_sink sink;
  rng faults(stream_seed(12345, "independent-failures"));
  fake_transport transport(loop, from_ms(5), [&](const call_context&, std::uint32_t) {
    return faults.uniform() < x ? outcome::failure(outcome_class::server_error) : outcome{};
  });
  retry_options o;
  o.attempts_max = n;
  o.delay_ms_base = 1.0;
  retry_handler policy(o, "retry", policy_environment{loop, sink, 1}, transport);
  counting_receiver receiver;
  std::vector<call_context> contexts(batch);
  for (long done = 0; done < calls; done += batch) {
    for (auto& c : contexts) {
      c = call_context{};
      policy.start(call_scope{&c, time_never}, receiver);
    }
    while (loop.step()) {
    }
  }
  ASSERT_EQ(receiver.delivered, calls);

  const double p = 1.0 - std::pow(x, n);
  const double success_se = std::sqrt(p * (1.0 - p) / calls);
  EXPECT_NEAR(static_cast<double>(receiver.successes) / calls, p, 4.0 * success_se + 1e-12);

  // Attempts A: P(A = k) = x^(k-1) (1 - x) for k < n, P(A = n) = x^(n-1).
  double mean = 0.0;
  double square = 0.0;
  for (std::uint32_t k = 1; k <= n; ++k) {
    const double pk = k < n ? std::pow(x, k - 1) * (1.0 - x) : std::pow(x, n - 1);
    mean += pk * k;
    square += pk * k * k;
  }
  double geometric = 0.0;
  for (std::uint32_t k = 0; k < n; ++k) geometric += std::pow(x, k);
  ASSERT_NEAR(mean, geometric, 1e-12);
  const double attempts_se = std::sqrt((square - mean * mean) / calls);
  EXPECT_NEAR(static_cast<double>(transport.started()) / calls, mean, 4.0 * attempts_se + 1e-12);
}

struct failure_case {
  double x;
  std::uint32_t n;
};

class retry_statistics : public ::testing::TestWithParam<failure_case> {};

TEST_P(retry_statistics, success_rate_and_attempts_match_independent_failures) {
  check_independent_failures(GetParam().x, GetParam().n);
}

INSTANTIATE_TEST_SUITE_P(pairs, retry_statistics,
                         ::testing::Values(failure_case{0.1, 3}, failure_case{0.5, 2}, failure_case{0.5, 4},
                                           failure_case{0.8, 5}, failure_case{0.3, 1}));

// --- per-class settings ---

TEST(retry, per_class_settings_replace_the_top_level_ones_for_that_class) {
  retry_options o = no_jitter(backoff_kind::constant, 100.0);
  o.attempts_max = 3;
  auto& rl = o.per_class[static_cast<std::size_t>(outcome_class::rate_limited)];
  rl.attempts_max = 6;
  rl.delay_ms_base = 2000.0;
  o.per_class[static_cast<std::size_t>(outcome_class::overloaded)].attempts_max = 2;
  {
    retry_rig rig(o);
    rig.fallback = with_class(outcome_class::rate_limited);
    rig.start();
    rig.run();
    EXPECT_EQ(rig.transport->started(), 6);
    EXPECT_EQ(rig.attempt_starts.at(1), at_ms(2010)) << "the class's base delay";
    EXPECT_EQ(rig.attempt_starts.at(5), at_ms(5 * 2010));
  }
  {
    retry_rig rig(o);
    rig.fallback = with_class(outcome_class::overloaded);
    rig.start();
    rig.run();
    EXPECT_EQ(rig.transport->started(), 2);
    EXPECT_EQ(rig.attempt_starts.at(1), at_ms(110)) << "top-level delay where the class sets none";
  }
  {
    retry_rig rig(o);
    rig.fallback = with_class(outcome_class::server_error);
    rig.start();
    rig.run();
    EXPECT_EQ(rig.transport->started(), 3) << "classes without settings use the top level";
  }
}

TEST(retry, attempts_count_across_classes_against_the_latest_failures_limit) {
  retry_options o = no_jitter(backoff_kind::constant, 10.0);
  o.attempts_max = 5;
  o.per_class[static_cast<std::size_t>(outcome_class::overloaded)].attempts_max = 2;
  retry_rig rig(o);
  // Two server errors, then an overload: three attempts already ran, above overloaded's limit of 2.
  rig.answers = {with_class(outcome_class::server_error), with_class(outcome_class::server_error),
                 with_class(outcome_class::overloaded), outcome{}};
  rig.start();
  rig.run();
  EXPECT_EQ(rig.transport->started(), 3);
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::overloaded);
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_exhausted), 1U);
}

// --- retry budgets ---

// Runs `calls` calls through one retry policy in front of a transport failing each attempt with
// probability `failure_rate`; returns the transport's attempts per call.
double attempts_per_call(const retry_options& o, double failure_rate, long calls, recording_sink& sink) {
  sim::event_loop loop;
  rng faults(stream_seed(777, "storm"));
  fake_transport transport(loop, from_ms(5), [&](const call_context&, std::uint32_t) {
    return faults.uniform() < failure_rate ? outcome::failure(outcome_class::overloaded) : outcome{};
  });
  retry_handler policy(o, "retry", policy_environment{loop, sink, 3}, transport);
  counting_receiver receiver;
  constexpr long batch = 100;
  std::vector<call_context> contexts(batch);
  for (long done = 0; done < calls; done += batch) {
    for (auto& c : contexts) {
      c = call_context{};
      policy.start(call_scope{&c, time_never}, receiver);
    }
    // One batch every 100 ms of virtual time: 1000 calls per second.
    loop.run_until(loop.now() + from_ms(100));
    while (loop.step()) {
    }
  }
  EXPECT_EQ(receiver.delivered, calls);
  return static_cast<double>(transport.started()) / static_cast<double>(calls);
}

TEST(retry, token_bucket_budget_stops_a_retry_storm) {
  retry_options unbounded;
  unbounded.delay_ms_base = 1.0;
  recording_sink quiet;
  const double storm = attempts_per_call(unbounded, 0.8, 20000, quiet);
  EXPECT_GT(storm, 2.0) << "without a budget 80% failures multiply the load";
  EXPECT_EQ(quiet.count(policy_event_kind::retry_budget_exhausted), 0U);

  retry_options budgeted = unbounded;
  budgeted.budget.kind = retry_budget_kind::token_bucket;
  recording_sink sink;
  const double calm = attempts_per_call(budgeted, 0.8, 20000, sink);
  EXPECT_LT(calm, 1.2);
  EXPECT_GT(sink.count(policy_event_kind::retry_budget_exhausted), 10000U);
}

TEST(retry, percent_budget_keeps_retries_near_the_percentage) {
  retry_options o;
  o.delay_ms_base = 1.0;
  o.budget.kind = retry_budget_kind::percent;
  o.budget.percent = 10.0;
  o.budget.retries_min_per_s = 0.0;
  recording_sink sink;
  const double a = attempts_per_call(o, 0.8, 20000, sink);
  EXPECT_LE(a, 1.11);
  EXPECT_GE(a, 1.05) << "the budget is used, not refused outright";
}

TEST(retry, budget_refusal_delivers_the_failure_and_reports_it) {
  retry_options o = no_jitter();
  o.budget.kind = retry_budget_kind::token_bucket;
  o.budget.tokens_max = 4.0;
  retry_rig rig(o);
  rig.start();
  rig.run();
  // Tokens 4 -> 3 (first failure, 3 > 2: retry) -> 2 (second failure, 2 is not above 2: refused).
  EXPECT_EQ(rig.transport->started(), 2);
  EXPECT_EQ(rig.receiver.calls, 1);
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::server_error);
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_scheduled), 1U);
  ASSERT_EQ(rig.sink.count(policy_event_kind::retry_budget_exhausted), 1U);
  EXPECT_EQ(rig.sink.events.back().cause, outcome_class::server_error);
  EXPECT_EQ(rig.sink.events.back().request_id, 7U);
  EXPECT_EQ(rig.policy->budget().tokens(), 2.0);
}

TEST(retry, the_budget_is_shared_by_every_call_and_refilled_by_successes) {
  retry_options o = no_jitter();
  o.budget.kind = retry_budget_kind::token_bucket;
  o.budget.tokens_max = 10.0;
  o.budget.token_ratio = 1.0;
  retry_rig rig(o);
  rig.start();  // fails 3 times: 10 -> 7
  rig.run();
  EXPECT_EQ(rig.policy->budget().tokens(), 7.0);
  EXPECT_EQ(rig.transport->started(), 3);
  rig.start();  // first failure 7 -> 6, retry allowed; second 6 -> 5, refused
  rig.run();
  EXPECT_EQ(rig.transport->started(), 5);
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_budget_exhausted), 1U);
  rig.answers = {outcome{}, outcome{}};
  rig.start();
  rig.run();
  rig.start();
  rig.run();
  EXPECT_EQ(rig.policy->budget().tokens(), 7.0) << "each success gives back token_ratio";
}

}  // namespace
}  // namespace squall
