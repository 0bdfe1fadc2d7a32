"""StreamSession: the facade users touch. Composes the transport, the book, the dispatcher and the duties.

The reader thread calls the intake (``intake.py``), which updates the position book and the
per-position duties before it dispatches an event, so a handler always sees state at least as
new as its event. Handlers run on the dispatcher's workers; commands (``commands.py``) go out on
whichever thread calls them; queries (``queries.py``) read without I/O.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import time
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Optional,
    Sequence,
    Type,
    TypeVar,
    Union,
    overload,
)

from solders.keypair import Keypair

from ..._redact import mask
from ...backoff import Backoff
from ...errors import SessionClosedError
from ...exit_api import ExitApiClient
from ...proto import (
    ClientMessage,
    Configure,
    ExitSignalWithTx,
    HelloOk,
    MirrorConfig,
    PositionClosed,
    StrategyConfig,
    UpdatePositionStrategy,
    UpdateWallets,
    WalletProof,
    WatchWalletEntry,
    ensure_exit_condition,
    validate_strategy,
)
from ...tx import SendTarget, TxSender
from ..dispatch.dispatcher import Dispatcher
from ..dispatch.iterator import EventIterator
from ..dispatch.registry import ErrorHandler, Event, Handler, HandlerRegistry
from ..exits import ExitExecutor, ExitPolicy
from ..input_checks import WalletLike, check_session_arguments, check_wallets, check_watch_wallets, configure_settings
from ..positions import PositionBook, PositionHandle
from ..recording import FrameRecorder, strategy_fields
from ..transport.connection import DEFAULTS, StreamConnection, enter_connected
from .autoexit import build_executor
from .commands import SessionCommands
from .intake import Intake
from .position_duties import PositionDuties
from .stats import SessionStats

__all__ = ["StreamSession"]


logger = logging.getLogger(__name__)


def _replayable(command: ClientMessage) -> bool:
    """Per-position strategies are re-applied by token account after positions are re-announced."""
    return type(command) is not UpdatePositionStrategy


M = TypeVar("M")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])
E = TypeVar("E", bound=ErrorHandler)
_DEFAULT_POLICY = ExitPolicy()


class StreamSession(SessionCommands):
    """A LaserSell stream session with decorator-registered handlers.

    Args:
        api_key: your LaserSell API key (never shown in a log, a repr or an error).
        wallets: the wallets to watch, as base58 strings, solders ``Pubkey`` values, or
            ``Keypair`` values (only the public key is used).
        strategy: the exit strategy for every position (checked when it is built).
        max_workers: threads for high-priority handlers (started on demand, so a burst of
            exit signals for different positions runs in parallel up to this many).
        low_priority_workers: threads for pnl/liquidity/trade handlers (default 2: Python threads
            share one GIL, so more CPU-bound workers would only slow the reader down).
        trade_tick_backlog: undelivered trade ticks kept; older ones are dropped and counted.
        deadline_timeout_sec: client-side maximum holding time; 0 disables it.
        send_mode: how the server shapes exit transactions (``rpc``, ``helius_sender``,
            ``astralane``); part of the intent every (re)connect sends (see
            :meth:`update_send_settings`).
        tip_lamports: the tip those transactions pay (part of the intent, like ``send_mode``).
        watch_wallets: wallets to copy-trade (part of the intent).
        mirror_config: copy-trading safety settings (part of the intent).
        backoff: reconnect timing (the first attempt after a drop is immediate).
        record_to: write every received frame to this JSON Lines file (replayable by the
            simulator), with the session's own events (exit outcomes, connects, reconnects,
            errors) and the strategy it sends, which the trade report reads
            (``python -m lasersell_sync report``).
        ssl_context: custom trust for ``wss://``; verification is always on.
        ca_bundle: a PEM file of trusted certificates for ``wss://``, instead of ``ssl_context``.
        tls_pins: SHA-256 SPKI pins of the stream's TLS key (base64, give two to roll keys):
            checked at every connect, in addition to normal verification; a mismatch is a
            fatal :class:`~lasersell_sync.errors.TlsPinError`, never retried.
        connect_timeout: seconds for TCP + TLS + upgrade + ``hello_ok`` (also per reconnect).
        ping_interval: probe after this much silence (default 10 s).
        ping_timeout: a link that stays silent this much longer after the probe is replaced
            (default 4 s).
        app_ping_interval: application ``ping`` period (the free tier's inactivity timeout);
            None disables it.
        max_frame_bytes: larger frames are skipped and reported.

    Example:
        >>> session = StreamSession(api_key=KEY, wallets=[WALLET], strategy=strategy)
        >>> @session.on(ExitSignalWithTx)
        ... def on_exit(event): ...
        >>> session.connect(timeout=10)
        >>> session.run_forever()
    """

    def __init__(
        self,
        api_key: str,
        wallets: Iterable[WalletLike],
        strategy: StrategyConfig,
        *,
        deadline_timeout_sec: int = 0,
        endpoint: Optional[str] = None,
        max_workers: int = 16,
        low_priority_workers: Optional[int] = None,
        trade_tick_backlog: int = 10_000,
        send_mode: Optional[str] = None,
        tip_lamports: Optional[int] = None,
        watch_wallets: Iterable[WatchWalletEntry] = (),
        mirror_config: Optional[MirrorConfig] = None,
        backoff: Backoff = DEFAULTS.backoff,
        record_to: Optional[Union[str, Path]] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
        ca_bundle: Union[str, Path, None] = None,
        tls_pins: Optional[Sequence[str]] = None,
        connect_timeout: float = DEFAULTS.connect_timeout,
        ping_interval: float = DEFAULTS.ping_interval,
        ping_timeout: float = DEFAULTS.ping_timeout,
        app_ping_interval: Optional[float] = DEFAULTS.app_ping_interval,
        max_frame_bytes: int = DEFAULTS.max_frame_bytes,
    ) -> None:
        check_session_arguments(api_key, wallets, strategy)
        validate_strategy(strategy)
        ensure_exit_condition(strategy, deadline_timeout_sec)
        if max_workers < 1 or (low_priority_workers is not None and low_priority_workers < 1):
            raise ValueError("worker counts must be >= 1")
        configure = Configure(
            wallet_pubkeys=check_wallets(wallets),
            strategy=strategy,
            watch_wallets=check_watch_wallets(watch_wallets),
            **configure_settings(send_mode, tip_lamports, mirror_config),
        )
        self._registry = HandlerRegistry()
        self._dispatcher = Dispatcher(self._registry, max_workers, low_priority_workers or 2, trade_tick_backlog)
        book, ended = PositionBook(), threading.Event()
        self._recorder = FrameRecorder(record_to) if record_to is not None else None
        self._intake = Intake(book, self._dispatcher, self._recorder, ended, self._strategy_in_force)
        conn = StreamConnection(
            api_key,
            configure,
            on_message=self._intake.on_message,
            on_messages=self._intake.on_messages,
            on_event=self._intake.on_transport_event,
            endpoint=endpoint,
            ssl_context=ssl_context,
            ca_bundle=ca_bundle,
            tls_pins=tls_pins,
            connect_timeout=connect_timeout,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            app_ping_interval=app_ping_interval,
            backoff=backoff,
            max_frame_bytes=max_frame_bytes,
            replays=_replayable,
            on_frame=self._recorder.record if self._recorder is not None else None,
        )
        duties = PositionDuties(book, conn, deadline_timeout_sec)
        self._intake.attach(duties)
        super().__init__(conn, book, duties, ended)
        self._api_key_mask = mask(api_key)
        self._executor: Optional[ExitExecutor] = None

    def _strategy_in_force(self) -> Dict[str, Any]:
        """The session strategy and deadline as a recording's ``strategy`` line holds them."""
        return strategy_fields(self._conn.intent.strategy, self._duties.deadline_sec, None)

    def _strategy_changed(self, strategy: StrategyConfig, handle: Optional[PositionHandle]) -> None:
        """Record a changed strategy, so a report draws the thresholds that were in force."""
        if self._recorder is not None:
            fields = strategy_fields(strategy, self._duties.deadline_sec, handle)
            self._recorder.record_event("strategy", fields, time.monotonic())

    def __repr__(self) -> str:
        positions = len(self._book.all())
        return f"<StreamSession {self._conn.safe_endpoint} api_key={self._api_key_mask} positions={positions}>"

    # -- handlers ------------------------------------------------------------------------

    @overload
    def on(self, event: Type[M]) -> Callable[[Callable[[Event[M]], R]], Callable[[Event[M]], R]]: ...
    @overload
    def on(self, event: Type[M], handler: Callable[[Event[M]], R]) -> Callable[[Event[M]], R]: ...
    @overload
    def on(self, event: str) -> Callable[[F], F]: ...
    @overload
    def on(self, event: str, handler: F) -> F: ...

    def on(self, event: Union[str, Type[Any]], handler: Optional[Handler[Any]] = None) -> Any:
        """Register ``handler`` for an event type or name; without ``handler``, a decorator.

        Raises at registration for an unknown event or a handler that cannot take one argument.
        """
        if handler is None:

            def decorate(function: Handler[Any]) -> Handler[Any]:
                self._registry.add(event, function)
                return function

            HandlerRegistry.name_of(event)  # fail at the decorator line, not at the def
            return decorate
        self._registry.add(event, handler)
        return handler

    def on_any(self, handler: F) -> F:
        """Register a handler for every event (after the exact-type handlers)."""
        self._registry.add_any(handler)
        return handler

    def on_error(self, handler: E) -> E:
        """Register ``handler(exception, event_or_None)`` for every error nobody else sees.

        It receives what handlers raise (anything, ``SystemExit`` included: workers survive it),
        bad frames (``ProtocolError``), failed reconnect attempts (``ConnectError``), commands
        the server rejected (``CommandRejectedError``) and the error that ended the session.
        Without an ``on_error`` handler these are printed to stderr, as ``threading.excepthook``
        prints an uncaught exception: an error is never silent.
        """
        self._registry.add_error(handler)
        return handler

    def events(self, timeout: Optional[float] = None) -> EventIterator:
        """A blocking iterator over every event from now on, with the handlers' policy.

        High-priority events come first, so an exit signal never waits behind a PnL backlog;
        undelivered pnl/liquidity updates are conflated per position and trade ticks are bounded
        (drops counted in :meth:`stats`), exactly as for handlers. A ``for`` loop ends when the
        session closes (``iterator.closed``) or after ``timeout`` idle seconds
        (``iterator.timed_out``). Leave it with ``break`` freely: an abandoned iterator detaches
        when garbage collected, and ``with session.events() as events:`` detaches at once.
        """
        return self._dispatcher.iterate(timeout)

    def auto_exit(
        self,
        keypair: Union[Keypair, Sequence[Keypair]],
        targets: Union[SendTarget, Sequence[SendTarget]],
        confirm_rpc: Optional[str] = None,
        policy: ExitPolicy = _DEFAULT_POLICY,
        *,
        sender: Optional[TxSender] = None,
        journal: Optional[Union[str, os.PathLike[str]]] = None,
        keep_warm: Optional[float] = 25.0,
    ) -> ExitExecutor:
        """Turn every exit signal of ``keypair``'s wallet(s) into a confirmed sell, never two.

        Each signal is checked (the keypair must be the wallet, the fee payer and a signer),
        signed, sent to every target at once and re-broadcast until it lands or its blockhash
        expires; statuses are polled on ``confirm_rpc`` (default: the first RPC target). Only
        once an attempt is provably dead is a fresh signal requested, with a bumped slippage
        (see :class:`ExitPolicy`). One tranche per position at a time; a tranche that sold is
        never sold again. Outcomes arrive as ``exit_submitted``/``exit_landed``/``exit_failed``/
        ``exit_unresolved`` events. The session's ``send_mode``/``tip_lamports`` are set to
        match the targets (a reconnect applies them if already connected); a contradicting
        setting is a ``ValueError``.

        Args:
            journal: an SQLite file that keeps the ledger across a crash: every attempt is
                written before it is sent, and the next start settles what was in flight
                before acting on a signal for that position. Created if missing.
            keep_warm: seconds between two warm-ups of each target's pooled connection (the
                target's cheapest call: ``getHealth``, Helius Sender's ``/ping``), below the
                30 to 120 s after which providers close idle connections, so an exit does not
                pay a TCP and TLS handshake. ``None`` switches it off.

        Raises:
            ValueError: ``keypair`` is the key of none of the session's wallets (a wallet
                with no keypair gets one warning; its signals are left to your handlers).
            JournalError: the journal cannot be used (not a journal, unreadable, in use).

        Example:
            >>> executor = session.auto_exit(keypair, [ls.SendTargetRpc(url=MY_RPC)], journal="exits.db")
            >>> session.run_forever()  # executor.stats() any time; closed with the session
        """
        if self._executor is not None:
            raise RuntimeError("auto_exit() was already called on this session")
        if self._closing:
            raise SessionClosedError("the session is closed")
        executor, changes = build_executor(
            keypair,
            targets,
            confirm_rpc,
            policy,
            sender=sender,
            journal=journal,
            keep_warm=keep_warm,
            intent=self._conn.intent,
            request=self.request_exit_signal,
            publish=self._intake.publish,
            publish_error=self._dispatcher.publish_error_later,
        )
        self._executor = executor
        self._registry.add(ExitSignalWithTx, executor.on_signal)
        self._registry.add(PositionClosed, executor.on_position_closed)
        if changes:
            self.update_send_settings(**changes, reconnect=True)  # type: ignore[arg-type]
        return executor

    # -- lifecycle -----------------------------------------------------------------------

    def connect(self, timeout: float = 10.0) -> HelloOk:
        """Connect and block until ``hello_ok`` (``timeout`` seconds, > 0).

        Raises:
            AuthenticationError, StreamServerError, ConnectError: see StreamConnection.connect.
            ValueError: a timeout that is not a positive number.
        """
        return self._conn.connect(timeout)

    def register_and_connect(
        self, proofs: Iterable[WalletProof], *, exit_api: Optional[ExitApiClient] = None, timeout: float = 10.0
    ) -> HelloOk:
        """Register wallet ownership proofs with the Exit API, then connect.

        Every proved wallet is added to the session's wallets. ``exit_api`` defaults to a client
        for the production Exit API with this session's API key.

        Raises:
            ExitApiError: a registration failed (nothing is connected then).
        """
        proofs = list(proofs)
        if exit_api is None:
            with ExitApiClient(self._conn.api_key) as client:
                registered = client.register_wallets(proofs)
        else:
            registered = exit_api.register_wallets(proofs)
        wallets = list(self._conn.intent.wallet_pubkeys)
        missing = [w for w in registered if w not in wallets]
        if missing:
            self._conn.send(UpdateWallets(wallet_pubkeys=check_wallets(wallets + missing)))
        return self.connect(timeout)

    def run_forever(self) -> None:
        """Block until the session is closed; Ctrl-C closes it gracefully.

        Connects first if needed. Raises the fatal error that ended the session, if any.
        """
        try:
            if self._conn.hello is None and not self._closing:
                self.connect()
            self._ended.wait()
        except KeyboardInterrupt:
            logger.info("interrupted; closing the session")
        finally:
            self.close()
        if self._intake.fatal is not None:
            raise self._intake.fatal

    def close(self, timeout: float = 5.0) -> bool:
        """Close the stream, let queued and running handlers finish (up to ``timeout``), stop.

        Idempotent and safe from any thread, including inside a handler (it never joins the
        thread it runs on). Returns True when every library thread has stopped. False means a
        handler was still running at the deadline: queued events were abandoned, a warning
        names the busy threads, and each ends as soon as its handler returns (a Python thread
        cannot be stopped from outside). With :meth:`auto_exit`, sells in flight get up to half of
        ``timeout`` to land; the others are reported as ``exit_failed`` (``abandoned``).
        """
        deadline = time.monotonic() + timeout
        if self._begin_closing():
            self._conn.close(timeout / 4)  # no new signals from here on
            if self._executor is not None:  # sells in flight land, or are reported, first
                self._executor.close(max(0.0, deadline - time.monotonic()) / 2)  # the rest: handlers
            self._duties.stop(max(0.0, deadline - time.monotonic()))
        done = self._dispatcher.shutdown(max(0.0, deadline - time.monotonic()))
        if self._recorder is not None:
            self._recorder.close()
        self._ended.set()
        return done

    def __enter__(self) -> StreamSession:
        """``with session:`` connects (unless :meth:`connect` already did) and closes on the way out.

        If connecting fails, the session is closed before the error propagates, so nothing is
        left retrying in the background.
        """
        enter_connected(self._conn.started, self.connect, self.close)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- state ---------------------------------------------------------------------------

    def stats(self) -> SessionStats:
        """A snapshot of the session's counters."""
        transport = self._conn.stats()
        dispatcher = self._dispatcher
        high, low = dispatcher.high.snapshot(), dispatcher.low.snapshot()
        iterator_queued, iterator_conflated, iterator_dropped = dispatcher.iterator_counters()
        return SessionStats(
            frames_received=transport.frames_received,
            decode_errors=transport.bad_frames,
            events_dispatched=dispatcher.counts(),
            low_priority_conflated=low.conflated,
            low_priority_dropped=low.dropped,
            handler_errors=dispatcher.handler_errors,
            reconnects=transport.reconnects,
            queue_depths={"high": high.pending, "low": low.pending, "events_iterators": iterator_queued},
            pending_commands=transport.pending_commands,
            deadline_timers=self._duties.timers(),
            iterator_conflated=iterator_conflated,
            iterator_dropped=iterator_dropped,
            commands_rejected=self._intake.rejected,
            exits=self._executor.stats() if self._executor is not None else None,
        )
