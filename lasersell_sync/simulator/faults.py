"""Fault switches of the simulator: for the stream (connections) and for transactions (the chain).

Transaction faults are decided when ``sendTransaction`` accepts a transaction that is not a
re-send, from a random generator seeded by the simulator's seed: the same seed and the same
sequence of submissions give the same faults. ``rate`` is a probability (1.0: every
transaction, 0: off); ``count`` caps how many transactions a switch affects (None: no cap).
``drop_transactions(1.0, count=1)`` drops exactly the next transaction.
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable, ContextManager, Dict, List, Optional

import attrs

__all__ = ["Faults", "TxFaultDecision", "TxFaults"]


@attrs.define
class _Switch:
    rate: float = 0.0
    remaining: Optional[int] = None  # None: no cap
    seconds: float = 0.0

    def fires(self, rng: random.Random) -> bool:
        if self.rate <= 0 or self.remaining == 0:
            return False
        if rng.random() >= self.rate:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        return True


@attrs.frozen
class TxFaultDecision:
    """What the switches decided for one submitted transaction."""

    drop: bool = False
    fail: bool = False
    late_seconds: float = 0.0


def _check_rate(rate: float) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(f"rate must be a number from 0 to 1, got {rate!r}")
    return float(rate)


def _check_count(count: Optional[int]) -> Optional[int]:
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise ValueError(f"count must be None or an integer >= 0, got {count!r}")
    return count


class TxFaults:
    """The three transaction switches and their seeded random generator (not thread-safe)."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed ^ 0xFA0175)
        self.drop = _Switch()
        self.fail = _Switch()
        self.late = _Switch()

    def set_drop(self, rate: float, count: Optional[int] = None) -> None:
        """Accept but never land ``rate`` of the next transactions (at most ``count``)."""
        self.drop = _Switch(_check_rate(rate), _check_count(count))

    def set_fail(self, rate: float, count: Optional[int] = None) -> None:
        """Land ``rate`` of the next transactions with a forced on-chain error (at most ``count``)."""
        self.fail = _Switch(_check_rate(rate), _check_count(count))

    def set_late(self, seconds: float, count: Optional[int] = None, rate: float = 1.0) -> None:
        """Hold ``rate`` of the next transactions for ``seconds`` of wall time (at most ``count``)."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        if seconds < 0:
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        self.late = _Switch(_check_rate(rate) if seconds > 0 else 0.0, _check_count(count), float(seconds))

    def settings(self) -> Dict[str, Dict[str, Any]]:
        """The switches as plain data: rate, remaining count (None: no cap) and late seconds."""
        return {
            "drop": {"rate": self.drop.rate, "remaining": self.drop.remaining},
            "fail": {"rate": self.fail.rate, "remaining": self.fail.remaining},
            "late": {"rate": self.late.rate, "remaining": self.late.remaining, "seconds": self.late.seconds},
        }

    def decide(self) -> TxFaultDecision:
        """Draw the faults of one fresh submission (a dropped transaction neither fails nor waits)."""
        if self.drop.fires(self._rng):
            return TxFaultDecision(drop=True)
        fail = self.fail.fires(self._rng)
        late = self.late.seconds if self.late.fires(self._rng) else 0.0
        return TxFaultDecision(fail=fail, late_seconds=late)


class Faults:
    """``sim.faults``: break things on purpose, for the stream and for transactions.

    Stream: ``drop_connections()``, ``go_silent()``, ``push_raw(frames)``, ``reject_auth = True``,
    ``extra_delay = seconds``. Transactions: ``drop_transactions``, ``fail_transactions``,
    ``land_late``. Market: ``move_price``.
    """

    def __init__(
        self,
        stream: Any,
        tx_faults: TxFaults,
        lock: ContextManager[Any],
        move_price: Callable[[float, Optional[int]], int],
    ) -> None:
        self._stream = stream
        self._tx = tx_faults
        self._lock = lock
        self._move_price = move_price

    # -- stream ------------------------------------------------------------------------------

    @property
    def reject_auth(self) -> bool:
        """When true, new stream connections get HTTP 401 (a bad API key)."""
        return bool(self._stream.reject_auth)

    @reject_auth.setter
    def reject_auth(self, value: bool) -> None:
        self._stream.reject_auth = value

    @property
    def extra_delay(self) -> float:
        """Seconds the stream waits before each message it sends (a slow link)."""
        return float(self._stream.extra_delay)

    @extra_delay.setter
    def extra_delay(self, value: float) -> None:
        self._stream.extra_delay = value

    def drop_connections(self) -> None:
        """Abort every stream connection's TCP stream (no close frame), to exercise reconnects."""
        self._stream.drop_connections()

    def go_silent(self, silent: bool = True) -> None:
        """Stop (or resume) reading and sending without closing: a half-open link to detect."""
        self._stream.go_silent(silent)

    def push_raw(self, frames: List[str]) -> None:
        """Send frames verbatim (malformed ones too) to every live session."""
        self._stream.push_raw(frames)

    # -- transactions ------------------------------------------------------------------------

    def drop_transactions(self, rate: float, count: Optional[int] = None) -> None:
        """``sendTransaction`` accepts (returns the signature) but the transaction never lands.

        A later re-send of the same signed transaction is a new submission and may land.
        """
        with self._lock:
            self._tx.set_drop(rate, count)

    def fail_transactions(self, rate: float, count: Optional[int] = None) -> None:
        """The transaction lands with ``FORCED_FAILURE_ERROR`` and changes nothing (not slippage)."""
        with self._lock:
            self._tx.set_fail(rate, count)

    def land_late(self, seconds: float, count: Optional[int] = None, *, rate: float = 1.0) -> None:
        """The transaction lands no earlier than ``seconds`` of wall-clock time after it was sent.

        Wall seconds, whatever the simulator's speed: it lands at the first slot that starts
        after that, unless its blockhash has expired by then (then it never lands, as on a real
        chain). ``seconds=0`` turns the switch off.
        """
        with self._lock:
            self._tx.set_late(seconds, count, rate)

    def transaction_settings(self) -> Dict[str, Dict[str, Any]]:
        """What the transaction switches are set to now (``remaining`` counts down)."""
        with self._lock:
            return self._tx.settings()

    # -- market ------------------------------------------------------------------------------

    def move_price(self, factor: float, position_id: Optional[int] = None) -> int:
        """Multiply the price of an open position (every one when None) by ``factor``, now.

        A deterministic way to make an exit's slippage insufficient: sells built before the
        move and landing after it fail with ``SLIPPAGE_ERROR`` when the move exceeds their
        slippage. Returns how many positions moved.
        """
        if (
            isinstance(factor, bool)
            or not isinstance(factor, (int, float))
            or not (math.isfinite(factor) and factor > 0)
        ):
            raise ValueError(f"factor must be a positive number, got {factor!r}")
        return self._move_price(float(factor), position_id)
