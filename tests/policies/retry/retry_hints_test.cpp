// The retry policy and the server's hints: Retry-After and retry-after-ms (honoured, ignored, capped, given
// up on, too long or zero), x-should-retry, the rate-limit reset, and deciding by HTTP status as the SDKs do.

#include <vector>

#include <gtest/gtest.h>

#include "tests/policies/retry/retry_rig.hpp"
#include "tests/support/time_points.hpp"

namespace squall {
namespace {

using testing::at_ms;
using testing::no_jitter;
using testing::retry_rig;
using testing::with_class;

outcome hinted(duration hint) {
  outcome o = with_class(outcome_class::rate_limited);
  o.http_status = 429;
  o.retry_after = hint;
  return o;
}

TEST(retry, honours_the_retry_after_hint_instead_of_the_backoff) {
  retry_rig rig(no_jitter(backoff_kind::constant, 100.0));
  rig.answers = {hinted(from_ms(1234)), outcome{}};
  rig.start();
  rig.run();
  EXPECT_EQ(rig.attempt_starts, (std::vector<time_point>{at_ms(0), at_ms(1244)}));
  EXPECT_TRUE(rig.receiver.last.ok());
}

TEST(retry, ignores_the_hint_when_told_to) {
  retry_options o = no_jitter(backoff_kind::constant, 100.0);
  o.retry_after = retry_after_mode::ignore;
  retry_rig rig(o);
  rig.answers = {hinted(from_ms(1234)), outcome{}};
  rig.start();
  rig.run();
  EXPECT_EQ(rig.attempt_starts, (std::vector<time_point>{at_ms(0), at_ms(110)}));
}

TEST(retry, caps_a_long_hint_at_retry_after_ms_max) {
  retry_options o = no_jitter(backoff_kind::constant, 100.0);
  o.retry_after_ms_max = 2000.0;
  retry_rig rig(o);
  rig.answers = {hinted(from_s(30)), outcome{}};
  rig.start();
  rig.run();
  EXPECT_EQ(rig.attempt_starts, (std::vector<time_point>{at_ms(0), at_ms(2010)}));
  EXPECT_EQ(rig.sink.events.at(0).delay, from_ms(2000));
}

TEST(retry, gives_up_on_a_long_hint_when_told_to) {
  retry_options o = no_jitter(backoff_kind::constant, 100.0);
  o.retry_after_ms_max = 2000.0;
  o.retry_after_over_max = retry_after_over_max_mode::give_up;
  retry_rig rig(o);
  rig.answers = {hinted(from_s(30)), outcome{}};
  rig.start();
  rig.run();
  EXPECT_EQ(rig.transport->started(), 1);
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::rate_limited);
  EXPECT_EQ(rig.receiver.last.retry_after, from_s(30));
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_hint_too_long), 1U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_scheduled), 0U);
  // A hint exactly at the cap is still honoured.
  retry_rig exact(o);
  exact.answers = {hinted(from_ms(2000)), outcome{}};
  exact.start();
  exact.run();
  EXPECT_EQ(exact.transport->started(), 2);
}

// --- server hints ---

outcome with_should_retry(outcome_class c, bool should) {
  outcome o = with_class(c);
  o.should_retry = should;
  return o;
}

TEST(retry, should_retry_true_retries_a_class_not_in_retry_on) {
  retry_options o = no_jitter();
  o.retry_on = {outcome_class::server_error};
  retry_rig rig(o);
  rig.answers = {with_should_retry(outcome_class::timeout, true), outcome{}};
  rig.start();
  rig.run();
  EXPECT_EQ(rig.transport->started(), 2);
  EXPECT_TRUE(rig.receiver.last.ok());
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_scheduled), 1U);
}

TEST(retry, should_retry_false_stops_a_class_in_retry_on) {
  retry_rig rig(no_jitter());
  rig.answers = {with_should_retry(outcome_class::server_error, false), outcome{}};
  rig.start();
  rig.run();
  EXPECT_EQ(rig.transport->started(), 1);
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::server_error);
  EXPECT_TRUE(rig.sink.events.empty());
}

TEST(retry, should_retry_true_never_retries_a_permanent_class) {
  retry_rig rig(no_jitter());
  rig.answers = {with_should_retry(outcome_class::auth, true), outcome{}};
  rig.start();
  rig.run();
  EXPECT_EQ(rig.transport->started(), 1);
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::auth);
}

TEST(retry, should_retry_header_ignore_leaves_retry_on_in_charge) {
  retry_options o = no_jitter();
  o.retry_on = {outcome_class::server_error};
  o.should_retry_header = hint_mode::ignore;
  {
    retry_rig rig(o);
    rig.answers = {with_should_retry(outcome_class::timeout, true), outcome{}};
    rig.start();
    rig.run();
    EXPECT_EQ(rig.transport->started(), 1);
  }
  {
    retry_rig rig(o);
    rig.answers = {with_should_retry(outcome_class::server_error, false), outcome{}};
    rig.start();
    rig.run();
    EXPECT_EQ(rig.transport->started(), 2);
  }
}

outcome with_reset(outcome_class c, duration reset) {
  outcome o = with_class(c);
  o.ratelimit_reset = reset;
  return o;
}

TEST(retry, waits_for_the_rate_limit_reset_when_there_is_no_retry_after) {
  retry_rig rig(no_jitter(backoff_kind::constant, 100.0));
  rig.answers = {with_reset(outcome_class::rate_limited, from_ms(4321)), outcome{}};
  rig.start();
  rig.run();
  EXPECT_EQ(rig.attempt_starts, (std::vector<time_point>{at_ms(0), at_ms(4331)}));
  EXPECT_EQ(rig.sink.events.at(0).delay, from_ms(4321));
}

TEST(retry, retry_after_wins_over_the_rate_limit_reset) {
  retry_rig rig(no_jitter(backoff_kind::constant, 100.0));
  outcome both = with_reset(outcome_class::rate_limited, from_ms(4321));
  both.retry_after = from_ms(700);
  rig.answers = {both, outcome{}};
  rig.start();
  rig.run();
  EXPECT_EQ(rig.attempt_starts.at(1), at_ms(710));
}

TEST(retry, the_reset_applies_to_rate_limits_only_and_can_be_ignored) {
  {
    retry_rig rig(no_jitter(backoff_kind::constant, 100.0));
    rig.answers = {with_reset(outcome_class::overloaded, from_ms(4321)), outcome{}};
    rig.start();
    rig.run();
    EXPECT_EQ(rig.attempt_starts.at(1), at_ms(110));
  }
  {
    retry_options o = no_jitter(backoff_kind::constant, 100.0);
    o.ratelimit_reset = hint_mode::ignore;
    retry_rig rig(o);
    rig.answers = {with_reset(outcome_class::rate_limited, from_ms(4321)), outcome{}};
    rig.start();
    rig.run();
    EXPECT_EQ(rig.attempt_starts.at(1), at_ms(110));
  }
  {
    // An ignored Retry-After leaves the reset to decide.
    retry_options o = no_jitter(backoff_kind::constant, 100.0);
    o.retry_after = retry_after_mode::ignore;
    retry_rig rig(o);
    outcome both = with_reset(outcome_class::rate_limited, from_ms(4321));
    both.retry_after = from_ms(700);
    rig.answers = {both, outcome{}};
    rig.start();
    rig.run();
    EXPECT_EQ(rig.attempt_starts.at(1), at_ms(4331));
  }
}

TEST(retry, a_long_reset_is_capped_or_given_up_like_retry_after) {
  retry_options o = no_jitter(backoff_kind::constant, 100.0);
  o.retry_after_ms_max = 2000.0;
  {
    retry_rig rig(o);
    rig.answers = {with_reset(outcome_class::rate_limited, from_s(60)), outcome{}};
    rig.start();
    rig.run();
    EXPECT_EQ(rig.attempt_starts.at(1), at_ms(2010));
  }
  o.retry_after_over_max = retry_after_over_max_mode::give_up;
  {
    retry_rig rig(o);
    rig.answers = {with_reset(outcome_class::rate_limited, from_s(60)), outcome{}};
    rig.start();
    rig.run();
    EXPECT_EQ(rig.transport->started(), 1);
    EXPECT_EQ(rig.sink.count(policy_event_kind::retry_hint_too_long), 1U);
    EXPECT_EQ(rig.sink.events.at(0).delay, from_s(60));
  }
}


// --- zero hints, hints over the maximum, and deciding by status ---

TEST(retry, a_long_hint_falls_back_to_the_backoff_when_told_to) {
  retry_options o = no_jitter(backoff_kind::constant, 100.0);
  o.retry_after_ms_max = 60000.0;
  o.retry_after_over_max = retry_after_over_max_mode::backoff;
  retry_rig rig(o);
  rig.answers = {hinted(from_s(90)), hinted(from_s(60)), outcome{}};
  rig.start();
  rig.run();
  // 90 s is over the maximum: the backoff's 100 ms; 60 s is at it: obeyed.
  EXPECT_EQ(rig.attempt_starts, (std::vector<time_point>{at_ms(0), at_ms(110), at_ms(60120)}));
  EXPECT_EQ(rig.sink.count(policy_event_kind::retry_hint_too_long), 0U);
}

TEST(retry, a_zero_hint_retries_at_once_or_backs_off_when_told_to) {
  {
    retry_rig rig(no_jitter(backoff_kind::constant, 100.0));
    rig.answers = {hinted(duration{}), outcome{}};
    rig.start();
    rig.run();
    EXPECT_EQ(rig.attempt_starts, (std::vector<time_point>{at_ms(0), at_ms(10)}));
  }
  retry_options o = no_jitter(backoff_kind::constant, 100.0);
  o.retry_after_zero = retry_after_zero_mode::backoff;
  retry_rig rig(o);
  rig.answers = {hinted(duration{}), hinted(from_ms(1)), outcome{}};
  rig.start();
  rig.run();
  EXPECT_EQ(rig.attempt_starts, (std::vector<time_point>{at_ms(0), at_ms(110), at_ms(121)}));
}

outcome with_status(outcome_class c, int status) {
  outcome o = with_class(c);
  o.http_status = status;
  return o;
}

retry_options by_status() {
  retry_options o = no_jitter();
  o.retry_on = {outcome_class::timeout, outcome_class::connection_error};
  http_status_set statuses;
  for (int s : {408, 409, 429}) statuses.insert(s);
  for (int s = 500; s < 600; ++s) statuses.insert(s);
  o.retry_on_status = statuses;
  return o;
}

// Runs one call whose first attempt fails with `first` and whose second succeeds; gives the attempts made.
int attempts_after(const retry_options& o, const outcome& first) {
  retry_rig rig(o);
  rig.answers = {first, outcome{}};
  rig.start();
  rig.run();
  return rig.transport->started();
}

TEST(retry, by_status_a_listed_status_is_retried_whatever_its_class) {
  const retry_options o = by_status();
  EXPECT_EQ(attempts_after(o, with_status(outcome_class::invalid_request, 409)), 2) << "a lock timeout";
  EXPECT_EQ(attempts_after(o, with_status(outcome_class::quota, 429)), 2) << "insufficient_quota, retried in vain";
  EXPECT_EQ(attempts_after(o, with_status(outcome_class::timeout, 408)), 2);
  EXPECT_EQ(attempts_after(o, with_status(outcome_class::overloaded, 529)), 2);
  EXPECT_EQ(attempts_after(o, with_status(outcome_class::server_error, 501)), 2);
  // The same classes without the status list: permanent ones are never retried.
  EXPECT_EQ(attempts_after(no_jitter(), with_status(outcome_class::invalid_request, 409)), 1);
  EXPECT_EQ(attempts_after(no_jitter(), with_status(outcome_class::quota, 429)), 1);
}

TEST(retry, by_status_an_unlisted_status_or_a_failure_after_a_2xx_is_not_retried) {
  const retry_options o = by_status();
  EXPECT_EQ(attempts_after(o, with_status(outcome_class::invalid_request, 400)), 1);
  EXPECT_EQ(attempts_after(o, with_status(outcome_class::auth, 401)), 1);
  // A stream cut or an error event after the 200 head: the SDK's loop was over.
  EXPECT_EQ(attempts_after(o, with_status(outcome_class::connection_error, 200)), 1);
  EXPECT_EQ(attempts_after(o, with_status(outcome_class::overloaded, 200)), 1);
  outcome told = with_status(outcome_class::overloaded, 200);
  told.should_retry = true;
  EXPECT_EQ(attempts_after(o, told), 1) << "not even when a header says so";
}

TEST(retry, by_status_failures_without_a_status_follow_retry_on) {
  const retry_options o = by_status();
  EXPECT_EQ(attempts_after(o, with_class(outcome_class::timeout)), 2);
  EXPECT_EQ(attempts_after(o, with_class(outcome_class::connection_error)), 2);
  EXPECT_EQ(attempts_after(o, with_class(outcome_class::circuit_open)), 1);
}

TEST(retry, by_status_x_should_retry_comes_first_even_for_a_permanent_class) {
  const retry_options o = by_status();
  outcome yes = with_status(outcome_class::invalid_request, 400);
  yes.should_retry = true;
  EXPECT_EQ(attempts_after(o, yes), 2) << "the SDKs obey x-should-retry: true on any status";
  outcome no = with_status(outcome_class::overloaded, 503);
  no.should_retry = false;
  EXPECT_EQ(attempts_after(o, no), 1);
  retry_options ignoring = o;
  ignoring.should_retry_header = hint_mode::ignore;
  EXPECT_EQ(attempts_after(ignoring, yes), 1);
  EXPECT_EQ(attempts_after(ignoring, no), 2);
}

TEST(retry, retry_after_on_status_reads_the_hint_on_those_statuses_only) {
  retry_options o = no_jitter(backoff_kind::constant, 100.0);
  http_status_set only_429;
  only_429.insert(429);
  o.retry_after_on_status = only_429;
  retry_rig rig(o);
  outcome on_503 = with_status(outcome_class::overloaded, 503);
  on_503.retry_after = from_s(5);
  rig.answers = {on_503, hinted(from_s(5)), outcome{}};  // hinted() is a 429
  rig.start();
  rig.run();
  EXPECT_EQ(rig.attempt_starts, (std::vector<time_point>{at_ms(0), at_ms(110), at_ms(5120)}));
}

TEST(retry, backoff_after_hint_none_stops_waiting_once_a_hint_was_obeyed) {
  retry_options o = no_jitter(backoff_kind::constant, 100.0);
  o.attempts_max = 5;
  o.backoff_after_hint = backoff_after_hint_mode::none;
  retry_rig rig(o);
  rig.answers = {with_class(outcome_class::overloaded), hinted(from_ms(700)), with_class(outcome_class::overloaded),
                 outcome{}};
  rig.start();
  rig.run();
  EXPECT_EQ(rig.attempt_starts, (std::vector<time_point>{at_ms(0), at_ms(110), at_ms(820), at_ms(830)}));
}

}  // namespace
}  // namespace squall
