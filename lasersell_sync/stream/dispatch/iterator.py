"""``session.events()``: a pull loop over the events, with the same policy as the handlers.

Each iterator has its own queue: high-priority events in one deque, low-priority ones in another
under the lanes' :class:`~lasersell_sync.stream.dispatch.lanes.LowPolicy` (pnl/liquidity updates conflated
per position, trade ticks bounded with drops counted). ``next()`` takes a waiting high-priority
event first, so an exit signal never waits behind a backlog of PnL updates, however slow the loop.

An iterator that is abandoned (``break`` out of the loop, or simply dropped) detaches itself when
it is garbage collected; ``with session.events() as events:`` detaches it deterministically.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from typing import Any, Callable, Deque, Iterator, Optional, Tuple

from ...errors import SessionClosedError
from .lanes import LowPolicy, Slot
from .registry import Event

__all__ = ["EventIterator", "EventQueue"]


class EventQueue:
    """What one iterator has not consumed yet. Producers: the reader thread; one consumer."""

    def __init__(self, bound: int) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._high: Deque[Event[Any]] = deque()
        self._low: Deque[Slot] = deque()
        self._policy = LowPolicy(bound, "events() iterator trade_tick")
        self._ended = False

    def put_high(self, event: Event[Any]) -> None:
        """Queue a high-priority event (never dropped)."""
        with self._cond:
            self._high.append(event)
            self._cond.notify()

    def put_low(self, event: Event[Any], conflate: Optional[Tuple[str, int]]) -> None:
        """Queue a low-priority event: conflated when ``conflate`` is given, else bounded."""
        with self._cond:
            policy = self._policy
            if conflate is not None and policy.replace(conflate, event):
                return
            slot = Slot(event, None, conflate)
            victim = policy.admit(slot, bounded=conflate is None)
            if victim is not None:
                self._low.remove(victim)
            self._low.append(slot)
            self._cond.notify()

    def end(self) -> None:
        """No more events will come: the consumer drains what is queued, then stops."""
        with self._cond:
            self._ended = True
            self._cond.notify()

    def counters(self) -> Tuple[int, int, int]:
        """(queued, conflated, dropped)."""
        with self._cond:
            return len(self._high) + len(self._low), self._policy.conflated, self._policy.dropped

    def get(self, timeout: Optional[float]) -> Optional[Event[Any]]:
        """The next event, high priority first; None when idle for ``timeout`` seconds.

        Raises:
            SessionClosedError: the stream ended and everything queued was consumed.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._high:
                    return self._high.popleft()
                if self._low:
                    slot = self._low.popleft()
                    event: Event[Any] = slot.item
                    slot.item = None
                    self._policy.taken(slot)
                    return event
                if self._ended:
                    raise SessionClosedError("the session has ended")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)


class EventIterator(Iterator[Event[Any]]):
    """Every event from now on: high priority first, then low priority in arrival order.

    A ``for`` loop over it ends when the session closes (``closed`` is then True) or after
    ``timeout`` idle seconds (``timed_out`` is then True). :meth:`get` waits for one event
    without ending anything.

    Example:
        >>> with session.events(timeout=30) as events:
        ...     for event in events:
        ...         handle(event)
        >>> if events.timed_out: ...
    """

    def __init__(self, queue: EventQueue, detach: Callable[[EventQueue], None], timeout: Optional[float]) -> None:
        self._queue = queue
        self._timeout = timeout
        self._finalizer = weakref.finalize(self, detach, queue)
        self._done = False
        self.timed_out = False
        """True when a ``for`` loop ended because no event came within ``timeout``."""

    @property
    def closed(self) -> bool:
        """True once the iterator has stopped: detached, or the session ended."""
        return self._done or not self._finalizer.alive

    def __iter__(self) -> EventIterator:
        return self

    def __next__(self) -> Event[Any]:
        if self._done:
            raise StopIteration
        try:
            event = self._queue.get(self._timeout)
        except SessionClosedError:
            self.close()
            raise StopIteration from None
        if event is None:
            self.timed_out = True
            self.close()
            raise StopIteration
        return event

    def get(self, timeout: Optional[float] = None) -> Optional[Event[Any]]:
        """The next event, or None if none arrives within ``timeout`` seconds (None: wait).

        Raises:
            SessionClosedError: the session has ended (or this iterator was closed) and every
                queued event was consumed.
        """
        if self._done:
            raise SessionClosedError("this events() iterator is closed")
        try:
            return self._queue.get(timeout)
        except SessionClosedError:
            self.close()
            raise

    def close(self) -> None:
        """Detach from the session: nothing more is queued for this iterator."""
        self._done = True
        self._finalizer()

    def __enter__(self) -> EventIterator:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
