"""Exponential backoff with jitter, and which failures deserve a retry.

The delay before retry n (0 for the first retry) has the ceiling min(max_s, base_s * 2**n). Full jitter
draws it uniformly from [0, ceiling]; equal jitter waits half the ceiling plus a uniform draw from the other
half (AWS's "Exponential Backoff And Jitter" names both). A server's Retry-After wins over the formula, capped
at max_s so a provider cannot park the service.

Randomness comes from an injected source of floats in [0, 1), so tests pin it.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from typing import Callable, Mapping

FULL = "full"
EQUAL = "equal"

# Transient answers: rate limits, overload, server errors, and 408 (the server timed the request out).
# Validation and auth errors (400, 401, 403, 404, 422, ...) fail the same way every time and are not retried.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})


@dataclass(frozen=True)
class BackoffOptions:
    # Attempts in all, the first included. The default value is 3.
    attempts_max: int = 3
    # Ceiling of the first retry's delay, in seconds; it doubles each retry. The default value is 0.5.
    base_s: float = 0.5
    # Largest delay, Retry-After included, in seconds. The default value is 8.
    max_s: float = 8.0
    # "full" or "equal". The default value is "full".
    jitter: str = FULL

    def validate(self) -> str | None:
        """An error naming the option out of range, or None."""
        if not 1 <= self.attempts_max <= 20:
            return f"attempts_max {self.attempts_max}: expected 1 to 20"
        if not 0 < self.base_s <= 60:
            return f"base_s {self.base_s}: expected more than 0 and at most 60"
        if not self.base_s <= self.max_s <= 600:
            return f"max_s {self.max_s}: expected from base_s ({self.base_s}) to 600"
        if self.jitter not in (FULL, EQUAL):
            return f"jitter {self.jitter!r}: expected {FULL!r} or {EQUAL!r}"
        return None


class Backoff:
    def __init__(self, options: BackoffOptions, random: Callable[[], float]):
        self._options = options
        self._random = random

    @property
    def attempts_max(self) -> int:
        return self._options.attempts_max

    def delay_s(self, retry_index: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry `retry_index` (0 for the first retry)."""
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self._options.max_s)
        # min() on the exponent too, so a large index cannot overflow the float.
        ceiling = min(self._options.max_s, self._options.base_s * 2 ** min(retry_index, 64))
        if self._options.jitter == EQUAL:
            return ceiling / 2 + self._random() * ceiling / 2
        return self._random() * ceiling


def is_retryable(status: int | None) -> bool:
    """None stands for no HTTP answer at all: a connection error or a timeout, always worth a retry."""
    return status is None or status in RETRYABLE_STATUSES


def retry_after_s(headers: Mapping[str, str], now_s: float) -> float | None:
    """The wait a server asked for: `retry-after-ms` (OpenAI's, more precise) or `retry-after` in seconds
    or as an HTTP date (`now_s` is the Unix time to count a date from). None when absent or unreadable."""
    millis = _lookup(headers, "retry-after-ms")
    if millis is not None:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    value = _lookup(headers, "retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now_s, 0.0)


def _lookup(headers: Mapping[str, str], name: str) -> str | None:
    # aiohttp's headers are case-insensitive already; a plain dict in a test may not be.
    value = headers.get(name)
    if value is None:
        for key, item in headers.items():
            if key.lower() == name:
                return item
    return value
