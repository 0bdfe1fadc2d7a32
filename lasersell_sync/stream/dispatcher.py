"""Runs handlers on worker threads: two priority lanes, per-key ordering, conflation.

High-priority events (exit signals, mirror signals, position opened/closed, balance updates,
errors, lifecycle, unknown types) and low-priority ones (``pnl_update``, ``liquidity_snapshot``,
``trade_tick``) have separate lanes with separate workers, so no flood or slow low-priority
handler can delay a high-priority handler from starting. Within a lane, events that share a key
(the position id; the mint or type where there is none) run one at a time in arrival order,
while different keys run in parallel. Workers are started on demand and wait on a condition
when idle: an idle session uses no CPU.

Low-priority backlog: an undelivered ``pnl_update`` or ``liquidity_snapshot`` is replaced by a
newer one for the same position (the book already holds the state), and ``trade_tick`` is
bounded (oldest dropped, counted). High-priority events are never dropped.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, Hashable, Iterator, List, Optional, Tuple

from .registry import Event, HandlerRegistry

__all__ = ["LOW_PRIORITY", "Dispatcher", "EventIterator"]

logger = logging.getLogger(__name__)

LOW_PRIORITY = frozenset({"pnl_update", "liquidity_snapshot", "trade_tick"})
_CONFLATED = frozenset({"pnl_update", "liquidity_snapshot"})
_STOP = object()
_WARN_EVERY = 60.0  # seconds between two backlog warnings
_YIELD_AFTER = 20e-6  # a low-priority handler that ran longer than this yields the GIL


class _Slot:
    """One queued item; emptied when taken or dropped."""

    __slots__ = ("conflate", "item", "key")

    def __init__(self, item: Any, key: Hashable, conflate: Optional[Tuple[str, int]] = None) -> None:
        self.item = item
        self.key = key
        self.conflate = conflate


class Lane:
    """Per-key mailboxes served by up to ``max_workers`` threads."""

    def __init__(
        self, name: str, max_workers: int, run: Callable[[Any], None], *, tick_limit: int = 0, yield_gil: bool = False
    ) -> None:
        self.name = name
        self.max_workers = max_workers
        self._run = run
        self._cond = threading.Condition(threading.Lock())
        self._boxes: Dict[Hashable, Deque[_Slot]] = {}  # a key is here iff it is ready or running
        self._ready: Deque[Hashable] = deque()
        self._latest: Dict[Tuple[str, int], _Slot] = {}
        self._ticks: Deque[_Slot] = deque()
        self._tick_limit = tick_limit
        self._yield_gil = yield_gil  # after a CPU-heavy handler, so the reader is not starved
        self._idle = 0
        self._warned_at = -_WARN_EVERY
        self._threads: List[threading.Thread] = []
        self._stopping = False
        self._abandon = False
        self.pending = 0
        self.conflated = 0
        self.dropped = 0
        self.counts: Dict[str, int] = {}  # submissions per event name

    def submit(self, key: Hashable, item: Any, conflate: Optional[Tuple[str, int]] = None, name: str = "") -> None:
        with self._cond:
            if self._stopping:
                return
            if name:  # internal calls (error reports) are not events
                counts = self.counts
                counts[name] = counts.get(name, 0) + 1
            if conflate is not None:
                slot = self._latest.get(conflate)
                if slot is not None and slot.item is not None:
                    slot.item = item  # newest replaces the undelivered older one, in its place
                    self.conflated += 1
                    return
                slot = self._latest[conflate] = _Slot(item, key, conflate)
            else:
                slot = _Slot(item, key)
                if self._tick_limit and name == "trade_tick":
                    self._bound_ticks(slot)
            self.pending += 1
            box = self._boxes.get(key)
            if box is not None:
                box.append(slot)  # the key is ready or running: its worker will get to it
                return
            # Order matters if Ctrl-C interrupts the main thread here: a ready key without a
            # mailbox is skipped by the worker, whereas a mailbox never marked ready would stall.
            self._ready.append(key)
            self._boxes[key] = deque((slot,))
            if self._idle:
                self._idle -= 1
                self._cond.notify()
            elif len(self._threads) < self.max_workers:
                self._spawn()

    def _bound_ticks(self, slot: _Slot) -> None:
        self._ticks.append(slot)
        while len(self._ticks) > self._tick_limit:
            old = self._ticks.popleft()
            if old.item is not None:  # still queued: take it out of its mailbox (near the front)
                old.item = None
                box = self._boxes.get(old.key)
                if box is not None:
                    box.remove(old)
                self.pending -= 1
                self.dropped += 1
                now = time.monotonic()
                if now - self._warned_at >= _WARN_EVERY:
                    self._warned_at = now
                    logger.warning("trade_tick backlog full: %d dropped so far (oldest first)", self.dropped)

    def _spawn(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"lasersell-{self.name}-{len(self._threads) + 1}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._ready or self._abandon:
                    if self._stopping and (self._abandon or not self._ready):
                        return
                    self._idle += 1
                    self._cond.wait()
                key = self._ready.popleft()
                box = self._boxes.get(key)
                if not box:  # only after an interrupted submit (see submit)
                    self._boxes.pop(key, None)
                    continue
                slot = box.popleft()
                item, slot.item = slot.item, None
                if slot.conflate is not None and self._latest.get(slot.conflate) is slot:
                    del self._latest[slot.conflate]
                self.pending -= 1
            try:
                if item is not None:
                    if self._yield_gil:
                        started = time.perf_counter()
                        self._run(item)
                        if time.perf_counter() - started > _YIELD_AFTER:
                            time.sleep(0)  # a CPU-heavy handler: let the reader take the GIL now
                    else:
                        self._run(item)
            finally:
                with self._cond:
                    if box:
                        self._ready.append(key)
                    else:
                        del self._boxes[key]

    def stop(self, abandon: bool = False) -> None:
        """Accept nothing more; workers exit once the queue is empty (now, if ``abandon``)."""
        with self._cond:
            self._stopping = True
            self._abandon = self._abandon or abandon
            self._cond.notify_all()

    def join(self, deadline: float) -> bool:
        """Wait for the workers (never the calling thread); True when all have exited."""
        current = threading.current_thread()
        for thread in list(self._threads):
            if thread is not current:
                thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads if t is not current)

    def threads(self) -> List[threading.Thread]:
        return list(self._threads)


class EventIterator(Iterator[Event[Any]]):
    """Every event in arrival order; ends when the session closes or ``timeout`` passes idle."""

    def __init__(self, detach: Callable[[EventIterator], None], timeout: Optional[float]) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._detach = detach
        self._timeout = timeout
        self._done = False

    def put(self, event: Any) -> None:
        self._queue.put(event)

    def __next__(self) -> Event[Any]:
        if self._done:
            raise StopIteration
        try:
            item = self._queue.get(timeout=self._timeout)
        except queue.Empty:
            item = _STOP
        if item is _STOP:
            self.close()
            raise StopIteration
        return item  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop receiving events."""
        self._done = True
        self._detach(self)


class Dispatcher:
    """Routes events to lanes and runs their handlers, isolating every call."""

    def __init__(self, registry: HandlerRegistry, max_workers: int, low_workers: int, tick_limit: int) -> None:
        self.registry = registry
        self.high = Lane("worker", max_workers, self._run)
        self.low = Lane("low", low_workers, self._run, tick_limit=tick_limit, yield_gil=True)
        self._errors_lock = threading.Lock()
        self.handler_errors = 0
        self._iterators: Tuple[EventIterator, ...] = ()
        self._iterators_lock = threading.Lock()
        self._shut_down = False

    def submit(self, event: Event[Any]) -> None:
        """Queue an event (called in arrival order, from the reader thread)."""
        name = event.type
        for iterator in self._iterators:
            iterator.put(event)
        if name in LOW_PRIORITY:
            position_id = event.message.position_id
            self.low.submit(position_id, event, (name, position_id) if name in _CONFLATED else None, name)
        else:
            self.high.submit(_key(event), event, None, name)

    def submit_call(self, key: Hashable, call: Callable[[], None]) -> None:
        """Run ``call`` on a high-priority worker (used for error reports)."""
        self.high.submit(key, call)

    def report_error(self, error: BaseException, event: Optional[Event[Any]]) -> None:
        """Hand an error to the ``on_error`` handlers; one that raises is logged, not recursed."""
        for handler in self.registry.error_handlers():
            try:
                handler(error, event)
            except Exception:
                logger.exception("on_error handler %r failed", handler)

    def counts(self) -> Dict[str, int]:
        totals: Dict[str, int] = {}
        for lane in (self.high, self.low):
            with lane._cond:
                for name, count in lane.counts.items():
                    totals[name] = totals.get(name, 0) + count
        return totals

    def iterate(self, timeout: Optional[float]) -> EventIterator:
        iterator = EventIterator(self._detach, timeout)
        with self._iterators_lock:
            if self._shut_down:
                iterator.put(_STOP)
            else:
                self._iterators = (*self._iterators, iterator)
        return iterator

    def _detach(self, iterator: EventIterator) -> None:
        with self._iterators_lock:
            self._iterators = tuple(i for i in self._iterators if i is not iterator)

    def shutdown(self, timeout: float) -> bool:
        """Let queued and running handlers finish for up to ``timeout`` seconds, then stop."""
        with self._iterators_lock:
            self._shut_down = True
            iterators, self._iterators = self._iterators, ()
        for iterator in iterators:
            iterator.put(_STOP)
        deadline = time.monotonic() + timeout
        for lane in (self.high, self.low):
            lane.stop()
        done = self.high.join(deadline) and self.low.join(deadline)
        if not done:
            for lane in (self.high, self.low):
                lane.stop(abandon=True)
            logger.warning("handlers still running after %.1f s; abandoning queued events", timeout)
        return done

    def _run(self, item: Any) -> None:
        if not isinstance(item, Event):
            try:
                item()
            except Exception:
                logger.exception("internal dispatch task failed")
            return
        for handler in self.registry.handlers(item.type):
            try:
                handler(item)
            except Exception as exc:
                with self._errors_lock:
                    self.handler_errors += 1
                logger.exception("handler %r for %s failed", handler, item.type)
                self.report_error(exc, item)


def _key(event: Event[Any]) -> Hashable:
    """Events about one position (or one mint) run in order; others in parallel."""
    message = event.message
    position_id: Optional[int] = getattr(message, "position_id", None)
    if position_id is not None:
        return position_id
    mint = getattr(message, "mint", None)
    if mint is not None:
        return ("mint", mint)
    return ("type", event.type)
