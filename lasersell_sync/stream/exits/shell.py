"""``ExitExecutor``: every exit signal of the session's wallets becomes a confirmed sell.

This is the thin shell around :class:`~.core.ExitCore`, which makes every decision. The shell
turns stream events into core events, and carries out the core's actions: signing (in place,
``tx.fastsign``), the journal, sends and polls (``io.ExitIO``), timers (one thread, a heap),
and publishing outcomes and ``request_exit_signal`` through the session. Calls into the core
are serialised by one lock; actions that reach back into the session run after it is released,
in the order the core emitted them.

Threads: signals arrive on the session's high-priority workers; sends run on a small pool per
target, polls and checks on one pool for the confirming RPC, timers on one thread. All start
on first use; ``close()`` stops every one of them, within its timeout even when every RPC hangs.
"""

from __future__ import annotations

import collections
import functools
import logging
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Optional, Protocol, Sequence, Set, Union

import attrs
from solders.keypair import Keypair

from ...errors import JournalError, LaserSellError, SessionClosedError, TxSubmitError
from ...proto import ExitSignalWithTx, PositionClosed
from ...tx import SendTarget, TxSender
from ...tx.fastsign import fast_sign
from ..deadlines import DeadlineScheduler
from ..positions import PositionHandle
from .core import ExitCore
from .io import ExitIO
from .journal import ExitJournal
from .messages import (
    Action,
    ArmTimer,
    BeginClose,
    Broadcast,
    CheckBlockhash,
    Event,
    Forget,
    Persist,
    Persisted,
    PersistFailed,
    Poll,
    PositionClosed as ClosedEvent,
    Publish,
    Report,
    RequestSignal,
    Shutdown,
    Sign,
    Signal,
    Signed,
    SignRefused,
    Timer,
    TimerFired,
)
from .outcomes import ExitStats
from .policy import ExitPolicy

__all__ = ["ExitExecutor", "ExitRefusedError"]

logger = logging.getLogger(__name__)
_UNKEYED = "auto_exit has no keypair for wallet %s: its exit signals are left to your handlers"

_WARM = "warm"  # the timer key of the warm-ups (the core's timers are keyed by number)

Publish_ = Callable[[Any], None]
Request = Callable[[Union[str, int], Optional[int]], Any]


class ExitRefusedError(LaserSellError):
    """An exit signal the executor refused to sign (wrong wallet or fee payer, undecodable)."""


class _StreamEvent(Protocol):
    """What the executor reads of a session event (``stream.Event``)."""

    @property
    def message(self) -> Any: ...
    @property
    def handle(self) -> Optional[PositionHandle]: ...
    @property
    def received_at(self) -> float: ...


def position_key(event: _StreamEvent) -> str:
    """Exits are keyed by token account (stable across reconnects), else by position id."""
    handle = event.handle
    account = handle.token_account if handle is not None else getattr(event.message, "token_account", None)
    return account if account is not None else f"#{event.message.position_id}"


class ExitExecutor:
    """Turns exit signals into confirmed sells. Made by ``StreamSession.auto_exit``.

    Args:
        keypairs: the signing keypair of each wallet, by public key.
        targets: where every signed sell is sent (all at once, each on its own).
        confirm_rpc: the RPC URL polled for statuses and blockhash validity.
        policy: retry, re-broadcast and commitment settings.
        sender: the pooled sender (owned: closed with the executor).
        request: sends ``request_exit_signal(position, slippage_bps)``.
        publish: hands an outcome event to the session's dispatcher.
        publish_error: hands an error to the session's ``on_error`` path.
        journal: the crash journal, read back now (None: the ledger lives in memory only).
        keep_warm: seconds between two warm-ups of every target's connection (None: off).
        unkeyed: the session's wallets with no keypair: their signals are left to the user's
            handlers, with one warning per wallet (now for these, at the first signal for a
            wallet added later), not an error per signal.
    """

    def __init__(
        self,
        *,
        keypairs: Dict[str, Keypair],
        targets: Sequence[SendTarget],
        confirm_rpc: str,
        policy: ExitPolicy,
        sender: TxSender,
        request: Request,
        publish: Publish_,
        publish_error: Callable[[BaseException], None],
        journal: Optional[ExitJournal] = None,
        keep_warm: Optional[float] = None,
        unkeyed: Sequence[str] = (),
    ) -> None:
        self._keypairs = keypairs
        self._unkeyed: Set[str] = set(unkeyed)
        self._unkeyed_signals = 0
        for wallet in unkeyed:
            logger.warning(_UNKEYED, wallet)
        self.keep_warm = keep_warm
        self._targets = list(targets)
        self._sender = sender
        self._request = request
        self._publish = publish
        self._publish_error = publish_error
        self._journal = journal
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._core = ExitCore(policy, poll_interval=sender.poll_interval, journaled=journal is not None)
        self._io = ExitIO(sender, self._targets, confirm_rpc, policy.commitment, self._feed)
        self._timers = DeadlineScheduler(self._timer_due, name="lasersell-exit-timers")
        self._armed: Dict[str, Timer] = {}
        self._outbox: Deque[Callable[[], Any]] = collections.deque()
        self._draining = threading.Lock()
        self._closed = False
        if journal is not None:
            now = time.monotonic()
            with self._lock:
                self._run(self._core.restore(journal.load(now), now), now)
            self._drain()
        if keep_warm is not None:
            self._timers.schedule(_WARM, time.monotonic())  # warm now, then every keep_warm

    def __repr__(self) -> str:
        wallets = ", ".join(self._keypairs)
        return f"<ExitExecutor wallets=[{wallets}] targets={[t.name for t in self._targets]}>"

    # -- inputs (session threads) ----------------------------------------------------------------

    def on_signal(self, event: _StreamEvent) -> None:
        """An exit signal: the core decides whether it sells, refreshes a sell, or is stale."""
        message: ExitSignalWithTx = event.message
        if message.wallet_pubkey not in self._keypairs:
            self._warn_unkeyed(message.wallet_pubkey)
            return
        self._feed(
            Signal(
                key=position_key(event),
                position_id=message.position_id,
                token_account=event.handle.token_account if event.handle is not None else message.token_account,
                mint=message.mint,
                wallet=message.wallet_pubkey,
                sell_tokens=message.sell_tokens,
                level_index=message.level_index,
                received_at=event.received_at,
                reason=message.reason,
                payload=message.unsigned_tx_b64,
            )
        )

    def _warn_unkeyed(self, wallet: str) -> None:
        with self._lock:
            self._unkeyed_signals += 1
            if wallet in self._unkeyed:
                return
            self._unkeyed.add(wallet)
        logger.warning(_UNKEYED, wallet)

    def on_position_closed(self, event: _StreamEvent) -> None:
        """A position closed: its sell in flight is looked at now; nothing new starts for it."""
        message: PositionClosed = event.message
        self._feed(ClosedEvent(position_key(event), message.position_id))

    # -- outputs ---------------------------------------------------------------------------------

    def stats(self) -> ExitStats:
        """Counters since the executor started."""
        with self._lock:
            stats, unkeyed = self._core.stats(), self._unkeyed_signals
        return attrs.evolve(stats, warm_failures=self._io.warm_failures, unkeyed=unkeyed)

    def close(self, timeout: float = 10.0) -> bool:
        """Stop sending, wait up to ``timeout`` for sells that may land, then stop every thread.

        From the first moment nothing is signed, sent or requested; queued tranches are
        reported ``exit_failed`` (``abandoned``). Sells in flight are still watched until
        ``timeout``; those undecided then are reported ``exit_unresolved`` (``closed``), and
        a journal keeps them for the next start. Returns within ``timeout`` plus the time to
        abort the HTTP requests in flight and join the threads (milliseconds), even when every
        RPC hangs. Returns True when no sell was left undecided.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        with self._lock:
            if self._closed:
                return True
            self._closed = True
        self._io.hold_sends()  # what was queued before stays unsent
        self._feed(BeginClose())
        with self._lock:
            self._settled.wait_for(lambda: not self._core.may_land(), max(0.0, deadline - time.monotonic()))
            undecided = self._core.may_land()
            self._run(self._core.handle(Shutdown(), time.monotonic()), time.monotonic())
        self._drain()
        self._timers.stop(max(0.0, deadline - time.monotonic()))
        self._io.close()
        self._sender.close()
        if self._journal is not None:
            self._journal.close()
        return not undecided

    # -- the core's actions ------------------------------------------------------------------------

    def _feed(self, event: Event) -> None:
        """One event into the core, its actions carried out; then the deferred ones, in order."""
        with self._lock:
            now = time.monotonic()
            self._run(self._core.handle(event, now), now)
            if not self._core.may_land():
                self._settled.notify_all()
        self._drain()

    def _run(self, actions: List[Action], now: float) -> None:
        """Under the lock: carry out actions in order (sign and journal at once, I/O on pools)."""
        for action in actions:
            if isinstance(action, Sign):
                self._run(self._core.handle(self._sign(action), now), now)
            elif isinstance(action, Persist):
                follow = self._persist(action, now)
                if follow is not None:
                    self._run(self._core.handle(follow, now), now)
            elif isinstance(action, Broadcast):
                self._io.broadcast(action)
            elif isinstance(action, Poll):
                self._io.poll(action)
            elif isinstance(action, CheckBlockhash):
                self._io.check(action)
            elif isinstance(action, ArmTimer):
                key = str(action.timer.seq)
                self._armed[key] = action.timer
                self._timers.schedule(key, now + action.delay)
            elif isinstance(action, RequestSignal):
                self._outbox.append(functools.partial(self._ask, action))
            elif isinstance(action, Publish):
                self._outbox.append(functools.partial(self._publish, action.outcome))
            elif isinstance(action, Report):
                self._outbox.append(functools.partial(self._publish_error, action.error))
            elif isinstance(action, Forget):
                self._forget(action)

    def _sign(self, action: Sign) -> Event:
        signal = action.signal
        keypair = self._keypairs.get(signal.wallet)
        if keypair is None:
            error = ExitRefusedError(f"no keypair for wallet {signal.wallet}; refusing to sign its exit")
            logger.error("refused to sign the exit of position %d: %s", signal.position_id, error)
            return SignRefused(action.ref, error)
        try:
            signed = fast_sign(signal.payload, keypair)  # checks the fee payer too
        except TxSubmitError as exc:
            logger.error("refused to sign the exit of position %d: %s", signal.position_id, exc)
            return SignRefused(action.ref, ExitRefusedError(str(exc)))
        return Signed(action.ref, signed.signature, signed.blockhash, signed.tx_b64)

    def _persist(self, action: Persist, now: float) -> Optional[Event]:
        journal = self._journal
        if journal is None:
            return Persisted(action.ref) if action.what == "attempt" else None
        if action.what == "attempt":
            pos, t, a = self._core.find(action.ref)
            if pos is None or t is None or a is None:  # cannot happen: the core asked for it
                return PersistFailed(action.ref, JournalError("the attempt to record is unknown"))
            try:
                journal.record_attempt(pos, t, a, now)
            except JournalError as exc:
                logger.error("exit of position %d not sent: %s", pos.position_id, exc)
                return PersistFailed(action.ref, exc)
            return Persisted(action.ref)
        try:
            journal.update(action.what, action.ref, action.fields)
        except JournalError as exc:
            logger.error("%s", exc)
            self._outbox.append(functools.partial(self._publish_error, exc))
        return None

    def _forget(self, action: Forget) -> None:
        if self._journal is not None:
            try:
                self._journal.forget(action.key)
            except JournalError as exc:
                logger.error("%s", exc)

    def _ask(self, action: RequestSignal) -> None:
        try:
            self._request(action.selector, action.slippage_bps)
        except SessionClosedError:
            logger.debug("request_exit_signal not sent: the session is closed")
        except LaserSellError as exc:
            self._publish_error(exc)

    def _timer_due(self, key: str) -> None:
        if key == _WARM:
            self._io.warm()
            assert self.keep_warm is not None
            self._timers.schedule(_WARM, time.monotonic() + self.keep_warm)
            return
        with self._lock:
            timer = self._armed.pop(key, None)
        if timer is not None:
            self._feed(TimerFired(timer))

    def _drain(self) -> None:
        """Run deferred actions in emission order, one thread at a time, outside the core lock."""
        while True:
            if not self._draining.acquire(blocking=False):
                return  # the thread draining now will also run what we added
            try:
                while True:
                    with self._lock:
                        if not self._outbox:
                            break
                        call = self._outbox.popleft()
                    try:
                        call()
                    except Exception as exc:  # a callback must not strand the others
                        logger.exception("exit executor callback failed")
                        self._publish_error(exc)
            finally:
                self._draining.release()
            with self._lock:
                if not self._outbox:
                    return
