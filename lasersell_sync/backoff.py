"""One backoff policy for the package: exponential growth, capped, with full jitter.

The first attempt after a healthy connection drops is immediate: a lost connection costs no
waiting at all. From the second consecutive attempt on, full jitter spreads reconnecting clients
out (no thundering herd after a server restart) and the ceiling doubles, so a server that accepts
and drops every connection is not hammered.
"""

from __future__ import annotations

import random
from typing import Callable, Optional

import attrs

__all__ = ["LOW_LATENCY_RETRY_POLICY", "Backoff", "RetryPolicy", "exponential_delay"]


def exponential_delay(attempt: int, initial: float, maximum: float) -> float:
    """The ceiling before retry number ``attempt`` (1-based): ``min(initial * 2**(attempt-1), maximum)``.

    Returns a value in ``[0, maximum]``; ``attempt < 1`` is treated as 1.
    """
    exponent = max(attempt, 1) - 1
    if exponent >= 64:  # avoid a huge float; the cap has long been reached
        return maximum
    return min(initial * (2.0**exponent), maximum)


@attrs.frozen(kw_only=True)
class Backoff:
    """Reconnect timing: full-jitter exponential backoff.

    Attributes:
        initial: ceiling of the first delay, seconds (spec default 0.1).
        maximum: cap of the ceiling, seconds (spec default 2.0).
        max_attempts: give up after this many consecutive failed attempts (``None``: never).
        healthy_after: a connection that stayed up this long resets the attempt count.
    """

    initial: float = attrs.field(default=0.1, validator=attrs.validators.ge(0.0))
    maximum: float = attrs.field(default=2.0, validator=attrs.validators.ge(0.0))
    max_attempts: Optional[int] = attrs.field(default=None, validator=attrs.validators.optional(attrs.validators.ge(1)))
    healthy_after: float = attrs.field(default=2.0, validator=attrs.validators.ge(0.0))

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before attempt number ``attempt`` (1-based) of one outage.

        Attempt 1 is immediate (0.0). Attempt ``n >= 2`` waits uniformly in
        ``[0, exponential_delay(n - 1, initial, maximum)]``: 0-100 ms, 0-200 ms, ... up to 0-2 s.
        """
        if attempt <= 1:
            return 0.0
        return rand() * exponential_delay(attempt - 1, self.initial, self.maximum)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """Retries for request/response calls (the Exit API), tuned for a trading hot path.

    Before retry ``n`` (the attempt that just failed) the delay is
    ``min(initial_backoff * 2**(n-1), max_backoff)`` plus a uniform jitter in ``[0, jitter]``.
    The defaults are the official ones: 2 attempts, 25 ms, 25 ms, 25 ms jitter.
    """

    max_attempts: int = attrs.field(default=2, validator=attrs.validators.ge(1))
    initial_backoff: float = attrs.field(default=0.025, validator=attrs.validators.ge(0.0))
    max_backoff: float = attrs.field(default=0.025, validator=attrs.validators.ge(0.0))
    jitter: float = attrs.field(default=0.025, validator=attrs.validators.ge(0.0))

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return exponential_delay(attempt, self.initial_backoff, self.max_backoff) + rand() * self.jitter


LOW_LATENCY_RETRY_POLICY = RetryPolicy(max_attempts=3, initial_backoff=0.025, max_backoff=0.1, jitter=0.025)
"""One more attempt than :class:`RetryPolicy`'s defaults, still on a trading hot path's budget.

Waits 25 ms, then 50 ms, each plus 0-25 ms jitter (the ceiling doubles towards 100 ms). The
official SDKs' preset of the same name has 2 attempts, which only ever uses the first delay and
so behaves exactly like the defaults; this one has 3, so it is a real choice.
"""
