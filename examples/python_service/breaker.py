"""A consecutive-failure circuit breaker, the kind production guides for AI calls recommend.

Closed: calls pass; `failures_max` failures in a row open it. Open: calls are rejected for `recovery_s`.
Half-open (the first call after that): up to `half_open_successes` trial calls at a time pass; that many
successes close it, one failure opens it again for another `recovery_s`.

Time comes from an injected clock (seconds, monotonic), so tests move it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerOptions:
    # Consecutive failures that open the breaker. The default value is 5.
    failures_max: int = 5
    # Seconds the breaker stays open before it lets trial calls through. The default value is 10.
    recovery_s: float = 10.0
    # Successful trial calls that close a half-open breaker; also how many trials may be in flight at
    # once. The default value is 2.
    half_open_successes: int = 2

    def validate(self) -> str | None:
        """An error naming the option out of range, or None."""
        if not 1 <= self.failures_max <= 1000:
            return f"failures_max {self.failures_max}: expected 1 to 1000"
        if not 0 < self.recovery_s <= 3600:
            return f"recovery_s {self.recovery_s}: expected more than 0 and at most 3600"
        if not 1 <= self.half_open_successes <= 1000:
            return f"half_open_successes {self.half_open_successes}: expected 1 to 1000"
        return None


@dataclass(frozen=True)
class Permit:
    """Leave to make one call. It belongs to the breaker state it was granted in (its generation): an
    outcome that arrives after the state changed says nothing about the new state and is not counted."""
    generation: int
    trial: bool


class CircuitBreaker:
    def __init__(self, options: BreakerOptions, clock: Callable[[], float],
                 on_transition: Callable[[str], None] = lambda state: None):
        self._options = options
        self._clock = clock
        self._on_transition = on_transition
        self._state = CLOSED
        self._generation = 0
        self._failures = 0          # consecutive, while closed
        self._successes = 0         # trial successes, while half-open
        self._trials_in_flight = 0  # while half-open
        self._opened_at_s = 0.0

    @property
    def state(self) -> str:
        """The state as last moved; an open breaker turns half-open only when a call asks for a permit."""
        return self._state

    def acquire(self) -> Permit | None:
        """A permit to call, or None when the call is rejected (open, or half-open with every trial slot
        taken)."""
        if self._state == OPEN:
            if self._clock() - self._opened_at_s < self._options.recovery_s:
                return None
            self._move(HALF_OPEN)
        if self._state == HALF_OPEN:
            if self._trials_in_flight >= self._options.half_open_successes:
                return None
            self._trials_in_flight += 1
            return Permit(self._generation, trial=True)
        return Permit(self._generation, trial=False)

    def record(self, permit: Permit, failed: bool) -> None:
        """The outcome of a call made with `permit`."""
        if not self._release_current(permit):
            return
        if self._state == CLOSED:
            self._failures = self._failures + 1 if failed else 0
            if self._failures >= self._options.failures_max:
                self._move(OPEN)
        elif self._state == HALF_OPEN:
            if failed:
                self._move(OPEN)
            else:
                self._successes += 1
                if self._successes >= self._options.half_open_successes:
                    self._move(CLOSED)

    def release(self, permit: Permit) -> None:
        """A call made with `permit` ended without an outcome (it was cancelled): free its trial slot."""
        self._release_current(permit)

    def _release_current(self, permit: Permit) -> bool:
        if permit.generation != self._generation:
            return False
        if permit.trial:
            self._trials_in_flight -= 1
        return True

    def _move(self, state: str) -> None:
        self._state = state
        self._generation += 1
        self._failures = 0
        self._successes = 0
        self._trials_in_flight = 0
        if state == OPEN:
            self._opened_at_s = self._clock()
        self._on_transition(state)


class NoBreaker:
    """Stands in for a breaker when BREAKER=off: every call passes, nothing is counted."""
    state = CLOSED

    def acquire(self) -> Permit:
        return Permit(0, trial=False)

    def record(self, permit: Permit, failed: bool) -> None:
        pass

    def release(self, permit: Permit) -> None:
        pass
