"""The send path and the session intent, behind one lock.

A command sent while connected is written to the socket at once, on the caller's thread. While
disconnected it waits in ``pending`` (except ``ping``); the next connection flushes the queue in
order, under the same lock, before any newer command can be written. The intent (the next
``configure``) is edited by every ``update_*`` command before the command itself is sent.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections import deque
from typing import Any, Callable, Deque, Dict, Optional, Tuple

import attrs

from ..errors import ConnectError, SessionClosedError
from ..proto import (
    ClientMessage,
    Configure,
    MirrorConfig,
    Ping,
    UpdateStrategy,
    UpdateWallets,
    UpdateWatchWallets,
    encode_client,
)

__all__ = ["Outbox", "shutdown_socket"]

logger = logging.getLogger(__name__)

_INTENT_TYPES = (UpdateStrategy, UpdateWallets, UpdateWatchWallets)


def shutdown_socket(ws: Any) -> None:
    """Wake any thread blocked on the socket; the owner closes it."""
    sock = getattr(ws, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class Outbox:
    """Serialises writes to the live socket and keeps what cannot be written yet."""

    def __init__(self, intent: Configure) -> None:
        self.lock = threading.Lock()
        self._intent = intent
        self._ws: Optional[Any] = None  # the live socket, or None while not ready
        self._pending: Deque[Tuple[ClientMessage, str]] = deque()
        self.closed = False

    @property
    def intent(self) -> Configure:
        return self._intent

    @property
    def ready(self) -> bool:
        return self._ws is not None

    def pending_count(self) -> int:
        return len(self._pending)

    def send(self, message: ClientMessage) -> bool:
        """Write now (True) or keep for the next connection (False); ``ping`` is never kept."""
        if isinstance(message, Configure):
            raise TypeError("configure is sent by the connection itself; use the update_* commands")
        text = encode_client(message)
        with self.lock:
            if self.closed:
                raise SessionClosedError("cannot send: the connection was closed")
            if type(message) in _INTENT_TYPES:
                self._apply_intent(message)
            ws = self._ws
            if ws is not None:
                try:
                    ws.send(text)
                    return True
                except Exception as exc:  # the socket broke under us: keep the command
                    logger.warning("send failed (%s); command kept for the next connection", exc)
                    self._ws = None
                    shutdown_socket(ws)
                    if type(message) is not Ping:
                        self._pending.appendleft((message, text))
                    return False
            if type(message) is not Ping:
                if type(message) in _INTENT_TYPES:  # a newer full replacement supersedes older ones
                    self._drop_pending(lambda kept: type(kept) is type(message))
                self._pending.append((message, text))
            return False

    def update_intent(self, **changes: Any) -> Configure:
        with self.lock:
            self._intent = attrs.evolve(self._intent, **changes)
            return self._intent

    def configure_text(self) -> str:
        """The ``configure`` for a new connection; queued intent commands are folded into it."""
        with self.lock:
            self._drop_pending(lambda kept: type(kept) in _INTENT_TYPES)
            return encode_client(self._intent)

    def go_live(self, ws: Any) -> None:
        """Flush what was kept, in order, then accept direct writes. Raises ConnectError."""
        with self.lock:
            if self.closed:
                raise SessionClosedError("closed while connecting")
            try:
                while self._pending:
                    ws.send(self._pending[0][1])
                    self._pending.popleft()
            except Exception as exc:
                raise ConnectError(f"connection lost while flushing queued commands: {exc}") from None
            self._ws = ws

    def go_down(self) -> Optional[Any]:
        """Stop direct writes; returns the socket that was live, if any."""
        with self.lock:
            ws, self._ws = self._ws, None
            return ws

    def close(self) -> Tuple[bool, Optional[Any]]:
        """Refuse further sends. Returns (first call?, the socket that was live)."""
        with self.lock:
            first = not self.closed
            self.closed = True
            ws, self._ws = self._ws, None
            return first, ws

    def write(self, ws: Any, action: Callable[[Any], Any]) -> None:
        """Run a raw write (ping, pong, close frame) on ``ws`` under the send lock."""
        with self.lock:
            action(ws)

    def _apply_intent(self, message: ClientMessage) -> None:
        changes: Dict[str, Any] = {}
        if isinstance(message, UpdateStrategy):
            changes["strategy"] = message.strategy
        elif isinstance(message, UpdateWallets):
            changes["wallet_pubkeys"] = tuple(message.wallet_pubkeys)
        elif isinstance(message, UpdateWatchWallets):
            changes["watch_wallets"] = tuple(message.watch_wallets)
        self._intent = attrs.evolve(self._intent, **changes)

    def _drop_pending(self, matches: Callable[[ClientMessage], bool]) -> None:
        self._pending = deque(item for item in self._pending if not matches(item[0]))


def intent_changes(
    send_mode: Optional[str], tip_lamports: Optional[int], mirror_config: Optional[MirrorConfig]
) -> Dict[str, Any]:
    """The configure-only settings that were given (None means unchanged)."""
    given = {"send_mode": send_mode, "tip_lamports": tip_lamports, "mirror_config": mirror_config}
    return {name: value for name, value in given.items() if value is not None}
