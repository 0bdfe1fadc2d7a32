"""One thread and a heap for every position's deadline (not one timer thread per position).

The thread starts with the first timer and sleeps on a condition until the earliest deadline,
so it costs nothing between deadlines. Each key (a token account) has at most one live timer;
rescheduling or cancelling simply invalidates the old heap entry.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

__all__ = ["DeadlineScheduler"]

logger = logging.getLogger(__name__)


class DeadlineScheduler:
    """Calls ``on_expire(key)`` once when a key's deadline (monotonic seconds) passes."""

    def __init__(self, on_expire: Callable[[str], None], *, name: str = "lasersell-deadlines") -> None:
        self._on_expire = on_expire
        self._name = name
        self._cond = threading.Condition(threading.Lock())
        self._heap: List[Tuple[float, int, str]] = []
        self._live: Dict[str, int] = {}  # key -> sequence number of its live entry
        self._seq = 0
        self._thread: Optional[threading.Thread] = None
        self._stopped = False

    def schedule(self, key: str, due: float) -> None:
        """Arm (or re-arm) ``key`` to expire at monotonic time ``due``."""
        with self._cond:
            if self._stopped:
                return
            self._seq += 1
            self._live[key] = self._seq
            heapq.heappush(self._heap, (due, self._seq, key))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            elif self._heap[0][1] == self._seq:  # new earliest deadline: wake the thread
                self._cond.notify()

    def cancel(self, key: str) -> None:
        with self._cond:
            self._live.pop(key, None)

    def cancel_all(self) -> None:
        with self._cond:
            self._live.clear()
            self._heap.clear()

    def pending(self) -> int:
        with self._cond:
            return len(self._live)

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopped = True
            self._live.clear()
            self._heap.clear()
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopped:
                        return
                    while self._heap and self._live.get(self._heap[0][2]) != self._heap[0][1]:
                        heapq.heappop(self._heap)  # cancelled or superseded
                    if not self._heap:
                        self._cond.wait()
                        continue
                    due, _, key = self._heap[0]
                    wait = due - time.monotonic()
                    if wait <= 0:
                        heapq.heappop(self._heap)
                        del self._live[key]
                        break
                    self._cond.wait(wait)
            try:
                self._on_expire(key)
            except Exception:
                logger.exception("deadline action for %s failed", key)
