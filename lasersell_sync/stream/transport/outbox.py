"""The send path and the session intent, behind one lock.

The intent is everything every (re)connect replays: the ``configure`` (wallets, strategy, send
mode, tip, watch wallets, mirror config) and the per-position strategies, keyed by token account
(the server forgets them on reconnect; the session re-applies them once positions are
re-announced, under their new ids).

A command sent while connected is written to the socket at once, on the caller's thread. While
disconnected it waits in ``pending`` (except ``ping``); the next connection flushes the queue in
order, under the same lock, before any newer command can be written.

Two rules keep what the server knows and what the client believes in step, although the protocol
has no acknowledgements (its errors name no request):

- **Action commands are delivered at least once.** ``close_position``, ``request_exit_signal``,
  ``mirror_buy_result`` and ``update_position_strategy`` written after the connection's last
  inbound frame may have died with it (a half-open link swallows writes); when that connection
  dies they are queued again, once, in order, ahead of newer commands.
- **The intent only keeps what the server accepted.** ``update_strategy``, ``update_wallets``
  and ``update_watch_wallets`` change the intent (the next ``configure``) at once and are
  followed by an application ``ping``. The server handles a connection's messages in order, so
  its ``pong`` confirms the change, while an ``error`` that arrives first rejects it: the change
  is rolled back and reported. A change made while disconnected is confirmed by the next
  handshake; if that handshake is refused for it, it is rolled back and the reconnect retried.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, FrozenSet, List, Optional, Tuple

import attrs

from ...errors import ConnectError, SessionClosedError
from ...proto import (
    ClientMessage,
    ClosePosition,
    Configure,
    ErrorMessage,
    MirrorBuyResult,
    Ping,
    Pong,
    RequestExitSignal,
    ServerMessage,
    StrategyConfig,
    UpdatePositionStrategy,
    UpdateStrategy,
    UpdateWallets,
    UpdateWatchWallets,
    encode_client,
)
from .wire import Wire

__all__ = ["IntentChange", "Outbox"]

logger = logging.getLogger(__name__)

_INTENT_FIELDS: Dict[type, Tuple[str, str]] = {  # message type -> (its attribute, the Configure field)
    UpdateStrategy: ("strategy", "strategy"),
    UpdateWallets: ("wallet_pubkeys", "wallet_pubkeys"),
    UpdateWatchWallets: ("watch_wallets", "watch_wallets"),
}
_MAX_PINGS = 256
_ACTION_TYPES = frozenset({ClosePosition, RequestExitSignal, MirrorBuyResult, UpdatePositionStrategy})
_ANY_FIELD = frozenset(field for _, field in _INTENT_FIELDS.values())
_FIELDS_BY_CODE: Dict[str, FrozenSet[str]] = {  # which intent changes an error code can be about
    "wallet_not_registered": frozenset({"wallet_pubkeys"}),
    "invalid_strategy": frozenset({"strategy"}),
    "capacity_exceeded": frozenset({"wallet_pubkeys", "watch_wallets"}),
}


@attrs.define(eq=False)
class IntentChange:
    """An intent command the server has not confirmed yet.

    ``state`` is ``"offline"`` (only in the intent), ``"handshake"`` (folded into a
    ``configure`` being attempted: the handshake confirms it) or ``"link"`` (written to the live
    link and followed by a ping: the ``pong`` confirms it).
    """

    command: ClientMessage
    field: str
    value: Any
    state: str = "offline"


class Outbox:
    """Serialises writes to the live socket and keeps what cannot be written yet."""

    def __init__(self, intent: Configure, replays: Optional[Callable[[ClientMessage], bool]] = None) -> None:
        self._lock = threading.Lock()
        self._replays = replays  # whether a kept command is still sent on a new connection
        self._intent = intent
        self._wire: Optional[Wire] = None  # the live connection, or None while not ready
        self._pending: Deque[Tuple[ClientMessage, str]] = deque()
        self._unacked: Deque[Tuple[ClientMessage, str, int]] = deque()  # (command, text, inbound mark)
        # pings awaiting a pong, in order (bounded: a server that never answers cannot grow it)
        self._pings: Deque[Optional[IntentChange]] = deque(maxlen=_MAX_PINGS)
        self._changes: Deque[IntentChange] = deque()
        self._accepted: Dict[str, Any] = {}  # field -> last value the server accepted
        self._position_strategies: Dict[str, StrategyConfig] = {}  # token account -> its strategy
        self.inbound = 0  # frames received; bumped by the reader thread only
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once sends are refused for good (``close()`` or the connection ended)."""
        return self._closed

    def refuse_sends(self) -> None:
        """Refuse further sends (the connection ended); the live wire, if any, stays its owner's."""
        with self._lock:
            self._closed = True

    @property
    def intent(self) -> Configure:
        """The ``configure`` the next connection will send."""
        return self._intent

    @property
    def ready(self) -> bool:
        """Whether commands are written straight to a live socket."""
        return self._wire is not None

    def pending_count(self) -> int:
        """Commands kept for the next connection."""
        return len(self._pending)

    def send(self, message: ClientMessage) -> bool:
        """Write now (True) or keep for the next connection (False); ``ping`` is never kept."""
        if isinstance(message, Configure):
            raise TypeError("configure is sent by the connection itself; use the update_* commands")
        text = encode_client(message)
        kind = type(message)
        with self._lock:
            if self._closed:
                raise SessionClosedError("cannot send: the connection was closed")
            change = self._apply_intent(message) if kind in _INTENT_FIELDS else None
            wire = self._wire
            if wire is not None:
                try:
                    wire.send_text(text)
                    if change is not None:
                        self._write_barrier(wire, change)
                except Exception as exc:  # the socket broke under us: keep the command
                    logger.warning("send failed (%s); command kept for the next connection", exc)
                    self._link_lost()
                    wire.shutdown()
                    if kind is not Ping:
                        self._pending.append((message, text))
                    return False
                if kind is Ping:
                    self._pings.append(None)
                elif kind in _ACTION_TYPES:
                    self._track_unacked(message, text)
                return True
            if kind is not Ping:
                if kind in _INTENT_FIELDS:  # a newer full replacement supersedes older ones
                    self._drop_pending(lambda kept: type(kept) is kind)
                self._pending.append((message, text))
            return False

    def set_position_strategy(self, token_account: str, strategy: Optional[StrategyConfig]) -> None:
        """Remember (or, with None, forget) one position's own strategy across reconnects."""
        with self._lock:
            if strategy is None:
                self._position_strategies.pop(token_account, None)
            else:
                self._position_strategies[token_account] = strategy

    def position_strategy(self, token_account: str) -> Optional[StrategyConfig]:
        """The strategy a position was given, if any."""
        with self._lock:
            return self._position_strategies.get(token_account)

    def update_intent(self, **changes: Any) -> Configure:
        """Change configure-only settings (send mode, tip, mirror config)."""
        with self._lock:
            self._intent = attrs.evolve(self._intent, **changes)
            return self._intent

    def configure_text(self) -> str:
        """The ``configure`` for a new connection; queued intent commands are folded into it."""
        with self._lock:
            self._drop_pending(lambda kept: type(kept) in _INTENT_FIELDS)
            for change in self._changes:
                if change.state == "offline":
                    change.state = "handshake"
            return encode_client(self._intent)

    def go_live(self, wire: Wire) -> None:
        """The handshake succeeded: the intent it carried is accepted; flush what was kept, in
        order, then accept direct writes. Raises ConnectError."""
        with self._lock:
            if self._closed:
                raise SessionClosedError("closed while connecting")
            for change in [change for change in self._changes if change.state == "handshake"]:
                self._accepted[change.field] = change.value
                self._changes.remove(change)
            replays = self._replays
            try:
                while self._pending:
                    message, text = self._pending[0]
                    if replays is None or replays(message):
                        wire.send_text(text)
                    self._pending.popleft()
                    kind = type(message)
                    if kind in _ACTION_TYPES:
                        self._track_unacked(message, text)
                    elif kind in _INTENT_FIELDS:  # changed after this handshake's configure was built
                        for change in self._changes:
                            if change.command is message:
                                self._write_barrier(wire, change)
            except Exception as exc:
                raise ConnectError(f"connection lost while flushing queued commands: {exc}") from None
            self._wire = wire

    def go_down(self) -> Optional[Wire]:
        """Stop direct writes; returns the connection that was live, if any."""
        with self._lock:
            wire = self._wire
            self._link_lost()
            return wire

    def close(self) -> Tuple[bool, Optional[Wire]]:
        """Refuse further sends. Returns (first call?, the connection that was live)."""
        with self._lock:
            first = not self._closed
            self._closed = True
            wire, self._wire = self._wire, None
            return first, wire

    def observe(self, message: ServerMessage) -> Optional[IntentChange]:
        """A ``pong`` or ``error`` arrived on the live link; returns a change it rejected."""
        with self._lock:
            if type(message) is Pong:
                if self._pings:
                    change = self._pings.popleft()
                    if change is not None and change in self._changes:
                        self._changes.remove(change)
                        self._accepted[change.field] = change.value
                return None
            assert type(message) is ErrorMessage
            fields = _FIELDS_BY_CODE.get(message.code, _ANY_FIELD)
            live = [change for change in self._changes if change.state == "link"]
            if not live or live[0].field not in fields:
                return None  # not about an intent change (e.g. a position over capacity)
            change = live[0]
            self._reject([change])
            for index, marker in enumerate(self._pings):
                if marker is change:  # its pong will still come: it confirms nothing now
                    self._pings[index] = None
            return change

    def reject_for_handshake(self, code: str) -> List[IntentChange]:
        """A handshake was refused with ``code``: roll back the unconfirmed changes it can be
        about (they were folded into that ``configure``); returns them, or [] if none."""
        fields = _FIELDS_BY_CODE.get(code, _ANY_FIELD)
        with self._lock:
            rejected = [c for c in self._changes if c.state == "handshake" and c.field in fields]
            self._reject(rejected)
            return rejected

    def _reject(self, rejected: List[IntentChange]) -> None:
        for change in rejected:
            self._changes.remove(change)
        for field in {change.field for change in rejected}:
            newer = [change.value for change in self._changes if change.field == field]
            value = newer[-1] if newer else self._accepted[field]
            self._intent = attrs.evolve(self._intent, **{field: value})

    def _apply_intent(self, message: ClientMessage) -> IntentChange:
        attribute, field = _INTENT_FIELDS[type(message)]
        value = getattr(message, attribute)
        if field != "strategy":
            value = tuple(value)
        if not any(change.field == field for change in self._changes):
            self._accepted[field] = getattr(self._intent, field)
        change = IntentChange(message, field, value)
        self._changes.append(change)
        self._intent = attrs.evolve(self._intent, **{field: value})
        return change

    def _write_barrier(self, wire: Wire, change: IntentChange) -> None:
        barrier = encode_client(Ping(client_time_ms=int(time.time() * 1000)))
        wire.send_text(barrier)  # if this fails, the change stays offline: the next handshake confirms it
        change.state = "link"
        self._pings.append(change)

    def _track_unacked(self, message: ClientMessage, text: str) -> None:
        unacked, mark = self._unacked, self.inbound
        while unacked and unacked[0][2] != mark:  # a frame arrived after these: the link was alive
            unacked.popleft()
        unacked.append((message, text, mark))

    def _link_lost(self) -> None:
        """The live link is gone: commands written after its last inbound frame go again."""
        self._wire = None
        self._pings.clear()
        for change in self._changes:
            if change.state == "link":
                change.state = "offline"
        mark, replays = self.inbound, self._replays
        resend = [
            (message, text)
            for message, text, at in self._unacked
            if at == mark and (replays is None or replays(message))
        ]
        self._unacked.clear()
        if resend:
            logger.info("re-sending %d command(s) written after the last frame of a dead connection", len(resend))
            self._pending.extendleft(reversed(resend))

    def _drop_pending(self, matches: Callable[[ClientMessage], bool]) -> None:
        self._pending = deque(item for item in self._pending if not matches(item[0]))
