"""Unit tests of the breaker, the backoff and the retry-and-fallback policy, on a fake clock and a pinned
random source: nothing sleeps. Run from this folder: python3 -m unittest"""

from __future__ import annotations

import asyncio
import unittest

from backoff import EQUAL, FULL, Backoff, BackoffOptions, is_retryable, retry_after_s
from breaker import CLOSED, HALF_OPEN, OPEN, BreakerOptions, CircuitBreaker
from resilience import Attempt, Breakers, FallbackAnswerer, call_with_retries


class FakeClock:
    def __init__(self):
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


def make_breaker(clock, transitions=None, **options):
    return CircuitBreaker(BreakerOptions(**options), clock,
                          (transitions.append if transitions is not None else lambda state: None))


def fail(breaker, times=1):
    for _ in range(times):
        breaker.record(breaker.acquire(), failed=True)


def succeed(breaker, times=1):
    for _ in range(times):
        breaker.record(breaker.acquire(), failed=False)


class CircuitBreakerTest(unittest.TestCase):
    def test_opens_after_consecutive_failures(self):
        clock, transitions = FakeClock(), []
        breaker = make_breaker(clock, transitions)
        fail(breaker, 4)
        self.assertEqual(breaker.state, CLOSED)
        fail(breaker)
        self.assertEqual(breaker.state, OPEN)
        self.assertEqual(transitions, [OPEN])
        self.assertIsNone(breaker.acquire())

    def test_a_success_resets_the_count(self):
        breaker = make_breaker(FakeClock())
        fail(breaker, 4)
        succeed(breaker)
        fail(breaker, 4)
        self.assertEqual(breaker.state, CLOSED)

    def test_rejects_until_the_recovery_time_then_half_opens(self):
        clock, transitions = FakeClock(), []
        breaker = make_breaker(clock, transitions, recovery_s=10)
        fail(breaker, 5)
        clock.advance(9.999)
        self.assertIsNone(breaker.acquire())
        clock.advance(0.001)
        permit = breaker.acquire()
        self.assertIsNotNone(permit)
        self.assertTrue(permit.trial)
        self.assertEqual(transitions, [OPEN, HALF_OPEN])

    def test_half_open_closes_after_enough_successes(self):
        clock, transitions = FakeClock(), []
        breaker = make_breaker(clock, transitions, half_open_successes=2)
        fail(breaker, 5)
        clock.advance(10)
        succeed(breaker)
        self.assertEqual(breaker.state, HALF_OPEN)
        succeed(breaker)
        self.assertEqual(transitions, [OPEN, HALF_OPEN, CLOSED])
        # Closed again: it takes the full count of failures to open it.
        fail(breaker, 4)
        self.assertEqual(breaker.state, CLOSED)

    def test_a_failure_in_half_open_reopens_for_another_recovery_time(self):
        clock, transitions = FakeClock(), []
        breaker = make_breaker(clock, transitions)
        fail(breaker, 5)
        clock.advance(10)
        succeed(breaker)
        fail(breaker)
        self.assertEqual(transitions, [OPEN, HALF_OPEN, OPEN])
        clock.advance(9)
        self.assertIsNone(breaker.acquire())
        clock.advance(1)
        self.assertIsNotNone(breaker.acquire())

    def test_half_open_admits_at_most_as_many_trials_as_it_needs(self):
        clock = FakeClock()
        breaker = make_breaker(clock, half_open_successes=2)
        fail(breaker, 5)
        clock.advance(10)
        first, second = breaker.acquire(), breaker.acquire()
        self.assertIsNotNone(second)
        self.assertIsNone(breaker.acquire())
        breaker.release(first)  # a cancelled trial frees its slot
        self.assertIsNotNone(breaker.acquire())

    def test_an_outcome_from_before_a_transition_is_not_counted(self):
        clock = FakeClock()
        breaker = make_breaker(clock, half_open_successes=1)
        slow = breaker.acquire()  # granted while closed
        fail(breaker, 5)
        clock.advance(10)
        trial = breaker.acquire()
        breaker.record(slow, failed=True)  # stale: must not reopen the half-open breaker
        self.assertEqual(breaker.state, HALF_OPEN)
        breaker.record(trial, failed=False)
        self.assertEqual(breaker.state, CLOSED)

    def test_options_are_validated(self):
        self.assertIsNone(BreakerOptions().validate())
        self.assertIn("failures_max", BreakerOptions(failures_max=0).validate())
        self.assertIn("recovery_s", BreakerOptions(recovery_s=0).validate())
        self.assertIn("half_open_successes", BreakerOptions(half_open_successes=0).validate())


class BackoffTest(unittest.TestCase):
    def test_full_jitter_draws_below_a_doubling_ceiling(self):
        backoff = Backoff(BackoffOptions(base_s=0.5, max_s=8, jitter=FULL), lambda: 0.5)
        self.assertEqual([backoff.delay_s(n) for n in range(6)], [0.25, 0.5, 1.0, 2.0, 4.0, 4.0])
        self.assertEqual(Backoff(BackoffOptions(jitter=FULL), lambda: 0.0).delay_s(3), 0.0)

    def test_equal_jitter_waits_at_least_half_the_ceiling(self):
        low = Backoff(BackoffOptions(base_s=0.5, max_s=8, jitter=EQUAL), lambda: 0.0)
        high = Backoff(BackoffOptions(base_s=0.5, max_s=8, jitter=EQUAL), lambda: 0.999)
        self.assertEqual([low.delay_s(n) for n in range(6)], [0.25, 0.5, 1.0, 2.0, 4.0, 4.0])
        self.assertAlmostEqual(high.delay_s(1), 0.5 + 0.999 * 0.5)
        self.assertLess(high.delay_s(10), 8.0)

    def test_a_huge_retry_index_stays_at_the_cap(self):
        backoff = Backoff(BackoffOptions(max_s=8, jitter=EQUAL), lambda: 0.0)
        self.assertEqual(backoff.delay_s(10_000), 4.0)

    def test_retry_after_wins_capped_at_max(self):
        backoff = Backoff(BackoffOptions(max_s=8), lambda: 0.5)
        self.assertEqual(backoff.delay_s(0, retry_after_s=3.0), 3.0)
        self.assertEqual(backoff.delay_s(0, retry_after_s=60.0), 8.0)
        self.assertEqual(backoff.delay_s(0, retry_after_s=0.0), 0.0)

    def test_which_statuses_are_retried(self):
        for status in (None, 408, 429, 500, 502, 503, 504, 529):
            self.assertTrue(is_retryable(status), status)
        for status in (200, 400, 401, 403, 404, 409, 413, 422):
            self.assertFalse(is_retryable(status), status)

    def test_retry_after_headers(self):
        self.assertEqual(retry_after_s({"retry-after": "2"}, 0), 2.0)
        self.assertEqual(retry_after_s({"Retry-After": "1.5"}, 0), 1.5)
        # OpenAI's milliseconds win over the rounded-up seconds.
        self.assertEqual(retry_after_s({"retry-after-ms": "250", "retry-after": "1"}, 0), 0.25)
        self.assertEqual(retry_after_s({"retry-after-ms": "junk", "retry-after": "1"}, 0), 1.0)
        self.assertEqual(retry_after_s({"retry-after": "Thu, 01 Jan 1970 00:00:30 GMT"}, 10), 20.0)
        self.assertIsNone(retry_after_s({"retry-after": "soon"}, 0))
        self.assertIsNone(retry_after_s({}, 0))

    def test_options_are_validated(self):
        self.assertIsNone(BackoffOptions().validate())
        self.assertIn("attempts_max", BackoffOptions(attempts_max=0).validate())
        self.assertIn("max_s", BackoffOptions(base_s=2, max_s=1).validate())
        self.assertIn("jitter", BackoffOptions(jitter="decorrelated").validate())


class ScriptedProvider:
    """Answers attempts from a per-model script of statuses (the last one repeats) and records them."""

    def __init__(self, scripts: dict[str, list[int | None]], retry_after: float | None = None):
        self._scripts = scripts
        self._retry_after = retry_after
        self.calls: list[str] = []

    async def __call__(self, model: str) -> Attempt:
        script = self._scripts[model]
        status = script[min(sum(1 for m in self.calls if m == model), len(script) - 1)]
        self.calls.append(model)
        if status == 200:
            return Attempt(status=200, answer=f"from {model}", model=model)
        return Attempt(status=status, error=f"status {status}", retry_after_s=self._retry_after)


class FakeSleep:
    def __init__(self, clock: FakeClock):
        self._clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self._clock.advance(seconds)


def run(coroutine):
    return asyncio.run(coroutine)


class RetryAndFallbackTest(unittest.TestCase):
    def setUp(self):
        self.clock = FakeClock()
        self.sleep = FakeSleep(self.clock)
        self.transitions: list[tuple[str, str]] = []
        self.breakers = Breakers(BreakerOptions(), self.clock,
                                 lambda model, state: self.transitions.append((model, state)))
        self.backoff = Backoff(BackoffOptions(attempts_max=3, base_s=0.5, jitter=FULL), lambda: 1.0)
        self.answerer = FallbackAnswerer("mini", self.breakers, self.backoff, self.sleep)

    def test_retries_transient_failures_with_backoff(self):
        provider = ScriptedProvider({"big": [503, 503, 200]})
        outcome = run(call_with_retries("big", self.breakers.for_model("big"), self.backoff, provider,
                                        self.sleep))
        self.assertTrue(outcome.last.ok)
        self.assertEqual(provider.calls, ["big"] * 3)
        self.assertEqual(self.sleep.delays, [0.5, 1.0])

    def test_honours_retry_after(self):
        provider = ScriptedProvider({"big": [429, 200]}, retry_after=2.0)
        run(call_with_retries("big", self.breakers.for_model("big"), self.backoff, provider, self.sleep))
        self.assertEqual(self.sleep.delays, [2.0])

    def test_does_not_retry_or_fall_back_on_validation_errors(self):
        provider = ScriptedProvider({"big": [400], "mini": [200]})
        reply = run(self.answerer.ask("big", provider))
        self.assertEqual(reply.http_status, 502)
        self.assertEqual(reply.body["status"], 400)
        self.assertEqual(provider.calls, ["big"])

    def test_falls_back_when_the_primary_gives_up(self):
        provider = ScriptedProvider({"big": [503], "mini": [200]})
        reply = run(self.answerer.ask("big", provider))
        self.assertEqual(reply.http_status, 200)
        self.assertEqual(reply.body, {"answer": "from mini", "model": "mini", "fallback": True})
        self.assertEqual(provider.calls, ["big"] * 3 + ["mini"])

    def test_the_breaker_opens_mid_retry_then_the_fallback_serves_at_once(self):
        provider = ScriptedProvider({"big": [None], "mini": [200]})  # connection errors
        run(self.answerer.ask("big", provider))
        run(self.answerer.ask("big", provider))  # its second attempt is the fifth failure in a row
        self.assertEqual(self.transitions, [("big", OPEN)])
        self.assertEqual(provider.calls, ["big"] * 3 + ["mini"] + ["big"] * 2 + ["mini"])
        # Two waits in the first request, one in the second: none after the breaker opened.
        self.assertEqual(self.sleep.delays, [0.5, 1.0, 0.5])
        provider.calls.clear()
        reply = run(self.answerer.ask("big", provider))
        self.assertEqual(provider.calls, ["mini"])
        self.assertTrue(reply.body["fallback"])

    def test_both_breakers_open_fails_fast_with_503(self):
        provider = ScriptedProvider({"big": [503], "mini": [503]})
        for _ in range(4):
            run(self.answerer.ask("big", provider))
        self.assertIn(("mini", OPEN), self.transitions)
        provider.calls.clear()
        reply = run(self.answerer.ask("big", provider))
        self.assertEqual(reply.http_status, 503)
        self.assertEqual(provider.calls, [])

    def test_the_primary_is_tried_again_after_the_recovery_time(self):
        provider = ScriptedProvider({"big": [503] * 5 + [200], "mini": [200]})
        for _ in range(2):
            run(self.answerer.ask("big", provider))
        self.clock.advance(10)
        reply = run(self.answerer.ask("big", provider))
        self.assertEqual(reply.body["model"], "big")
        self.assertFalse(reply.body["fallback"])
        reply = run(self.answerer.ask("big", provider))
        self.assertEqual(self.transitions, [("big", OPEN), ("big", HALF_OPEN), ("big", CLOSED)])

    def test_without_breakers_every_request_makes_every_attempt(self):
        answerer = FallbackAnswerer("mini", Breakers(None, self.clock), self.backoff, self.sleep)
        provider = ScriptedProvider({"big": [503], "mini": [503]})
        for _ in range(5):
            reply = run(answerer.ask("big", provider))
        self.assertEqual(reply.http_status, 502)
        self.assertEqual(len(provider.calls), 5 * 6)

    def test_a_request_for_the_fallback_model_has_no_second_chance(self):
        provider = ScriptedProvider({"mini": [503]})
        reply = run(self.answerer.ask("mini", provider))
        self.assertEqual(reply.http_status, 502)
        self.assertEqual(provider.calls, ["mini"] * 3)

    def test_breakers_are_capped(self):
        for n in range(Breakers.models_max):
            self.assertIsNotNone(self.breakers.for_model(f"m{n}"))
        self.assertIsNone(self.breakers.for_model("one-too-many"))
        self.assertIsNotNone(self.breakers.for_model("m0"))


if __name__ == "__main__":
    unittest.main()
