"""The exit executor: every exit signal of the session's wallets becomes a confirmed sell.

Per position, at most one sell is in flight. An attempt is checked (the keypair is the wallet,
the fee payer and a required signer), signed, sent to every target at once, and watched with
batched ``getSignatureStatuses``. When it fails (send error, on-chain error, confirmation
timeout) the slippage is bumped, ``request_exit_signal`` asks for a fresh transaction and the
refreshed signal is tried, up to ``max_retries`` times. A newer signal for the same tranche that
arrives while a sell is in flight never starts a second sell; another tranche waits its turn.

Signing is the in-place fast path (``tx.fastsign``): the keypair must be the fee payer and the
only signer, which is what an exit transaction is.

No tranche is sold twice. Before any retry the previous signatures are checked one last time
(one that landed ends the exit). A full exit may be retried right after a timeout: if the first
lands late, the retry fails on chain for lack of tokens. A partial sell (``sell_tokens`` set) is
retried only once its previous attempt is provably dead: failed on chain, or never landed while
its blockhash expired (``isBlockhashValid``).

Threads: signals are handled on the session's high-priority workers (per-position ordering),
confirmations on the sender's poller thread (one per RPC, only while something is in flight),
timers on one scheduler thread, and retries that must wait on HTTP on a small pool. No thread
is started per exit, and ``close()`` stops them all.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Optional, Sequence, Union

from solders.keypair import Keypair

from ..errors import LaserSellError, SessionClosedError, TxSubmitError
from ..proto import ExitSignalWithTx, PositionClosed
from ..tx import Confirmation, SendTarget, TxSender
from ..tx.fastsign import fast_sign
from .deadlines import DeadlineScheduler
from .exit_state import ACTIVE, Exit, exit_key, failed_event, landed_attempt, tranche_of
from .exit_types import ExitLanded, ExitPolicy, ExitStats, ExitSubmitted
from .registry import Event

__all__ = ["ExitExecutor", "ExitRefusedError"]

logger = logging.getLogger(__name__)

_PROVE_EVERY = 0.5  # seconds between two blockhash checks of a partial sell that timed out

Publish = Callable[[Any], None]
Request = Callable[[Union[str, int], int], Any]


class ExitRefusedError(LaserSellError):
    """An exit signal the executor refused to sign (wrong wallet or fee payer, undecodable)."""


class ExitExecutor:
    """Turns exit signals into confirmed sells. Made by ``StreamSession.auto_exit``.

    Args:
        keypairs: the signing keypair of each wallet, by public key.
        targets: where every signed sell is sent (all at once).
        confirm_rpc: the RPC URL polled for confirmations and blockhash validity.
        policy: retry and timeout settings.
        sender: the pooled sender (owned: closed with the executor).
        request: sends ``request_exit_signal(position, slippage_bps)``.
        publish: hands an ExitSubmitted/ExitLanded/ExitFailed to the session's dispatcher.
        report: hands an error to the session's ``on_error`` path.
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
        publish: Publish,
        report: Callable[[BaseException], None],
    ) -> None:
        self._keypairs = keypairs
        self._targets = list(targets)
        self._rpc = confirm_rpc
        self._policy = policy
        self._sender = sender
        self._poller = sender.poller(confirm_rpc)
        self._request = request
        self._publish = publish
        self._report = report
        self._cond = threading.Condition(threading.Lock())
        self._exits: Dict[str, Exit] = {}
        self._timers = DeadlineScheduler(self._timer_due)
        self._pool: Optional[ThreadPoolExecutor] = None
        self._closed = False
        self._counts = {"signals": 0, "submitted": 0, "landed": 0, "failed": 0, "retries": 0, "refused": 0}

    def __repr__(self) -> str:
        wallets = ", ".join(self._keypairs)
        return f"<ExitExecutor wallets=[{wallets}] targets={[t.name for t in self._targets]}>"

    # -- inputs (handler threads) ------------------------------------------------------------

    def on_signal(self, event: Event[ExitSignalWithTx]) -> None:
        """An exit signal: start a sell, refresh the one in flight, or queue another tranche."""
        message = event.message
        key = exit_key(event)
        with self._cond:
            self._counts["signals"] += 1
            closed = self._closed
            ex = None if closed else self._exits.get(key)
            if not closed:
                if ex is None:
                    ex = self._exits[key] = Exit(key, event)
                elif ex.tranche != tranche_of(message):
                    ex.queue.append(event)  # one sell in flight per position: this tranche waits
                    return
                elif ex.state == "refreshing":
                    self._timers.cancel(f"refresh:{key}")
                    ex.state = "sending"
                else:  # the sell in flight is refreshed, never doubled
                    ex.held = event
                    logger.info("exit signal for position %d while its sell is in flight: held", message.position_id)
                    return
        if closed or ex is None:
            self._publish(failed_event(Exit(key, event), "abandoned", "the exit executor is closed"))
            return
        self._attempt(ex, event)

    def on_position_closed(self, event: Event[PositionClosed]) -> None:
        """A position closed: look at a sell in flight now; settle one waiting for a refresh."""
        key = exit_key(event)
        with self._cond:
            ex = self._exits.get(key)
            if ex is not None and ex.state == "confirming":
                self._poller.poke()  # our sell probably closed it: look now, not at the next poll
            if ex is None or ex.state != "refreshing":
                return  # a sell in flight reports its own outcome (it may be what closed it)
            ex.state = "proving"
            self._timers.cancel(f"refresh:{key}")
        self._run_later(self._settle_closed, ex)

    # -- outputs -----------------------------------------------------------------------------

    def stats(self) -> ExitStats:
        """Counters since the executor started."""
        with self._cond:
            in_flight = sum(1 for ex in self._exits.values() if ex.state in ACTIVE)
            return ExitStats(in_flight=in_flight, **self._counts)

    def close(self, timeout: float = 10.0) -> bool:
        """Wait up to ``timeout`` for sells in flight to land, then report the rest as abandoned.

        Returns True when nothing was abandoned. Stops every thread the executor started.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            self._closed = True
            self._cond.wait_for(
                lambda: not any(ex.state in ACTIVE for ex in self._exits.values()),
                max(0.0, deadline - time.monotonic()),
            )
            left = list(self._exits.values())
            self._exits.clear()
            for ex in left:
                ex.state = "done"
        for ex in left:
            if ex.watch is not None:
                self._poller.cancel(ex.watch)
            self._count("failed")
            self._publish(failed_event(ex, "abandoned", "the exit executor was closed before the sell landed"))
            for queued in ex.queue:
                self._publish(failed_event(Exit(ex.key, queued), "abandoned", "the exit executor was closed"))
        self._timers.stop(max(0.0, deadline - time.monotonic()))
        with self._cond:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        self._sender.close()
        return not left

    # -- one attempt ---------------------------------------------------------------------------

    def _attempt(self, ex: Exit, event: Event[ExitSignalWithTx]) -> None:
        """Check, sign and send one attempt (blocking: a handler or pool thread)."""
        message = event.message
        keypair = self._keypairs.get(message.wallet_pubkey)
        try:
            if keypair is None:
                raise ExitRefusedError(f"no keypair for wallet {message.wallet_pubkey}; refusing to sign its exit")
            signed = fast_sign(message.unsigned_tx_b64, keypair)  # checks the fee payer too
        except (ExitRefusedError, TxSubmitError) as exc:
            self._refuse(ex, exc)
            return
        signature = signed.signature
        with self._cond:
            ex.signatures.append((signature, signed.blockhash))
        try:
            submission = self._sender.send_many_b64(self._targets, signed.tx_b64, signature)
        except TxSubmitError as exc:
            self._attempt_failed(ex, f"send failed: {exc}", dead=False)
            return
        for name, error in submission.errors.items():
            logger.warning("exit of position %d: target %s refused it: %s", ex.position_id, name, error)
        self._count("submitted")
        self._publish(
            ExitSubmitted(
                position_id=ex.position_id,
                token_account=ex.token_account,
                mint=ex.mint,
                signature=signature,
                targets=submission.accepted,
                attempt=ex.attempt,
                slippage_bps=ex.slippage,
                sell_tokens=ex.sell_tokens,
                level_index=ex.level_index,
            )
        )
        with self._cond:
            if ex.state == "done":
                return
            ex.state = "confirming"
        ex.watch = self._poller.watch(
            signature,
            self._policy.confirm_timeout,
            lambda result: self._confirmed(ex, result),
            commitment=self._policy.commitment,
            tolerant=True,
        )

    def _confirmed(self, ex: Exit, result: Union[Confirmation, TxSubmitError]) -> None:
        """The poller's verdict on the attempt in flight (poller thread: quick)."""
        if isinstance(result, TxSubmitError):  # only when the sender is closing
            self._attempt_failed(ex, str(result), dead=False)
        elif result.landed:
            self._landed(ex, result)
        elif result.failed:
            self._attempt_failed(ex, f"failed on chain: {json.dumps(result.err)}", dead=True)
        else:
            timeout = self._policy.confirm_timeout
            self._attempt_failed(ex, f"not confirmed within {timeout:g} s", dead=False)

    def _attempt_failed(self, ex: Exit, error: str, *, dead: bool) -> None:
        """Retry a full exit now; a partial sell only once its attempt is provably dead."""
        if ex.partial and not dead:
            with self._cond:
                if ex.state == "done":
                    return
                ex.state = "proving"
                ex.last_error = error
                ex.prove_until = time.monotonic() + self._policy.prove_dead_timeout
            logger.info("partial sell of position %d: %s; waiting until it provably cannot land", ex.position_id, error)
            self._timers.schedule(f"prove:{ex.key}", time.monotonic())
            return
        self._run_later(self._retry, ex, error)

    def _retry(self, ex: Exit, error: str) -> None:
        """Retry with a bumped slippage and a fresh signal, or give up (a pool thread).

        First the previous attempts are checked one last time: one that landed ends the exit.
        """
        try:
            landed = self._previous_landed(ex)
        except TxSubmitError as exc:
            landed = None
            logger.warning("checking earlier attempts of position %d failed: %s", ex.position_id, exc)
        if landed is not None:
            self._landed(ex, landed)
            return
        with self._cond:
            if ex.state == "done":
                return
            ex.last_error = error
            if ex.attempt > self._policy.max_retries or self._closed:
                give_up = True
            else:
                give_up = False
                ex.attempt += 1
                ex.slippage = self._policy.slippage_for(ex.attempt - 1)
                ex.state = "refreshing"
                ex.held = None  # built before the failure, at the old slippage
                self._counts["retries"] += 1
        if give_up:
            self._give_up(ex, "max_retries" if not self._closed else "abandoned", error)
            return
        logger.info(
            "exit of position %d: %s; requesting a fresh signal at %d bps (attempt %d)",
            ex.position_id,
            error,
            ex.slippage,
            ex.attempt,
        )
        self._timers.schedule(f"refresh:{ex.key}", time.monotonic() + self._policy.refresh_timeout)
        try:
            assert ex.slippage is not None
            self._request(ex.selector, ex.slippage)
        except SessionClosedError:
            self._give_up(ex, "abandoned", "the session closed while retrying")

    # -- outcomes -----------------------------------------------------------------------------

    def _landed(self, ex: Exit, result: Confirmation) -> None:
        if not self._finish(ex):
            return
        self._count("landed")
        self._publish(
            ExitLanded(
                position_id=ex.position_id,
                token_account=ex.token_account,
                mint=ex.mint,
                signature=result.signature,
                slot=result.slot,
                attempts=ex.attempt,
                latency_ms=(time.monotonic() - ex.first_received) * 1000,
                slippage_bps=ex.slippage,
                sell_tokens=ex.sell_tokens,
                level_index=ex.level_index,
            )
        )
        self._next_tranche(ex)

    def _refuse(self, ex: Exit, error: BaseException) -> None:
        self._count("refused")
        logger.error("refused to sign the exit of position %d: %s", ex.position_id, error)
        self._report(error if isinstance(error, ExitRefusedError) else ExitRefusedError(str(error)))
        self._give_up(ex, "refused", str(error))

    def _give_up(self, ex: Exit, reason: str, error: Optional[str]) -> None:
        if not self._finish(ex):
            return
        self._count("failed")
        self._publish(failed_event(ex, reason, error))
        self._next_tranche(ex)

    def _finish(self, ex: Exit) -> bool:
        """Mark an exit done (once); False if it already was."""
        with self._cond:
            if ex.state == "done":
                return False
            ex.state = "done"
            if self._exits.get(ex.key) is ex:
                del self._exits[ex.key]
            self._cond.notify_all()
        self._timers.cancel(f"refresh:{ex.key}")
        self._timers.cancel(f"prove:{ex.key}")
        return True

    def _next_tranche(self, ex: Exit) -> None:
        """Start the next queued tranche of the same position, if any."""
        if not ex.queue:
            return
        event = ex.queue.popleft()
        with self._cond:
            if self._closed or ex.key in self._exits:
                return
            nxt = self._exits[ex.key] = Exit(ex.key, event)
            nxt.queue = ex.queue
        self._run_later(self._attempt, nxt, event)

    # -- waiting: refreshed signals, dead partial sells ------------------------------------------

    def _timer_due(self, name: str) -> None:
        kind, _, key = name.partition(":")
        with self._cond:
            ex = self._exits.get(key)
        if ex is None:
            return
        if kind == "refresh":
            self._run_later(self._refresh_missed, ex)
        else:
            self._run_later(self._check_dead, ex)

    def _refresh_missed(self, ex: Exit) -> None:
        with self._cond:
            if ex.state != "refreshing":
                return
            ex.state = "sending"
        self._retry(ex, f"no refreshed signal within {self._policy.refresh_timeout:g} s")

    def _check_dead(self, ex: Exit) -> None:
        """A partial sell that did not confirm: landed, failed, or expired? Else look again."""
        signature, blockhash = ex.signatures[-1]
        try:
            landed = self._previous_landed(ex)
            if landed is not None:
                self._landed(ex, landed)
                return
            (status,) = self._sender.signature_statuses(self._rpc, [signature])
            if status is not None and status.err is not None:
                self._retry(ex, f"failed on chain: {json.dumps(status.err)}")
                return
            if status is None and not self._sender.is_blockhash_valid(self._rpc, blockhash):
                landed = self._previous_landed(ex)  # one last look now that it cannot land any more
                if landed is not None:
                    self._landed(ex, landed)
                else:
                    self._retry(ex, f"{ex.last_error}; expired without landing")
                return
        except TxSubmitError as exc:
            logger.warning("checking the partial sell of position %d failed: %s", ex.position_id, exc)
        if time.monotonic() >= ex.prove_until:
            self._give_up(ex, "max_retries", f"{ex.last_error}; still not provably dead, so not retried")
        else:
            self._timers.schedule(f"prove:{ex.key}", time.monotonic() + _PROVE_EVERY)

    def _settle_closed(self, ex: Exit) -> None:
        """The position closed while a retry was pending: did an earlier attempt land after all?"""
        try:
            landed = self._previous_landed(ex)
        except TxSubmitError as exc:
            landed = None
            logger.warning("checking position %d after it closed failed: %s", ex.position_id, exc)
        if landed is not None:
            self._landed(ex, landed)
        else:
            self._give_up(ex, "position_closed", ex.last_error)

    def _previous_landed(self, ex: Exit) -> Optional[Confirmation]:
        return landed_attempt(self._sender, self._rpc, ex, self._policy.commitment)

    # -- plumbing -----------------------------------------------------------------------------------

    def _run_later(self, call: Callable[..., None], *args: Any) -> None:
        with self._cond:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(2, thread_name_prefix="lasersell-exit")
            pool = self._pool
        pool.submit(self._guarded, call, *args)

    def _guarded(self, call: Callable[..., None], *args: Any) -> None:
        try:
            call(*args)
        except Exception as exc:  # a bug must not silently strand a sell
            logger.exception("exit executor task failed")
            self._report(exc)

    def _count(self, name: str) -> None:
        with self._cond:
            self._counts[name] += 1
