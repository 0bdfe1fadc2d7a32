"""The commands of a :class:`~lasersell_sync.stream.session.stream_session.StreamSession`, checked before sending.

Every command validates its input (a ``ValueError``/``TypeError`` naming the field) and then goes
to the transport: written at once when connected (True), kept for the next connection (False).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Iterable, Optional

from ...errors import SessionClosedError
from ...proto import (
    ClosePosition,
    Configure,
    MirrorBuyResult,
    MirrorConfig,
    Ping,
    RequestExitSignal,
    StrategyConfig,
    UpdatePositionStrategy,
    UpdateStrategy,
    UpdateWallets,
    UpdateWatchWallets,
    WatchWalletEntry,
    ensure_exit_condition,
    validate_strategy,
)
from ..input_checks import WalletLike, check_mint, check_slippage, check_wallets, check_watch_wallets, selector
from ..positions import PositionBook, PositionHandle, PositionRef
from ..transport.connection import StreamConnection
from .position_duties import PositionDuties
from .queries import SessionQueries

__all__ = ["SessionCommands"]


class SessionCommands(SessionQueries):
    """Commands a session sends, checked first; owns the closing flag that stops them."""

    def __init__(
        self, conn: StreamConnection, book: PositionBook, duties: PositionDuties, ended: threading.Event
    ) -> None:
        super().__init__(conn, book, ended)
        self._duties = duties
        self._lock = threading.Lock()
        self._closing = False

    def _strategy_changed(self, strategy: StrategyConfig, handle: Optional[PositionHandle]) -> None:
        """A hook: the session's or a position's strategy was just changed (the session records it)."""

    def _begin_closing(self) -> bool:
        """Refuse commands from now on; True for the first caller only."""
        with self._lock:
            first, self._closing = not self._closing, True
        return first

    def close_position(self, position: PositionRef) -> bool:
        """Stop tracking a position (sells nothing). True if written now, False if queued.

        A tracked position is named by its token account on the wire (its id may change after a
        reconnect). Delivery is at least once: a command written just before the connection
        died unnoticed is sent again after the reconnect.
        """
        return self._send(ClosePosition(**self._selector(position)))

    def request_exit_signal(self, position: PositionRef, slippage_bps: Optional[int] = None) -> bool:
        """Ask the server for an exit transaction now, optionally with a slippage override.

        Delivery is at least once (see :meth:`close_position`), so a handler may see two
        signals for one request.
        """
        return self._send(RequestExitSignal(**self._selector(position), slippage_bps=check_slippage(slippage_bps)))

    def update_strategy(self, strategy: StrategyConfig, deadline_timeout_sec: Optional[int] = None) -> bool:
        """Replace the session strategy (and the client-side deadline, when given)."""
        validate_strategy(strategy)
        deadline = self._duties.deadline_sec if deadline_timeout_sec is None else deadline_timeout_sec
        ensure_exit_condition(strategy, deadline)
        if deadline != self._duties.deadline_sec:
            self._duties.set_deadline(deadline)
        sent = self._send(UpdateStrategy(strategy=strategy))
        self._strategy_changed(strategy, None)
        return sent

    def update_wallets(self, wallets: Iterable[WalletLike]) -> bool:
        """Replace the wallets the session watches (True: written now, False: queued).

        If the server refuses the change (``wallet_not_registered``, ``capacity_exceeded``) the
        session's intent is rolled back, so the next reconnect does not send the refused list,
        and a ``CommandRejectedError`` goes to ``on_error``.
        """
        return self._send(UpdateWallets(wallet_pubkeys=check_wallets(wallets)))

    def update_watch_wallets(self, entries: Iterable[WatchWalletEntry]) -> bool:
        """Replace the watched (copy-trading) wallets; rolled back if the server refuses."""
        return self._send(UpdateWatchWallets(watch_wallets=check_watch_wallets(entries)))

    def update_position_strategy(self, position: PositionRef, strategy: StrategyConfig) -> bool:
        """Give one position its own strategy; re-applied after reconnects (the server forgets it)."""
        validate_strategy(strategy)
        handle = self._book.resolve(position)
        if handle is None:
            raise ValueError(f"no tracked position matches {position!r}")
        self._duties.set_override(handle, strategy)
        sent = self._send(UpdatePositionStrategy(position_id=handle.position_id, strategy=strategy))
        self._strategy_changed(strategy, handle)
        return sent

    def report_mirror_buy_result(self, mint: str, success: bool) -> bool:
        """Tell the server whether a mirror buy was signed and submitted (one per signal)."""
        if not isinstance(success, bool):
            raise ValueError(f"success must be a bool, got {success!r}")
        return self._send(MirrorBuyResult(mint=check_mint(mint), success=success))

    def ping(self) -> bool:
        """Send an application ping (not kept while disconnected); the answer is a pong event."""
        return self._send(Ping(client_time_ms=int(time.time() * 1000)))

    def _selector(self, position: PositionRef) -> Any:
        if isinstance(position, int) and not isinstance(position, bool):
            handle = self._book.resolve(position)
            if handle is not None:  # the token account outlives the id across reconnects
                return {"token_account": handle.token_account}
        return selector(position)

    def update_send_settings(
        self,
        *,
        send_mode: Optional[str] = None,
        tip_lamports: Optional[int] = None,
        mirror_config: Optional[MirrorConfig] = None,
        reconnect: bool = False,
    ) -> Configure:
        """Change configure-only settings (None keeps a setting); returns the new intent.

        The protocol has no command for these, so they take effect at the next reconnect, or at
        once with ``reconnect=True`` (the connection is dropped and re-established, which
        replays the whole intent; commands are kept meanwhile).
        """
        intent = self._conn.update_intent(send_mode=send_mode, tip_lamports=tip_lamports, mirror_config=mirror_config)
        if reconnect and self._conn.connected:
            self._conn.reconnect()
        return intent

    def _send(self, message: Any) -> bool:
        if self._closing:
            raise SessionClosedError("the session is closed")
        return self._conn.send(message)
