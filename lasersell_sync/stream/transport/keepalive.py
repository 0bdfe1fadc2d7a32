"""When to probe and when to give up on a silent connection: a clock, no thread.

The reader thread asks :meth:`KeepaliveClock.next_wakeup` for its socket timeout, so an idle
connection wakes only to probe. After ``ping_interval`` of silence a probe goes out; if nothing
at all arrives within ``ping_timeout`` after it, the connection is dead (a half-open TCP
connection must not hang the bot). With the defaults (10 s + 4 s) a silent connection is
detected 14 s after its last frame, and an idle one costs two wake-ups per 10 s: the probe and
its answer.

The probe is a WebSocket ping, except when an application ``ping`` (for the free tier's
inactivity timeout) would fall due before the next probe: then the application ping is the
probe, since its ``pong`` proves the link alive just as well. While frames flow no probe is
needed, and the application ping keeps its own schedule.
"""

from __future__ import annotations

import math
from typing import Optional

import attrs

__all__ = ["Keepalive", "KeepaliveClock"]


@attrs.frozen
class Keepalive:
    """Keepalive settings (seconds); ``app_ping_interval`` None disables application pings."""

    ping_interval: float
    ping_timeout: float
    app_ping_interval: Optional[float]

    def start(self, now: float) -> KeepaliveClock:
        """A clock for a connection that has just received a frame."""
        return KeepaliveClock(self, now)


class KeepaliveClock:
    """Keepalive state of one connection."""

    __slots__ = ("_last_rx", "_next_app_ping", "_probe_sent", "settings")

    def __init__(self, settings: Keepalive, now: float) -> None:
        self.settings = settings
        self._last_rx = now
        self._probe_sent: Optional[float] = None
        app = settings.app_ping_interval
        self._next_app_ping = now + app if app else math.inf

    @property
    def ping_timeout(self) -> float:
        """Seconds a probe may go unanswered."""
        return self.settings.ping_timeout

    def received(self, now: float) -> None:
        """Anything arrived: the connection is alive."""
        self._last_rx = now
        self._probe_sent = None

    def next_wakeup(self) -> float:
        """The monotonic time of the next thing to do."""
        if self._probe_sent is None:
            due = self._last_rx + self.settings.ping_interval
        else:
            due = self._probe_sent + self.settings.ping_timeout
        return min(due, self._next_app_ping)

    def due(self, now: float) -> Optional[str]:
        """What to do now: ``"dead"``, ``"app_ping"``, ``"ping"`` or ``None``."""
        settings = self.settings
        if self._probe_sent is not None:
            if now >= self._probe_sent + settings.ping_timeout:
                return "dead"
        elif now >= self._last_rx + settings.ping_interval:
            self._probe_sent = now
            if now + settings.ping_interval >= self._next_app_ping:
                return self._app_ping(now)
            return "ping"
        if now >= self._next_app_ping:
            return self._app_ping(now)
        return None

    def _app_ping(self, now: float) -> str:
        self._next_app_ping = now + (self.settings.app_ping_interval or math.inf)
        return "app_ping"
