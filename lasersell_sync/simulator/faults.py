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
import threading
from typing import Any, Callable, ContextManager, Dict, List, Optional, Tuple

import attrs

__all__ = ["Faults", "RpcFaults", "SignalFaults", "TxFaultDecision", "TxFaults"]


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


class RpcFaults:
    """Faults of the simulated JSON-RPC, per method and per URL label (``sim.rpc_url_for(label)``).

    ``error``: answer HTTP 503. ``hang``: accept the request and never answer, until
    :meth:`heal` (then it is answered normally) or the simulator stops (then the connection is
    closed without an answer). A rule without a label applies to every URL; without a method,
    to every method. ``count`` caps how many requests a rule affects (None: until healed).
    """

    def __init__(self, changed: Callable[[], None]) -> None:
        self._changed = changed
        self._cond = threading.Condition()
        self._rules: Dict[Tuple[Optional[str], Optional[str]], List[Any]] = {}  # -> [mode, remaining]
        self._generation = 0  # bumped by heal(): a hung request compares it to go on
        self._answer_held = True
        self._stopped = False
        self.hung = 0  # requests being held right now

    def set(self, mode: str, method: Optional[str], label: Optional[str], count: Optional[int]) -> None:
        """Add a rule (it replaces one for the same method and label)."""
        if mode not in ("error", "hang"):
            raise ValueError(f"mode must be 'error' or 'hang', got {mode!r}")
        with self._cond:
            self._rules[(method, label)] = [mode, _check_count(count)]

    def heal(self, answer_held: bool = True) -> None:
        """Drop every rule; held requests are answered now (or refused with 503, never acted on)."""
        with self._cond:
            self._rules.clear()
            self._generation += 1
            self._answer_held = answer_held
            self._cond.notify_all()

    def stop(self) -> None:
        """Release held requests for good (the simulator is stopping)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def decide(self, methods: List[str], label: str) -> Optional[str]:
        """The fault for a request calling ``methods`` on ``label``: None, ``error`` or ``hang``."""
        with self._cond:
            for method in methods:
                for key in ((method, label), (method, None), (None, label), (None, None)):
                    rule = self._rules.get(key)
                    if rule is None or rule[1] == 0:
                        continue
                    if rule[1] is not None:
                        rule[1] -= 1
                    return str(rule[0])
        return None

    def hold(self) -> bool:
        """Block a hung request until healed (True: answer it now) or stopped (False: drop it)."""
        with self._cond:
            generation = self._generation
            self.hung += 1
        self._changed()
        try:
            with self._cond:
                self._cond.wait_for(lambda: self._stopped or self._generation != generation)
                return not self._stopped and self._answer_held
        finally:
            with self._cond:
                self.hung -= 1
            self._changed()


class SignalFaults:
    """What happens to the next exit signals on their way to the client: sent twice, or held back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._copies = 0  # signals still to be sent twice
        self._holds = 0  # signals still to be held back until released

    def duplicate(self, count: int) -> None:
        """Send each of the next ``count`` exit signals twice."""
        with self._lock:
            self._copies = _check_count(count) or 0

    def hold(self, count: int) -> None:
        """Hold each of the next ``count`` exit signals back until released (later frames go ahead)."""
        with self._lock:
            self._holds = _check_count(count) or 0

    def plan(self) -> Tuple[int, bool]:
        """For the exit signal being sent now: how many copies, and whether to hold them back."""
        with self._lock:
            copies = 2 if self._copies > 0 else 1
            self._copies = max(0, self._copies - 1)
            held = self._holds > 0
            self._holds = max(0, self._holds - 1)
            return copies, held


class Faults:
    """``sim.faults``: break things on purpose, for the stream and for transactions.

    Stream: ``drop_connections()``, ``go_silent()``, ``push_raw(frames)``, ``reject_auth = True``,
    ``extra_delay = seconds``, ``duplicate_signals``, ``hold_signals``/``release_signals``. Transactions:
    ``drop_transactions``, ``fail_transactions``, ``land_late``. RPC: ``fail_rpc``, ``hang_rpc``,
    ``heal_rpc``. Market: ``move_price``.
    """

    def __init__(
        self,
        stream: Any,
        tx_faults: TxFaults,
        lock: ContextManager[Any],
        move_price: Callable[[float, Optional[int]], int],
        rpc: RpcFaults,
    ) -> None:
        self._stream = stream
        self._tx = tx_faults
        self._lock = lock
        self._move_price = move_price
        self._rpc = rpc

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

    def duplicate_signals(self, count: int = 1) -> None:
        """Send each of the next ``count`` exit signals twice (as an at-least-once link may)."""
        self._stream.signal_faults.duplicate(count)

    def hold_signals(self, count: int = 1) -> None:
        """Hold each of the next ``count`` exit signals back until :meth:`release_signals`.

        Other frames are not held, so a held signal arrives late, after frames sent later: a
        slow path, or a slow handler in front of the bot's executor.
        """
        self._stream.signal_faults.hold(count)

    def release_signals(self) -> int:
        """Send every held exit signal now, in the order they were held; returns how many."""
        return int(self._stream.release_signals())

    # -- the RPC -----------------------------------------------------------------------------

    def fail_rpc(
        self, method: Optional[str] = None, *, label: Optional[str] = None, count: Optional[int] = None
    ) -> None:
        """Answer ``method`` (every method when None) with HTTP 503, on ``label``'s URL or every URL."""
        self._rpc.set("error", method, label, count)

    def hang_rpc(
        self, method: Optional[str] = None, *, label: Optional[str] = None, count: Optional[int] = None
    ) -> None:
        """Accept ``method`` requests and never answer them (until :meth:`heal_rpc`): a dead target."""
        self._rpc.set("hang", method, label, count)

    def heal_rpc(self, *, answer_held: bool = True) -> None:
        """End every RPC fault. Held requests are answered now, or with ``answer_held=False``
        refused with HTTP 503 and never acted on (a request that never got through)."""
        self._rpc.heal(answer_held)

    @property
    def hung_rpc_requests(self) -> int:
        """RPC requests being held by ``hang_rpc`` right now (``sim.wait_for`` sees it change)."""
        return self._rpc.hung

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
