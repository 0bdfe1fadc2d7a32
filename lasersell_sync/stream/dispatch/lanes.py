"""A lane: per-key mailboxes served by worker threads, with the low-priority backlog policy.

Within a lane, items that share a key run one at a time in arrival order, while different keys
run in parallel on up to ``max_workers`` threads (started on demand; idle ones wait on a
condition, so an idle lane uses no CPU). A submission may be *conflated* (an undelivered older
item with the same conflation key is replaced in place by the newer one) or *bounded* (only the
newest ``bound`` bounded items stay queued; older ones are dropped and counted).
:class:`LowPolicy` holds that policy so that the ``events()`` iterator applies exactly the same
one as the handlers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, Hashable, List, Optional, Sequence, Tuple

__all__ = ["Lane", "LaneSnapshot", "LowPolicy", "Slot", "Submission"]

logger = logging.getLogger(__name__)

_WARN_EVERY = 60.0  # seconds between two backlog warnings
_YIELD_AFTER = 20e-6  # a handler that ran longer than this yields the GIL (when asked to)


Submission = Tuple[Hashable, Any, str, Optional[Tuple[str, int]], bool]
"""``(key, item, name, conflate, bounded)``: one item for :meth:`Lane.submit_many`."""


class Slot:
    """One queued item; emptied (``item = None``) when taken or dropped."""

    __slots__ = ("conflate", "item", "key")

    def __init__(self, item: Any, key: Hashable, conflate: Optional[Tuple[str, int]] = None) -> None:
        self.item = item
        self.key = key
        self.conflate = conflate


class LowPolicy:
    """Conflation and the backlog bound, shared by the low lane and every ``events()`` iterator.

    Not thread-safe: the owner calls it under its own lock.
    """

    __slots__ = ("_bounded", "_latest", "_warned_at", "bound", "conflated", "dropped", "what")

    def __init__(self, bound: int, what: str) -> None:
        self.bound = bound
        self.what = what
        self._latest: Dict[Tuple[str, int], Slot] = {}
        self._bounded: Deque[Slot] = deque()
        self._warned_at = -_WARN_EVERY
        self.conflated = 0
        self.dropped = 0

    def replace(self, conflate: Tuple[str, int], item: Any) -> bool:
        """Put ``item`` in the place of an undelivered one with the same key; False if none."""
        slot = self._latest.get(conflate)
        if slot is not None and slot.item is not None:
            slot.item = item
            self.conflated += 1
            return True
        return False

    def admit(self, slot: Slot, bounded: bool) -> Optional[Slot]:
        """Track a newly queued slot; returns an older bounded slot the caller must drop."""
        if slot.conflate is not None:
            self._latest[slot.conflate] = slot
            return None
        if not bounded or not self.bound:
            return None
        self._bounded.append(slot)
        if len(self._bounded) <= self.bound:
            return None
        old = self._bounded.popleft()
        if old.item is None:  # already delivered
            return None
        old.item = None
        self.dropped += 1
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY:
            self._warned_at = now
            logger.warning("%s backlog full: %d dropped so far (oldest first)", self.what, self.dropped)
        return old

    def taken(self, slot: Slot) -> None:
        """A slot was delivered: a newer conflated item must queue again."""
        if slot.conflate is not None and self._latest.get(slot.conflate) is slot:
            del self._latest[slot.conflate]


class LaneSnapshot:
    """Counters of one lane, read under its lock."""

    __slots__ = ("conflated", "counts", "dropped", "pending")

    def __init__(self, pending: int, conflated: int, dropped: int, counts: Dict[str, int]) -> None:
        self.pending = pending
        self.conflated = conflated
        self.dropped = dropped
        self.counts = counts


class Lane:
    """Per-key mailboxes served by up to ``max_workers`` threads named ``lasersell-<name>-N``.

    Args:
        run: called with each item on a worker thread; it must not raise (the dispatcher's
            runner isolates every handler call).
        bound: how many bounded submissions may wait (0: unbounded); ``bounded_what`` names
            them in the backlog warning.
        yield_gil: after an item that ran longer than 20 µs, yield the GIL so a CPU-bound
            handler cannot starve the reader thread.
        take: how many queued items of one key a worker takes per lock round trip (fewer lock
            round trips under a flood; the key's order is kept).
    """

    def __init__(
        self,
        name: str,
        max_workers: int,
        run: Callable[[Any], None],
        *,
        bound: int = 0,
        bounded_what: str = "bounded item",
        yield_gil: bool = False,
        take: int = 1,
    ) -> None:
        self.name = name
        self.max_workers = max_workers
        self._run = run
        self._cond = threading.Condition(threading.Lock())
        self._boxes: Dict[Hashable, Deque[Slot]] = {}  # a key is here iff it is ready or running
        self._ready: Deque[Hashable] = deque()
        self._policy = LowPolicy(bound, bounded_what)
        self._yield_gil = yield_gil
        self._take = take  # items of one key a worker takes per lock acquisition
        self._idle = 0
        self._threads: List[threading.Thread] = []
        self._busy: Dict[threading.Thread, Any] = {}  # worker -> the (first) key it is running
        self._stopping = False
        self._abandon = False
        self._pending = 0
        self._counts: Dict[str, int] = {}  # submissions per name

    def submit(
        self,
        key: Hashable,
        item: Any,
        name: str = "",
        *,
        conflate: Optional[Tuple[str, int]] = None,
        bounded: bool = False,
    ) -> None:
        """Queue ``item`` behind earlier items with the same ``key``.

        ``name`` is counted in :meth:`snapshot` (internal calls pass none); ``conflate`` and
        ``bounded`` apply the backlog policy described in the module docstring.
        """
        with self._cond:
            if not self._stopping and self._admit(key, item, name, conflate, bounded):
                self._wake(1)

    def submit_many(self, entries: Sequence[Submission]) -> None:
        """Queue several items (``(key, item, name, conflate, bounded)``) with one lock and at
        most one wake-up per worker needed."""
        with self._cond:
            if self._stopping:
                return
            admit, ready = self._admit, 0
            for key, item, name, conflate, bounded in entries:
                if admit(key, item, name, conflate, bounded):
                    ready += 1
            if ready:
                self._wake(ready)

    def _admit(self, key: Hashable, item: Any, name: str, conflate: Optional[Tuple[str, int]], bounded: bool) -> bool:
        """Under the lock: queue one item; True when its key just became ready."""
        if name:
            counts = self._counts
            counts[name] = counts.get(name, 0) + 1
        policy = self._policy
        if conflate is not None and policy.replace(conflate, item):
            return False
        slot = Slot(item, key, conflate)
        victim = policy.admit(slot, bounded)
        if victim is not None:  # still queued, near the front of its mailbox
            box = self._boxes.get(victim.key)
            if box is not None:
                box.remove(victim)
            self._pending -= 1
        self._pending += 1
        box = self._boxes.get(key)
        if box is not None:
            box.append(slot)  # the key is ready or running: its worker will get to it
            return False
        # Order matters if Ctrl-C interrupts the main thread here: a ready key without a
        # mailbox is skipped by the worker, whereas a mailbox never marked ready would stall.
        self._ready.append(key)
        self._boxes[key] = deque((slot,))
        return True

    def _wake(self, ready: int) -> None:
        """Under the lock: wake idle workers (or start new ones) for ``ready`` new keys."""
        woken = min(ready, self._idle)
        if woken:
            self._idle -= woken
            self._cond.notify(woken)
        for _ in range(min(ready - woken, self.max_workers - len(self._threads))):
            self._spawn()

    def snapshot(self) -> LaneSnapshot:
        """Queue depth and counters, consistent with each other."""
        with self._cond:
            policy = self._policy
            return LaneSnapshot(self._pending, policy.conflated, policy.dropped, dict(self._counts))

    def busy(self) -> List[str]:
        """Names of the threads running an item right now."""
        with self._cond:
            return [thread.name for thread in self._busy]

    def _spawn(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"lasersell-{self.name}-{len(self._threads) + 1}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        me = threading.current_thread()
        try:
            self._serve(me)
        finally:
            with self._cond:  # a worker that ends for any reason frees its place
                self._busy.pop(me, None)
                if me in self._threads:
                    self._threads.remove(me)
                if self._ready and not self._stopping and len(self._threads) < self.max_workers:
                    self._spawn()

    def _serve(self, me: threading.Thread) -> None:
        done: Optional[Tuple[Hashable, Deque[Slot]]] = None  # the key just run, not yet released
        try:
            while True:
                with self._cond:  # one lock round trip per run: release the last key, take the next
                    if done is not None:
                        self._release(*done)
                        done = None
                    while not self._ready or self._abandon:
                        if self._stopping and (self._abandon or not self._ready):
                            return
                        self._idle += 1
                        self._cond.wait()
                    taken = self._take_ready()
                    if taken is None:
                        continue
                    key, box, items = taken
                    self._busy[me] = key
                done = (key, box)
                self._run_all(items)
        finally:
            with self._cond:
                self._busy.pop(me, None)
                if done is not None:
                    self._release(*done)

    def _release(self, key: Hashable, box: Deque[Slot]) -> None:
        """Under the lock: a run of ``key`` ended; it is ready again if more items came."""
        if box:
            self._ready.append(key)
        else:
            del self._boxes[key]

    def _take_ready(self) -> Optional[Tuple[Hashable, Deque[Slot], List[Any]]]:
        """Under the lock, with a key ready: up to ``take`` items of that key, in order. The key
        stays out of ``ready`` (so no other worker runs it) until released. One key at a time: a
        worker blocked in a handler never holds other keys' items back from an idle worker."""
        ready, boxes, policy = self._ready, self._boxes, self._policy
        while True:
            key = ready.popleft()
            box = boxes.get(key)
            if box:
                break
            boxes.pop(key, None)  # only after an interrupted submit (see submit)
            if not ready:
                return None
        items = []
        for _ in range(min(len(box), self._take)):
            slot = box.popleft()
            items.append(slot.item)
            slot.item = None
            policy.taken(slot)
        self._pending -= len(items)
        return key, box, items

    def _run_all(self, items: List[Any]) -> None:
        run, yield_gil = self._run, self._yield_gil
        for item in items:
            if yield_gil:
                started = time.perf_counter()
                run(item)
                if time.perf_counter() - started > _YIELD_AFTER:
                    time.sleep(0)  # a CPU-heavy handler: let the reader take the GIL now
            else:
                run(item)

    def stop(self, abandon: bool = False) -> None:
        """Accept nothing more; workers exit once the queue is empty (now, if ``abandon``)."""
        with self._cond:
            self._stopping = True
            self._abandon = self._abandon or abandon
            self._cond.notify_all()

    def join(self, deadline: float) -> bool:
        """Wait for the workers (never the calling thread); True when all have exited."""
        current = threading.current_thread()
        with self._cond:
            threads = list(self._threads)
        for thread in threads:
            if thread is not current:
                thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads if t is not current)
