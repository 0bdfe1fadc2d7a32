"""Did it land? ``getSignatureStatuses`` polling, batched over every signature in flight.

A signature returned by ``sendTransaction`` only means an endpoint accepted the packet. A
:class:`StatusPoller` (one per RPC URL) asks ``getSignatureStatuses`` about *every* signature
being watched in one call per poll (every 200 ms, as the official CLI does), and reports each as
landed (at the wanted commitment), failed on chain (``err`` set) or timed out. Its thread starts
with the first watch and ends when nothing is in flight, so an idle sender polls nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import attrs

from ..errors import TxSubmitError

__all__ = ["COMMITMENTS", "Confirmation", "SignatureStatus", "StatusPoller", "Watch", "parse_statuses"]

logger = logging.getLogger(__name__)

COMMITMENTS = ("processed", "confirmed", "finalized")
"""Commitment levels, weakest first; a status at or above the wanted one counts as landed."""
MAX_BATCH = 256  # signatures per getSignatureStatuses call (the RPC's limit)


@attrs.frozen(kw_only=True)
class SignatureStatus:
    """One entry of ``getSignatureStatuses``: the slot it landed in and how final that is."""

    slot: int
    confirmations: Optional[int]
    err: Any
    confirmation_status: Optional[str]

    def reached(self, commitment: str) -> bool:
        """Whether this status is at least as final as ``commitment``."""
        level = self.confirmation_status
        if level is None:  # old RPCs: no confirmationStatus; confirmations None means finalized
            return self.confirmations is None or commitment != "finalized"
        return level in COMMITMENTS and COMMITMENTS.index(level) >= COMMITMENTS.index(commitment)


@attrs.frozen(kw_only=True)
class Confirmation:
    """How a sent transaction ended.

    Attributes:
        signature: the transaction signature (base58).
        outcome: ``"landed"``, ``"failed"`` (on chain: ``err`` says why; nothing was sold) or
            ``"timeout"`` (not seen at the wanted commitment in time: it may still land until its
            blockhash expires).
        slot: the slot it landed in (also set when it failed).
        confirmation_status: how final that is (``processed``, ``confirmed``, ``finalized``).
        err: the on-chain error of a failed transaction (e.g. ``{"InstructionError": [...]}``).
    """

    signature: str
    outcome: str
    slot: Optional[int] = None
    confirmation_status: Optional[str] = None
    err: Any = None

    @property
    def landed(self) -> bool:
        """It landed without error."""
        return self.outcome == "landed"

    @property
    def failed(self) -> bool:
        """It landed with an on-chain error."""
        return self.outcome == "failed"

    @property
    def timed_out(self) -> bool:
        """It was not seen in time."""
        return self.outcome == "timeout"


def parse_statuses(result: Any, count: int, name: str) -> List[Optional[SignatureStatus]]:
    """The ``value`` list of a ``getSignatureStatuses`` result, one entry per signature asked."""
    value = result.get("value") if isinstance(result, dict) else None
    if not isinstance(value, list) or len(value) != count:
        raise TxSubmitError(
            "missing_result", f"getSignatureStatuses returned no value for {count} signature(s)", target=name
        )
    statuses: List[Optional[SignatureStatus]] = []
    for entry in value:
        if entry is None:
            statuses.append(None)
            continue
        slot = entry.get("slot") if isinstance(entry, dict) else None
        if not isinstance(slot, int):
            raise TxSubmitError("decode_response", f"malformed signature status: {str(entry)[:120]}", target=name)
        confirmations = entry.get("confirmations")
        level = entry.get("confirmationStatus")
        statuses.append(
            SignatureStatus(
                slot=slot,
                confirmations=confirmations if isinstance(confirmations, int) else None,
                err=entry.get("err"),
                confirmation_status=level if isinstance(level, str) else None,
            )
        )
    return statuses


def outcome_of(signature: str, status: Optional[SignatureStatus], commitment: str) -> Optional[Confirmation]:
    """The final outcome a status shows, or None while it is not final yet."""
    if status is None:
        return None
    common = {"slot": status.slot, "confirmation_status": status.confirmation_status, "err": status.err}
    if status.err is not None:
        return Confirmation(signature=signature, outcome="failed", **common)
    if status.reached(commitment):
        return Confirmation(signature=signature, outcome="landed", **common)
    return None


Result = Union[Confirmation, TxSubmitError]


class Watch:
    """One signature being watched; ``on_done`` is called once, on the poller thread."""

    __slots__ = ("commitment", "deadline", "done", "on_done", "signature", "tolerant")

    def __init__(
        self, signature: str, deadline: float, on_done: Callable[[Result], None], commitment: str, tolerant: bool
    ) -> None:
        self.signature = signature
        self.deadline = deadline
        self.on_done = on_done
        self.commitment = commitment
        self.tolerant = tolerant  # a failed poll is retried until the deadline instead of reported
        self.done = False


class StatusPoller:
    """Watches signatures on one RPC with one ``getSignatureStatuses`` call per poll.

    Args:
        fetch: asks the RPC about a batch of signatures (raises TxSubmitError).
        interval: seconds between polls.
        name: thread name suffix, for thread dumps.
    """

    def __init__(
        self,
        fetch: Callable[[Sequence[str]], List[Optional[SignatureStatus]]],
        interval: float = 0.2,
        name: str = "confirm",
    ) -> None:
        self._fetch = fetch
        self._interval = interval
        self._name = name
        self._cond = threading.Condition(threading.Lock())
        self._watches: List[Watch] = []
        self._thread: Optional[threading.Thread] = None
        self._stopped = False
        self._poked = False
        self.polls = 0

    def watch(
        self,
        signature: str,
        timeout: float,
        on_done: Callable[[Result], None],
        *,
        commitment: str = "confirmed",
        tolerant: bool = False,
    ) -> Watch:
        """Report ``signature``'s outcome to ``on_done`` (a Confirmation, or a TxSubmitError)."""
        if commitment not in COMMITMENTS:
            raise ValueError(f"commitment must be one of {COMMITMENTS}, got {commitment!r}")
        entry = Watch(signature, time.monotonic() + timeout, on_done, commitment, tolerant)
        with self._cond:
            if self._stopped:
                raise TxSubmitError("transport", "the sender was closed", target=self._name)
            self._watches.append(entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"lasersell-{self._name}", daemon=True)
                self._thread.start()
        return entry

    def cancel(self, entry: Watch) -> None:
        """Stop watching (``on_done`` will not be called)."""
        with self._cond:
            entry.done = True
            if entry in self._watches:
                self._watches.remove(entry)

    def poke(self) -> None:
        """Poll now instead of at the next interval (something says a signature just landed)."""
        with self._cond:
            self._poked = True
            self._cond.notify_all()

    def in_flight(self) -> int:
        """Signatures being watched."""
        with self._cond:
            return len(self._watches)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling; every pending watch gets a ``transport`` error."""
        with self._cond:
            self._stopped = True
            pending, self._watches = self._watches, []
            thread = self._thread
            self._cond.notify_all()
        closed = TxSubmitError("transport", "the sender was closed before the transaction was confirmed")
        for entry in pending:
            self._finish(entry, closed)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._idle():
                    return
                earliest = min(entry.deadline for entry in self._watches)
                if not self._poked:
                    self._cond.wait(max(0.0, min(self._interval, earliest - time.monotonic())))
                self._poked = False
                if self._idle():
                    return
                batch = list(self._watches)
            self._poll(batch)
            self._expire()

    def _idle(self) -> bool:
        """Under the lock: nothing to watch (or stopped), so the thread ends."""
        if self._watches and not self._stopped:
            return False
        self._thread = None
        return True

    def _poll(self, batch: List[Watch]) -> None:
        signatures = list(dict.fromkeys(entry.signature for entry in batch))
        statuses: Dict[str, Optional[SignatureStatus]] = {}
        try:
            for start in range(0, len(signatures), MAX_BATCH):
                chunk = signatures[start : start + MAX_BATCH]
                self.polls += 1
                statuses.update(zip(chunk, self._fetch(chunk)))
        except TxSubmitError as exc:
            logger.warning("getSignatureStatuses failed: %s", exc)
            for entry in batch:
                if not entry.tolerant:
                    self._finish(entry, exc)
            return
        for entry in batch:
            outcome = outcome_of(entry.signature, statuses.get(entry.signature), entry.commitment)
            if outcome is not None:
                self._finish(entry, outcome)

    def _expire(self) -> None:
        now = time.monotonic()
        with self._cond:
            expired = [entry for entry in self._watches if entry.deadline <= now]
        for entry in expired:
            self._finish(entry, Confirmation(signature=entry.signature, outcome="timeout"))

    def _finish(self, entry: Watch, result: Result) -> None:
        with self._cond:
            if entry.done:
                return
            entry.done = True
            if entry in self._watches:
                self._watches.remove(entry)
        try:
            entry.on_done(result)
        except Exception:  # a callback must not stop the poller serving the others
            logger.exception("confirmation callback for %s failed", entry.signature)
