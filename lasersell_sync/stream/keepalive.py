"""When to ping and when to give up on a silent connection: a clock, no thread.

The reader thread asks :meth:`KeepaliveClock.next_wakeup` for its socket timeout, so an idle
connection wakes only to ping. A ping goes out after ``ping_interval`` of silence; if nothing at
all arrives within ``ping_timeout`` after it, the connection is dead (a half-open TCP
connection must not hang the bot). With the defaults a silent connection is detected in 30 s.
"""

from __future__ import annotations

import math
from typing import Optional

import attrs

__all__ = ["Keepalive", "KeepaliveClock"]


@attrs.frozen
class Keepalive:
    ping_interval: float
    ping_timeout: float
    app_ping_interval: Optional[float]

    def start(self, now: float) -> KeepaliveClock:
        return KeepaliveClock(self, now)


class KeepaliveClock:
    """Keepalive state of one connection."""

    __slots__ = ("_last_rx", "_next_app_ping", "_ping_sent", "settings")

    def __init__(self, settings: Keepalive, now: float) -> None:
        self.settings = settings
        self._last_rx = now
        self._ping_sent: Optional[float] = None
        app = settings.app_ping_interval
        self._next_app_ping = now + app if app else math.inf

    @property
    def ping_timeout(self) -> float:
        return self.settings.ping_timeout

    def received(self, now: float) -> None:
        """Anything arrived: the connection is alive."""
        self._last_rx = now
        self._ping_sent = None

    def next_wakeup(self) -> float:
        if self._ping_sent is None:
            due = self._last_rx + self.settings.ping_interval
        else:
            due = self._ping_sent + self.settings.ping_timeout
        return min(due, self._next_app_ping)

    def due(self, now: float) -> Optional[str]:
        """What to do now: ``"dead"``, ``"app_ping"``, ``"ping"`` or ``None``."""
        if self._ping_sent is not None and now >= self._ping_sent + self.settings.ping_timeout:
            return "dead"
        if now >= self._next_app_ping:
            interval = self.settings.app_ping_interval or math.inf
            self._next_app_ping = now + interval
            return "app_ping"
        if self._ping_sent is None and now >= self._last_rx + self.settings.ping_interval:
            self._ping_sent = now
            return "ping"
        return None
