"""The exit shell's network side: sends, status polls and blockhash checks, each on its own thread.

Every target has its own small pool, so a target that hangs delays nobody else; a re-broadcast
to a target that has not answered the previous send of the same attempt is skipped, so a dead
target cannot pile threads up. Polls and checks share one pool for the confirming RPC (the core
never has two polls in flight). Every task feeds its result back as a core event, whatever
happens: an unexpected error becomes a failed result, never a silence the core would wait on.
``close()`` aborts every request in flight (a hung RPC included) and joins every thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Optional, Set, Tuple

from ...errors import TxSubmitError
from ...tx import SendTarget, TxSender
from ...tx.fastsign import read_blockhash
from .messages import (
    AttemptRef,
    BlockhashChecked,
    Broadcast,
    CheckBlockhash,
    Event,
    Poll,
    PollFailed,
    PollResult,
    SendResult,
)

__all__ = ["ExitIO"]

logger = logging.getLogger(__name__)

_SENDS_PER_TARGET = 4  # concurrent sends to one target (different attempts)
_RPC_THREADS = 2  # a poll and a blockhash check can run at once


class ExitIO:
    """Carries out ``Broadcast``, ``Poll`` and ``CheckBlockhash`` and feeds the answers back."""

    def __init__(
        self,
        sender: TxSender,
        targets: List[SendTarget],
        rpc_url: str,
        commitment: str,
        feed: Callable[[Event], None],
    ) -> None:
        self._sender = sender
        self._targets = targets
        self._rpc = rpc_url
        self._commitment = commitment
        self._feed = feed
        self._lock = threading.Lock()
        self._pools: Dict[str, ThreadPoolExecutor] = {}
        self._sending: Set[Tuple[int, AttemptRef]] = set()
        self._failing: Set[int] = set()  # targets whose last send failed (logged once per streak)
        self._holding = False  # closing: sends still queued are not made
        self._warming: Set[int] = set()  # targets with a warm-up in flight
        self._cold: Set[int] = set()  # targets whose last warm-up failed (logged once per streak)
        self.warm_failures = 0
        self._closed = False

    def broadcast(self, action: Broadcast) -> None:
        """Send to every target at once; a re-send skips a target still busy with this attempt."""
        for index, target in enumerate(self._targets):
            with self._lock:
                if self._closed or (not action.first and (index, action.ref) in self._sending):
                    continue
                self._sending.add((index, action.ref))
                pool = self._pool(f"send-{index}", _SENDS_PER_TARGET)
            try:
                pool.submit(self._send, index, target, action)
            except RuntimeError:  # closed meanwhile: nothing is sent any more
                return

    def warm(self) -> None:
        """Keep each target's pooled connection alive, unless a send or a warm-up is using it."""
        for index, target in enumerate(self._targets):
            with self._lock:
                busy = index in self._warming or any(sending == index for sending, _ in self._sending)
                if self._closed or self._holding or busy:
                    continue
                self._warming.add(index)
                pool = self._pool(f"send-{index}", _SENDS_PER_TARGET)
            try:
                pool.submit(self._warm, index, target)
            except RuntimeError:  # closed meanwhile
                return

    def poll(self, action: Poll) -> None:
        """Blockhash validity first, then every status, on the RPC pool."""
        self._submit_rpc(self._poll, action)

    def check(self, action: CheckBlockhash) -> None:
        """Is a queued signal's blockhash still valid? On the RPC pool."""
        self._submit_rpc(self._check, action)

    def hold_sends(self) -> None:
        """From now on no send starts, not even one queued before (the executor is closing)."""
        with self._lock:
            self._holding = True

    def close(self) -> None:
        """Abort every request in flight, then join every thread (they end within milliseconds)."""
        with self._lock:
            self._closed = True
            pools, self._pools = list(self._pools.values()), {}
        self._sender.abort()
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)

    # -- tasks (pool threads) --------------------------------------------------------------------

    def _send(self, index: int, target: SendTarget, action: Broadcast) -> None:
        error: Optional[BaseException] = None
        with self._lock:
            holding = self._holding
        try:
            if holding:
                raise TxSubmitError("transport", "not sent: the executor is closing", target=target.name)
            self._sender.send_b64(target, action.tx_b64)
        except TxSubmitError as exc:
            error = exc
        except Exception as exc:  # a bug must not leave the core waiting
            logger.exception("sending to %s failed unexpectedly", target.name)
            error = exc
        with self._lock:
            self._sending.discard((index, action.ref))
            first_failure = error is not None and index not in self._failing and not self._holding
            if error is None:
                self._failing.discard(index)
            else:
                self._failing.add(index)
        if first_failure:
            logger.warning(
                "send target %s refused an exit transaction: %s (once until it recovers)", target.name, error
            )
        self._feed(SendResult(action.ref, target.name, error))

    def _warm(self, index: int, target: SendTarget) -> None:
        error: Optional[BaseException] = None
        try:
            self._sender.warm(target)
        except TxSubmitError as exc:
            error = exc
        except Exception as exc:
            logger.exception("warming %s failed unexpectedly", target.name)
            error = exc
        with self._lock:
            self._warming.discard(index)
            report = error is not None and index not in self._cold and not self._holding
            if error is None:
                self._cold.discard(index)
            else:
                self.warm_failures += 1
                self._cold.add(index)
        if report:
            logger.warning("send target %s did not answer its warm-up: %s (once until it recovers)", target.name, error)

    def _poll(self, action: Poll) -> None:
        valid: Dict[str, bool] = {}
        try:
            for blockhash in action.blockhashes:
                try:
                    valid[blockhash] = self._sender.is_blockhash_valid(
                        self._rpc, blockhash, commitment=self._commitment
                    )
                except TxSubmitError as exc:
                    logger.debug("isBlockhashValid failed: %s", exc)
            statuses = self._sender.signature_statuses(self._rpc, action.signatures)
        except Exception as exc:  # TxSubmitError, or a bug: the core polls again either way
            if not isinstance(exc, TxSubmitError):
                logger.exception("status poll failed unexpectedly")
            self._feed(PollFailed(action.poll, exc))
            return
        self._feed(PollResult(action.poll, dict(zip(action.signatures, statuses)), valid))

    def _check(self, action: CheckBlockhash) -> None:
        valid: Optional[bool] = None
        try:
            blockhash = read_blockhash(action.signal.payload)
            valid = self._sender.is_blockhash_valid(self._rpc, blockhash, commitment=self._commitment)
        except TxSubmitError as exc:
            logger.debug("checking a queued exit's blockhash failed: %s", exc)
        except Exception:
            logger.exception("checking a queued exit's blockhash failed unexpectedly")
        self._feed(BlockhashChecked(action.ref, valid))

    # -- plumbing --------------------------------------------------------------------------------

    def _submit_rpc(self, task: Callable[..., None], action: object) -> None:
        with self._lock:
            if self._closed:
                return
            pool = self._pool("rpc", _RPC_THREADS)
        with contextlib.suppress(RuntimeError):  # closed meanwhile
            pool.submit(task, action)

    def _pool(self, name: str, size: int) -> ThreadPoolExecutor:
        """Under the lock: the named pool (threads start on first use)."""
        pool = self._pools.get(name)
        if pool is None:
            pool = self._pools[name] = ThreadPoolExecutor(size, thread_name_prefix=f"lasersell-exit-{name}")
        return pool
