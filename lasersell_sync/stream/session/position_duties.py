"""Client-side duties per position: deadline timers and strategy overrides across reconnects.

Deadlines (a client-side maximum holding time): the clock starts at a position's first sighting,
preferring the server's ``opened_at_ms`` (converted with the ``hello_ok`` clock offset), and a
reconnect's re-announcement does not restart it. Per-position strategies are part of the session
intent (kept by the connection); the server forgets them on reconnect, so each one is sent again
once its position is re-announced, under its new id.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import TYPE_CHECKING, Dict, Optional, Set

from ...errors import SessionClosedError
from ...proto import (
    PositionOpened,
    RequestExitSignal,
    ServerMessage,
    StrategyConfig,
    UpdatePositionStrategy,
)
from ..deadlines import DeadlineScheduler
from ..positions import PositionBook, PositionHandle
from ..routes import Duty

if TYPE_CHECKING:
    from ..transport.connection import StreamConnection

__all__ = ["PositionDuties"]

logger = logging.getLogger(__name__)


class PositionDuties:
    """Updated on the reader thread, before dispatch; commands go out through the connection."""

    def __init__(self, book: PositionBook, conn: StreamConnection, deadline_sec: int) -> None:
        self._book = book
        self._conn = conn
        self._send = conn.send
        self.deadline_sec = deadline_sec
        self._deadlines = DeadlineScheduler(self._expired)
        self._opened_at: Dict[str, float] = {}  # token account -> first sighting (monotonic)
        self._overrides_sent: Set[str] = set()  # token accounts re-applied on this connection
        self._clock_offset_ms = 0.0
        self._lock = threading.Lock()
        self._stopped = False

    def observe(
        self, message: ServerMessage, handle: Optional[PositionHandle], received_at: float, action: Duty
    ) -> None:
        """Do what the message's route says to the deadlines, the strategies and the clock."""
        if action is Duty.OPENED:
            self._opened(message, received_at)  # type: ignore[arg-type]
        elif action is Duty.CLOSED and handle is not None:
            self._deadlines.cancel(handle.token_account)
            self._opened_at.pop(handle.token_account, None)
            self._conn.set_position_strategy(handle.token_account, None)
        elif action is Duty.CLOCK:
            self._clock_offset_ms = message.server_time_ms - time.time() * 1000  # type: ignore[union-attr]

    def reconnected(self) -> None:
        """A new connection: every per-position strategy must be applied again."""
        with self._lock:
            self._overrides_sent.clear()

    def set_override(self, handle: PositionHandle, strategy: StrategyConfig) -> None:
        """Give a position its own strategy (the command itself is the caller's to send)."""
        self._conn.set_position_strategy(handle.token_account, strategy)
        with self._lock:
            self._overrides_sent.add(handle.token_account)

    def set_deadline(self, deadline_sec: int) -> None:
        """Change the deadline and re-arm every open position from its open time."""
        self.deadline_sec = deadline_sec
        self._deadlines.cancel_all()
        if deadline_sec > 0:
            for handle in self._book.all():
                opened = self._opened_at.get(handle.token_account, time.monotonic())
                self._deadlines.schedule(handle.token_account, opened + deadline_sec)

    def timers(self) -> int:
        return self._deadlines.pending()

    def stop(self, timeout: float) -> None:
        self._stopped = True
        self._deadlines.stop(timeout)

    def _opened(self, message: PositionOpened, received_at: float) -> None:
        account = message.token_account
        opened = received_at
        if message.opened_at_ms is not None:
            age = (time.time() * 1000 + self._clock_offset_ms - message.opened_at_ms) / 1000
            opened = received_at - max(0.0, age)
        opened = self._opened_at.setdefault(account, opened)  # first sighting survives reconnects
        if self.deadline_sec > 0:
            self._deadlines.schedule(account, opened + self.deadline_sec)
        override = self._conn.position_strategy(account)
        with self._lock:
            resend = override is not None and account not in self._overrides_sent
            if resend:
                self._overrides_sent.add(account)
        if resend and override is not None:
            self._send(UpdatePositionStrategy(position_id=message.position_id, strategy=override))

    def _expired(self, token_account: str) -> None:
        if self._stopped or self._book.resolve(token_account) is None:
            return
        logger.info("deadline reached for %s; requesting an exit signal", token_account)
        with contextlib.suppress(SessionClosedError):  # closing: nothing to request any more
            self._send(RequestExitSignal(token_account=token_account))
