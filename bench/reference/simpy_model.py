#!/usr/bin/python3
"""The model of bench/reference/reference_sim.cpp in SimPy 3 (Debian's python3-simpy3), for issue 19.

The load of bench/sim_throughput_bench.cpp's BM_RetryTimeoutBreaker: Poisson arrivals; each request has
an overall timeout of 30 s around a retry of at most 3 attempts (on a 503 or a per-attempt timeout;
exponential backoff from 100 ms, x2, full jitter; no retry whose wait would reach the deadline), a
circuit breaker counting every attempt (10 one-second buckets, at least 50 calls, opens at 50% failures,
open 60 s, 10 half-open probes) and a per-attempt timeout of 5 s. The provider answers 1% of attempts
with a 503 after 30 ms; the rest take one of 2,000 slots (a simpy.Resource), else wait in its FIFO queue
of at most 2,000, else are shed with a 503 after 30 ms; service lasts ttft (lognormal, median 300 ms,
sigma 0.5) plus 5 ms per output token (lognormal, median 100, sigma 0.5, capped at 1,000). Work whose
client left goes on and holds its slot.

SimPy's idiom throughout: each request and each piece of server work is a process; a timeout is a race
(AnyOf, `event | env.timeout(t)`); the overall timeout interrupts the request's retry loop
(Process.interrupt). SimPy cannot cancel a timeout event, so a timer that lost its race still fires
(into nobody) later, as the C++ reference's lazily cancelled timers do.

Usage: simpy_model.py --rate RPS --duration-s S --seed N  (prints one JSON object, same keys as the C++)
"""
import argparse
import json
import math
import random
import time

import simpy

SLOTS = 2000
QUEUE_MAX = 2000
ERROR_503 = 0.01
ERROR_LATENCY_S = 0.030
TTFT_MU, TTFT_SIGMA = math.log(0.300), 0.5  # seconds
S_PER_OUTPUT_TOKEN = 0.005
TOKENS_MU, TOKENS_SIGMA, TOKENS_CAP = math.log(100), 0.5, 1000
OVERALL_TIMEOUT_S = 30.0
ATTEMPT_TIMEOUT_S = 5.0
ATTEMPTS_MAX = 3
BACKOFF_BASE_S, BACKOFF_MULTIPLIER, BACKOFF_MAX_S = 0.100, 2.0, 30.0
BREAKER_WINDOW_S, BREAKER_CALLS_MIN, BREAKER_FAILURE_RATE = 10, 50, 0.5
BREAKER_SLOW_S, BREAKER_SLOW_RATE = 60.0, 1.0
BREAKER_OPEN_S, BREAKER_HALF_OPEN_CALLS = 60.0, 10
DRAIN_S = 60.0


class Breaker:
    """resilience4j's breaker with a time window of one-second buckets (as squall's circuit_breaker)."""

    def __init__(self, env):
        self.env = env
        self.state = "closed"
        self.epoch = 0
        self.buckets = [[0, 0, 0] for _ in range(BREAKER_WINDOW_S)]  # calls, failures, slow
        self.totals = [0, 0, 0]
        self.second = 0
        self.probes_admitted = self.probes_completed = self.probe_failures = self.probes_slow = 0

    def admit(self):
        """(admitted, probe)"""
        if self.state == "closed":
            return True, False
        if self.state == "half_open" and self.probes_admitted < BREAKER_HALF_OPEN_CALLS:
            self.probes_admitted += 1
            return True, True
        return False, False

    def _advance(self, second):
        if second <= self.second:
            return
        for i in range(1, min(second - self.second, BREAKER_WINDOW_S) + 1):
            b = self.buckets[(self.second + i) % BREAKER_WINDOW_S]
            for k in range(3):
                self.totals[k] -= b[k]
                b[k] = 0
        self.second = second

    @staticmethod
    def _tripped(failures, slow, calls):
        return failures / calls >= BREAKER_FAILURE_RATE or slow / calls >= BREAKER_SLOW_RATE

    def record(self, epoch, probe, latency_s, failure):
        if epoch != self.epoch:
            return
        slow = latency_s >= BREAKER_SLOW_S
        if self.state == "closed":
            second = int(self.env.now)
            self._advance(second)
            b = self.buckets[second % BREAKER_WINDOW_S]
            for k, v in enumerate((1, int(failure), int(slow))):
                b[k] += v
                self.totals[k] += v
            calls, failures, slows = self.totals
            if calls >= BREAKER_CALLS_MIN and self._tripped(failures, slows, calls):
                self._open()
        elif self.state == "half_open" and probe:
            self.probes_completed += 1
            self.probe_failures += int(failure)
            self.probes_slow += int(slow)
            if self.probes_completed < BREAKER_HALF_OPEN_CALLS:
                return
            if self._tripped(self.probe_failures, self.probes_slow, self.probes_completed):
                self._open()
            else:
                self._set("closed")

    def cancelled(self, epoch, probe):
        if probe and epoch == self.epoch and self.state == "half_open":
            self.probes_admitted -= 1

    def _set(self, state):
        self.state = state
        self.epoch += 1
        self.buckets = [[0, 0, 0] for _ in range(BREAKER_WINDOW_S)]
        self.totals = [0, 0, 0]

    def _open(self):
        self._set("open")
        self.env.process(self._half_open_later(self.epoch))

    def _half_open_later(self, epoch):
        yield self.env.timeout(BREAKER_OPEN_S)
        if epoch == self.epoch:
            self._set("half_open")
            self.probes_admitted = self.probes_completed = self.probe_failures = self.probes_slow = 0


class Model:
    def __init__(self, env, rate, duration_s, seed):
        self.env = env
        self.rate = rate
        self.duration_s = duration_s
        self.rng = random.Random(seed)
        self.slots = simpy.Resource(env, capacity=SLOTS)
        self.breaker = Breaker(env)
        self.in_flight = 0
        self.arrivals_over = False
        self.all_done = env.event()
        self.requests = self.succeeded = self.attempts = 0
        self.timeouts = self.overloaded = self.breaker_rejected = self.shed = 0
        self.latencies_ms = []

    def arrivals(self):
        while True:
            yield self.env.timeout(self.rng.expovariate(self.rate))
            if self.env.now >= self.duration_s:
                break
            self.env.process(self.request())
        self.arrivals_over = True
        if self.in_flight == 0:
            self.all_done.succeed()

    def service(self, tokens):
        """The provider's work on one attempt: a slot (waiting in the queue if need be), then the service
        time. It is its own process, so that it goes on when the client stops waiting."""
        with self.slots.request() as slot:
            yield slot
            yield self.env.timeout(self.rng.lognormvariate(TTFT_MU, TTFT_SIGMA) + tokens * S_PER_OUTPUT_TOKEN)
        return "ok"

    def provider(self, tokens):
        """An event that the attempt's answer triggers, with the value "ok" or "overloaded"."""
        if self.rng.random() < ERROR_503:
            return self.env.timeout(ERROR_LATENCY_S, value="overloaded")
        if self.slots.count >= SLOTS and len(self.slots.queue) >= QUEUE_MAX:
            self.shed += 1
            return self.env.timeout(ERROR_LATENCY_S, value="overloaded")
        return self.env.process(self.service(tokens))

    def retry_loop(self, tokens, deadline, state):
        """The retry with, per attempt, the breaker and the per-attempt timeout. `state` tells the
        request which attempt is at the provider, for the breaker when the overall timeout interrupts."""
        try:
            attempt = 0
            while True:
                attempt += 1
                admitted, probe = self.breaker.admit()
                if not admitted:
                    self.breaker_rejected += 1
                    return "circuit_open"  # not a class the retry retries
                self.attempts += 1
                epoch, started = self.breaker.epoch, self.env.now
                state["attempt"] = (epoch, probe)
                answer = self.provider(tokens)
                raced = yield answer | self.env.timeout(ATTEMPT_TIMEOUT_S)
                state["attempt"] = None
                result = raced[answer] if answer in raced else "timeout"
                self.breaker.record(epoch, probe, self.env.now - started, result != "ok")
                if result == "ok" or attempt >= ATTEMPTS_MAX:
                    return result
                backoff = min(BACKOFF_BASE_S * BACKOFF_MULTIPLIER ** (attempt - 1), BACKOFF_MAX_S)
                delay = backoff * self.rng.random()
                if deadline - self.env.now <= delay:
                    return result
                yield self.env.timeout(delay)
        except simpy.Interrupt:
            if state["attempt"] is not None:
                self.breaker.cancelled(*state["attempt"])
            return "abandoned"

    def request(self):
        self.requests += 1
        self.in_flight += 1
        arrived = self.env.now
        tokens = round(min(self.rng.lognormvariate(TOKENS_MU, TOKENS_SIGMA), TOKENS_CAP))
        state = {"attempt": None}
        call = self.env.process(self.retry_loop(tokens, arrived + OVERALL_TIMEOUT_S, state))
        raced = yield call | self.env.timeout(OVERALL_TIMEOUT_S)
        if call in raced:
            result = raced[call]
        elif not call.is_alive:  # ended at the very instant of the timeout
            result = call.value
        else:
            call.interrupt()
            result = "timeout"
        if result == "ok":
            self.succeeded += 1
        elif result == "timeout":
            self.timeouts += 1
        elif result == "overloaded":
            self.overloaded += 1
        self.latencies_ms.append((self.env.now - arrived) * 1000)
        self.in_flight -= 1
        if self.in_flight == 0 and self.arrivals_over:
            self.all_done.succeed()


def quantile(values, q):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--duration-s", type=float, required=True)
    parser.add_argument("--seed", type=int, default=1)
    a = parser.parse_args()
    started, cpu_started = time.perf_counter(), time.process_time()
    env = simpy.Environment()
    m = Model(env, a.rate, a.duration_s, a.seed)
    env.process(m.arrivals())
    # Ends when every request has its answer (stale timers left over are not waited for), at the latest
    # after the drain.
    env.run(until=m.all_done | env.timeout(a.duration_s + DRAIN_S))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    n = m.requests
    print(json.dumps({
        "model": "simpy", "simpy_version": simpy.__version__, "rate_per_s": a.rate, "duration_s": a.duration_s,
        "seed": a.seed, "requests": n, "seconds": round(seconds, 6), "requests_per_s": round(n / seconds, 1),
        "cpu_seconds": round(cpu_seconds, 6), "requests_per_cpu_s": round(n / cpu_seconds, 1),
        "succeeded": m.succeeded, "attempts": m.attempts,
        "success_rate": round(m.succeeded / n, 6) if n else 0, "attempts_per_request": round(m.attempts / n, 6) if n else 0,
        "timeouts": m.timeouts, "overloaded": m.overloaded, "breaker_rejected": m.breaker_rejected, "shed": m.shed,
        "unfinished": m.in_flight, "latency_p50_ms": round(quantile(m.latencies_ms, 0.5), 1),
        "latency_p99_ms": round(quantile(m.latencies_ms, 0.99), 1), "simulated_s": round(env.now, 3)}))


if __name__ == "__main__":
    main()
