"""Runs handlers on worker threads: two priority lanes, per-key ordering, conflation.

High-priority events (exit signals, mirror signals, position opened/closed, balance updates,
errors, lifecycle, unknown types) and low-priority ones (``pnl_update``, ``liquidity_snapshot``,
``trade_tick``) have separate lanes with separate workers, so no flood or slow low-priority
handler can delay a high-priority handler from starting. Within a lane, events that share a key
(the position id; the mint where there is none) run one at a time in arrival order, while
different keys run in parallel. Lifecycle events (connected, disconnected, reconnecting, closed)
share one key, so they are handled one at a time, in arrival order.

Low-priority backlog: an undelivered ``pnl_update`` or ``liquidity_snapshot`` is replaced by a
newer one for the same position (the book already holds the state), and ``trade_tick`` is
bounded (oldest dropped, counted). High-priority events are never dropped. ``events()``
iterators get the same policy (see :mod:`~lasersell_sync.stream.dispatch.iterator`).

Nothing a handler raises escapes its call: the error is logged and goes to the ``on_error``
handlers. When there are none and no logging handler would show the record, it is printed to
stderr the way ``threading.excepthook`` prints an uncaught thread exception: never invisible.
"""

from __future__ import annotations

import inspect
import logging
import sys
import threading
import time
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..routes import ROUTES, Priority, order_key
from .iterator import EventIterator, EventQueue
from .lanes import Lane, Submission
from .registry import Event, HandlerRegistry

__all__ = ["Dispatcher"]

logger = logging.getLogger(__name__)

_LOW = Priority.LOW


class Dispatcher:
    """Routes events to lanes and iterators and runs their handlers, isolating every call."""

    def __init__(self, registry: HandlerRegistry, max_workers: int, low_workers: int, tick_limit: int) -> None:
        self.registry = registry
        self.high = Lane("worker", max_workers, self._run)
        self.low = Lane(
            "low", low_workers, self._run, bound=tick_limit, bounded_what="trade_tick", yield_gil=True, take=32
        )
        self._tick_limit = tick_limit
        self._errors_lock = threading.Lock()
        self.handler_errors = 0
        self._queues: Tuple[EventQueue, ...] = ()
        self._queues_lock = threading.Lock()
        self._shut_down = False

    def submit(self, event: Event[Any]) -> None:
        """Queue an event (called in arrival order, from the reader thread)."""
        name = event.type
        route = ROUTES[name]
        if route.lane is _LOW:
            position_id = event.message.position_id
            conflate = (name, position_id) if route.conflate else None
            for queue in self._queues:
                queue.put_low(event, conflate)
            self.low.submit(position_id, event, name, conflate=conflate, bounded=conflate is None)
        else:
            for queue in self._queues:
                queue.put_high(event)
            self.high.submit(order_key(route, name, event.message), event, name)

    def submit_many(self, events: List[Event[Any]]) -> None:
        """Queue a burst of events in arrival order: one lock and one wake-up per lane."""
        if len(events) == 1:
            self.submit(events[0])
            return
        low: List[Submission] = []
        high: List[Submission] = []
        queues = self._queues
        for event in events:
            name = event.type
            route = ROUTES[name]
            if route.lane is _LOW:
                position_id = event.message.position_id
                conflate = (name, position_id) if route.conflate else None
                for queue in queues:
                    queue.put_low(event, conflate)
                low.append((position_id, event, name, conflate, conflate is None))
            else:
                for queue in queues:
                    queue.put_high(event)
                high.append((order_key(route, name, event.message), event, name, None, False))
        if high:
            self.high.submit_many(high)
        if low:
            self.low.submit_many(low)

    def publish_error_later(self, error: BaseException, event: Optional[Event[Any]] = None) -> None:
        """Hand ``error`` to the error handlers on a worker (never on the calling thread).

        Reports about the same event type run in order; they never delay another event.
        """
        key = ("error", event.type if event is not None else type(error).__name__)
        self.high.submit(key, _ErrorReport(error, event))

    def publish_error(self, error: BaseException, event: Optional[Event[Any]], *, from_handler: bool = False) -> None:
        """Hand an error to the ``on_error`` handlers, or print it when there are none.

        An ``on_error`` handler that raises is reported on stderr, never recursed into.
        ``from_handler``: the error came out of user code, so its traceback is worth printing.
        """
        handlers = self.registry.error_handlers()
        if not handlers:
            if not logged_visibly(logging.ERROR if from_handler else logging.WARNING):
                print_unhandled(error, event, with_traceback=from_handler)
            return
        for handler in handlers:
            try:
                handler(error, event)
            except BaseException as exc:  # a worker survives anything
                logger.error("on_error handler %r failed", handler, exc_info=exc)
                if not logged_visibly(logging.ERROR):
                    print_unhandled(exc, event, f"on_error handler {handler!r} failed", with_traceback=True)

    def counts(self) -> Dict[str, int]:
        """Events submitted per event name, over both lanes."""
        totals = dict(self.high.snapshot().counts)
        for name, count in self.low.snapshot().counts.items():
            totals[name] = totals.get(name, 0) + count
        return totals

    def iterator_counters(self) -> Tuple[int, int, int]:
        """(queued, conflated, dropped) over every attached ``events()`` iterator."""
        totals = [0, 0, 0]
        for queue in self._queues:
            for index, value in enumerate(queue.counters()):
                totals[index] += value
        return totals[0], totals[1], totals[2]

    def iterate(self, timeout: Optional[float]) -> EventIterator:
        """A new attached ``events()`` iterator."""
        queue = EventQueue(self._tick_limit)
        with self._queues_lock:
            if self._shut_down:
                queue.end()
            else:
                self._queues = (*self._queues, queue)
        return EventIterator(queue, self._detach, timeout)

    def _detach(self, queue: EventQueue) -> None:
        with self._queues_lock:
            self._queues = tuple(q for q in self._queues if q is not queue)
        queue.end()

    def busy_threads(self) -> List[str]:
        """Worker threads running a handler right now."""
        return self.high.busy() + self.low.busy()

    def shutdown(self, timeout: float) -> bool:
        """Let queued and running handlers finish for up to ``timeout`` seconds, then stop.

        Returns False (and logs which threads) when a handler was still running at the end.
        """
        with self._queues_lock:
            self._shut_down = True
            queues, self._queues = self._queues, ()
        for queue in queues:
            queue.end()
        deadline = time.monotonic() + timeout
        for lane in (self.high, self.low):
            lane.stop()
        done = self.high.join(deadline) and self.low.join(deadline)
        if not done:
            for lane in (self.high, self.low):
                lane.stop(abandon=True)
            busy = self.busy_threads()
            logger.warning(
                "handlers still running after %.1f s on %s; queued events abandoned, the threads end when "
                "their handlers return",
                timeout,
                ", ".join(busy) or "worker threads",
            )
        return done

    def _run(self, item: Any) -> None:
        if type(item) is _ErrorReport:
            self.publish_error(item.error, item.event)
            return
        for handler in self.registry.handlers(item.type):
            try:
                result = handler(item)
                if result is not None and inspect.isawaitable(result):  # a lambda returning a coroutine
                    _discard(result)
                    raise TypeError(f"handler {handler!r} returned an awaitable; handlers must be plain functions")
            except BaseException as exc:  # sys.exit() in a handler must not kill a worker
                with self._errors_lock:
                    self.handler_errors += 1
                logger.error("handler %r for %s failed", handler, item.type, exc_info=exc)
                self.publish_error(exc, item, from_handler=True)


class _ErrorReport:
    __slots__ = ("error", "event")

    def __init__(self, error: BaseException, event: Optional[Event[Any]]) -> None:
        self.error = error
        self.event = event


def _discard(awaitable: Any) -> None:
    close: Optional[Callable[[], Any]] = getattr(awaitable, "close", None)
    if close is not None:
        close()  # no "coroutine was never awaited" warning on top of our error


def logged_visibly(level: int) -> bool:
    """Whether a record of ``level`` from this package reaches a real logging handler.

    The package logger has only a ``NullHandler``; this walks up to the root as logging does,
    so a configured application (``logging.basicConfig``, a file handler) counts as visible.
    """
    if not logger.isEnabledFor(level):
        return False
    current: Optional[logging.Logger] = logger
    while current is not None:
        for handler in current.handlers:
            if not isinstance(handler, logging.NullHandler) and level >= handler.level:
                return True
        if not current.propagate:
            return False
        current = current.parent
    return False


def print_unhandled(
    error: BaseException, event: Optional[Event[Any]], what: str = "", *, with_traceback: bool = False
) -> None:
    """The default report of an error nobody handles: stderr, like ``threading.excepthook``.

    Errors raised by user code get their traceback; errors the library reports (a bad frame,
    a failed reconnect, a rejected command) get one line.
    """
    if not what:
        where = f" ({event.type} event)" if event is not None else ""
        what = f"unhandled error{where}; register session.on_error to handle it"
    stream = sys.stderr
    if stream is None:  # pythonw: nowhere to print
        return
    try:
        if with_traceback and error.__traceback__ is not None:
            stream.write(f"lasersell_sync: {what}:\n")
            traceback.print_exception(type(error), error, error.__traceback__, file=stream)
        else:
            stream.write(f"lasersell_sync: {what}: {type(error).__name__}: {error}\n")
        stream.flush()
    except Exception:  # a closed stderr must not take a worker down
        logger.debug("could not print an unhandled error", exc_info=True)
