"""How a question is answered: retries with backoff on one model, each attempt through that model's breaker,
then the cheaper fallback model when the primary gives up or its breaker is open.

Nothing here does I/O: the caller passes `send`, which makes one attempt and returns its outcome as a value,
and `sleep`, so tests run the whole policy on fake time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable

from backoff import Backoff, is_retryable
from breaker import OPEN, BreakerOptions, CircuitBreaker, NoBreaker


@dataclass(frozen=True)
class Attempt:
    """The outcome of one upstream attempt."""
    status: int | None                  # None: no HTTP answer (connection error, timeout)
    answer: str | None = None           # the text, when the attempt succeeded
    model: str | None = None            # the model the provider says answered
    error: str | None = None            # why it failed
    retry_after_s: float | None = None  # the wait the provider asked for

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None

    @property
    def transient(self) -> bool:
        """A failure worth retrying, which also counts against the breaker. A 200 whose body cannot be read
        is a server fault like a 500."""
        return not self.ok and (is_retryable(self.status) or self.status == 200)


@dataclass(frozen=True)
class ModelOutcome:
    """How the calls to one model ended: `last` is None when the breaker let no attempt through."""
    last: Attempt | None

    @property
    def rejected(self) -> bool:
        return self.last is None


@dataclass(frozen=True)
class Reply:
    """What the service answers the user."""
    http_status: int
    body: dict


Send = Callable[[str], Awaitable[Attempt]]  # one attempt on the named model
Sleep = Callable[[float], Awaitable[None]]


class Breakers:
    """One breaker per model, made on first use. A request may name any model, so their number is capped."""
    models_max = 64

    def __init__(self, options: BreakerOptions | None, clock: Callable[[], float],
                 on_transition: Callable[[str, str], None] = lambda model, state: None):
        self._options = options  # None: BREAKER=off
        self._clock = clock
        self._on_transition = on_transition
        self._by_model: dict[str, CircuitBreaker] = {}

    def for_model(self, model: str) -> CircuitBreaker | NoBreaker | None:
        """The model's breaker; None when the cap is reached and this model has none yet."""
        if self._options is None:
            return NoBreaker()
        breaker = self._by_model.get(model)
        if breaker is None:
            if len(self._by_model) >= self.models_max:
                return None
            breaker = CircuitBreaker(self._options, self._clock,
                                     lambda state: self._on_transition(model, state))
            self._by_model[model] = breaker
        return breaker


async def call_with_retries(model: str, breaker: CircuitBreaker | NoBreaker, backoff: Backoff,
                            send: Send, sleep: Sleep) -> ModelOutcome:
    """Up to backoff.attempts_max attempts on `model`. The breaker sees every attempt, so it opens in the
    middle of a retry sequence rather than after whole requests; once open, the retries stop."""
    last = None
    for attempt in range(backoff.attempts_max):
        permit = breaker.acquire()
        if permit is None:
            return ModelOutcome(last)
        try:
            last = await send(model)
        except BaseException:
            breaker.release(permit)  # cancelled: no outcome to count
            raise
        breaker.record(permit, failed=last.transient)
        if last.ok or not last.transient or attempt + 1 == backoff.attempts_max:
            return ModelOutcome(last)
        if breaker.state == OPEN:
            return ModelOutcome(last)  # the next attempt would be rejected: do not wait for it
        await sleep(backoff.delay_s(attempt, last.retry_after_s))
    return ModelOutcome(last)


class FallbackAnswerer:
    def __init__(self, fallback_model: str, breakers: Breakers, backoff: Backoff, sleep: Sleep):
        self._fallback_model = fallback_model
        self._breakers = breakers
        self._backoff = backoff
        self._sleep = sleep

    async def ask(self, model: str, send: Send) -> Reply:
        """Answers with `model`, else with the fallback model when `model` failed transiently after its
        retries or its breaker is open. A validation error (400, 404, ...) is not retried on another model:
        the same request would fail the same way there."""
        primary_breaker = self._breakers.for_model(model)
        if primary_breaker is None:
            return Reply(400, {"error": f"model {model!r}: this service keeps breakers for at most "
                                        f"{Breakers.models_max} models"})
        primary = await call_with_retries(model, primary_breaker, self._backoff, send, self._sleep)
        if primary.last is not None and primary.last.ok:
            return _answer(primary.last, model, fallback=False)
        if model == self._fallback_model or (primary.last is not None and not primary.last.transient):
            return _failure(primary, model)

        fallback_breaker = self._breakers.for_model(self._fallback_model)
        if fallback_breaker is None:
            return _failure(primary, model)
        fallback = await call_with_retries(self._fallback_model, fallback_breaker, self._backoff, send,
                                           self._sleep)
        if fallback.last is not None and fallback.last.ok:
            return _answer(fallback.last, self._fallback_model, fallback=True)
        if primary.rejected and fallback.rejected:
            return Reply(503, {"error": f"the circuit breakers of {model} and {self._fallback_model} are "
                                        "open", "status": None})
        return _failure(fallback if not fallback.rejected else primary,
                        self._fallback_model if not fallback.rejected else model)


def _answer(attempt: Attempt, model: str, fallback: bool) -> Reply:
    return Reply(200, {"answer": attempt.answer, "model": attempt.model or model, "fallback": fallback})


def _failure(outcome: ModelOutcome, model: str) -> Reply:
    if outcome.rejected:  # the only model tried had its breaker open: fail fast
        return Reply(503, {"error": f"the circuit breaker of {model} is open", "status": None})
    last = outcome.last
    return Reply(502, {"error": f"{model}: {last.error or f'status {last.status}'}", "status": last.status})
