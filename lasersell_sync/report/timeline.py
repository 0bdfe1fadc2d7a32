"""Follow a recording's frames and events, and collect each position's timeline and the session's.

The frames are decoded with the protocol's own codec; the session's events (exit outcomes,
connects, reconnects, errors) are read from their recorded fields. This module only gathers;
:mod:`.build` turns what it gathered into a :class:`~.model.TradeReport`.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

import attrs

from ..errors import ProtocolError
from ..proto import (
    BalanceUpdate,
    ErrorMessage,
    ExitSignalWithTx,
    HelloOk,
    MirrorBuyFailed,
    MirrorWalletAutoDisabled,
    PnlUpdate,
    PositionClosed,
    PositionOpened,
    ServerMessage,
    StrategyConfig,
    TradeTick,
    UnknownMessage,
    decode_server,
    from_wire,
)
from .lines import EventLine, FrameLine
from .model import PricePoint, SessionMark

__all__ = ["EXIT_EVENTS", "Gathered", "PositionTrack", "Step", "Timeline"]

EXIT_EVENTS = ("exit_submitted", "exit_landed", "exit_failed", "exit_unresolved")
"""The exit executor's events, placed on their position's chart."""

_LIFECYCLE = ("connected", "disconnected", "reconnecting", "closed", "bad_frame", "command_rejected")


@attrs.define
class Step:
    """Something that happened to a position, with what the report needs of it."""

    t: float
    kind: str  # opened, signal, submitted, landed, failed, unresolved, closed
    fields: Dict[str, Any]


@attrs.define
class PositionTrack:
    """Everything seen of one position, in arrival order."""

    position_id: int
    mint: str = ""
    token: str = ""
    token_account: Optional[str] = None
    entry_units: Optional[int] = None
    initial_tokens: Optional[int] = None
    tokens: Optional[int] = None
    decimals: Optional[int] = None
    opened_t: Optional[float] = None
    closed_t: Optional[float] = None
    close_reason: Optional[str] = None
    prices: List[PricePoint] = attrs.Factory(list)
    steps: List[Step] = attrs.Factory(list)

    @property
    def entry_price(self) -> Optional[float]:
        """Quote units paid per whole token, when the open told the entry, the tokens and the decimals."""
        if not self.entry_units or not self.initial_tokens or self.decimals is None:
            return None
        return self.entry_units / self.initial_tokens * 10.0**self.decimals


@attrs.frozen
class StrategyLine:
    """A strategy the session sent at ``t``: its own (no position) or one position's."""

    t: float
    strategy: StrategyConfig
    position_id: Optional[int] = None
    token_account: Optional[str] = None


@attrs.define
class Gathered:
    """What :class:`Timeline` collected from a recording."""

    positions: Dict[int, PositionTrack] = attrs.Factory(dict)
    session: List[SessionMark] = attrs.Factory(list)
    hellos: List[Tuple[float, int]] = attrs.Factory(list)  # (t, session id) of each hello_ok
    undecodable: int = 0
    unknown: Dict[str, int] = attrs.Factory(dict)
    last_t: float = 0.0
    strategies: List[StrategyLine] = attrs.Factory(list)
    """Every recorded ``strategy`` line, in order: at each connect and each change."""


class Timeline:
    """Feed it every line of a recording, in order; read :attr:`gathered` at the end."""

    def __init__(self) -> None:
        self.gathered = Gathered()
        self._by_account: Dict[str, int] = {}
        self._frames: Dict[type, Callable[[Any, float], None]] = {
            HelloOk: self._hello,
            PositionOpened: self._opened,
            PnlUpdate: self._pnl,
            TradeTick: self._tick,
            BalanceUpdate: self._balance,
            ExitSignalWithTx: self._signal,
            PositionClosed: self._closed,
            ErrorMessage: self._error,
            MirrorBuyFailed: self._mirror_failed,
            MirrorWalletAutoDisabled: self._mirror_disabled,
        }

    def feed(self, line: Any) -> None:
        """One :class:`~.lines.FrameLine` or :class:`~.lines.EventLine`."""
        self.gathered.last_t = max(self.gathered.last_t, line.t)
        if isinstance(line, FrameLine):
            self._frame(line)
        elif isinstance(line, EventLine):
            self._event(line)

    def _frame(self, line: FrameLine) -> None:
        try:
            message: ServerMessage = decode_server(line.text)
        except ProtocolError:
            self.gathered.undecodable += 1
            return
        if isinstance(message, UnknownMessage):
            self._unknown(message.type)
            return
        handle = self._frames.get(type(message))
        if handle is not None:  # pong, liquidity snapshots and mirror buys draw nothing
            handle(message, line.t)

    def _event(self, line: EventLine) -> None:
        name, fields = line.name, line.fields
        if name in EXIT_EVENTS:
            position_id = fields.get("position_id")
            if isinstance(position_id, int):
                kind = name[len("exit_") :]
                self._track(position_id).steps.append(Step(line.t, kind, fields))
                return
        elif name in _LIFECYCLE:
            self.gathered.session.append(_session_mark(line.t, name, fields))
            return
        elif name == "strategy":
            try:
                strategy = from_wire(StrategyConfig, fields.get("strategy"))
            except (ProtocolError, ValueError, TypeError):
                self._unknown("event strategy (unreadable)")
                return
            position_id, account = fields.get("position_id"), fields.get("token_account")
            self.gathered.strategies.append(
                StrategyLine(
                    line.t,
                    strategy,
                    position_id if isinstance(position_id, int) else None,
                    account if isinstance(account, str) else None,
                )
            )
            return
        self._unknown(f"event {name}")

    def _unknown(self, name: str) -> None:
        self.gathered.unknown[name] = self.gathered.unknown.get(name, 0) + 1

    def _track(self, position_id: int) -> PositionTrack:
        track = self.gathered.positions.get(position_id)
        if track is None:
            track = self.gathered.positions[position_id] = PositionTrack(position_id)
        return track

    # -- frames ------------------------------------------------------------------------------

    def _hello(self, message: HelloOk, t: float) -> None:
        self.gathered.hellos.append((t, message.session_id))

    def _opened(self, message: PositionOpened, t: float) -> None:
        track = self._track(message.position_id)
        self._by_account[message.token_account] = message.position_id
        track.token_account = message.token_account
        track.tokens = message.tokens
        if message.token_price_quote is not None:
            track.prices.append(PricePoint(t, float(message.token_price_quote), "opened"))
        if track.opened_t is not None:  # re-announced after a reconnect: the first sighting stands
            return
        track.mint, track.opened_t = message.mint, t
        track.token = message.token_symbol or message.token_name or message.mint[:8]
        track.entry_units, track.initial_tokens = message.entry_quote_units, message.tokens
        track.decimals = message.token_decimals
        track.steps.append(Step(t, "opened", {}))

    def _pnl(self, message: PnlUpdate, t: float) -> None:
        track = self._track(message.position_id)
        price: Optional[float] = None
        if message.token_price_quote is not None:
            price = float(message.token_price_quote)
        elif track.tokens and track.decimals is not None:  # what selling everything would pay, per token
            price = message.proceeds_units / track.tokens * 10.0**track.decimals
        if price is not None:
            track.prices.append(PricePoint(t, price, "pnl"))

    def _tick(self, message: TradeTick, t: float) -> None:
        self._track(message.position_id).prices.append(PricePoint(t, float(message.price_quote), "tick"))

    def _balance(self, message: BalanceUpdate, t: float) -> None:
        position_id = self._by_account.get(message.token_account or "")
        if position_id is not None:
            self._track(position_id).tokens = message.tokens

    def _signal(self, message: ExitSignalWithTx, t: float) -> None:
        track = self._track(message.position_id)
        track.mint = track.mint or message.mint
        fields = {
            "reason": message.reason,
            "level_index": message.level_index,
            "profit_units": message.profit_units,
            "sold_tokens": message.sell_tokens if message.sell_tokens is not None else message.position_tokens,
        }
        track.steps.append(Step(t, "signal", fields))

    def _closed(self, message: PositionClosed, t: float) -> None:
        track = self._track(message.position_id)
        track.mint = track.mint or message.mint
        track.closed_t, track.close_reason = t, message.reason
        track.steps.append(Step(t, "closed", {"reason": message.reason}))

    def _error(self, message: ErrorMessage, t: float) -> None:
        self.gathered.session.append(SessionMark(t, "error", f"server error {message.code}: {message.message}"))

    def _mirror_failed(self, message: MirrorBuyFailed, t: float) -> None:
        text = f"mirror buy failed ({message.reason}): {message.mint} of {message.watched_wallet}"
        self.gathered.session.append(SessionMark(t, "error", text))

    def _mirror_disabled(self, message: MirrorWalletAutoDisabled, t: float) -> None:
        text = f"mirroring of {message.watched_wallet} disabled after {message.loss_count} losses ({message.reason})"
        self.gathered.session.append(SessionMark(t, "error", text))


def _session_mark(t: float, name: str, fields: Dict[str, Any]) -> SessionMark:
    """A lifecycle event line as a timeline entry (errors are already ``"TypeName: text"``)."""
    if name == "connected":
        return SessionMark(t, "reconnected" if fields.get("reconnect") else "connected", "connected")
    if name == "disconnected":
        text = f"disconnected: {fields.get('reason', '?')}"
        if fields.get("error"):
            text += f" ({fields['error']})"
        if fields.get("will_reconnect") is False:
            text += ", not reconnecting"
        return SessionMark(t, "disconnected", text)
    if name == "reconnecting":
        text = f"reconnecting: attempt {fields.get('attempt', '?')} in {_seconds(fields.get('delay'))}"
        if fields.get("last_error"):
            text += f" after {fields['last_error']}"
        return SessionMark(t, "reconnecting", text)
    if name == "closed":
        error = fields.get("error")
        return SessionMark(t, "closed", f"closed: {error}" if error else "closed")
    if name == "bad_frame":
        return SessionMark(t, "error", f"bad frame: {fields.get('error', '?')}")
    return SessionMark(t, "error", f"command rejected: {fields.get('code', '?')}: {fields.get('message', '')}")


def _seconds(value: Any) -> str:
    return f"{value:.2f} s" if isinstance(value, (int, float)) else "?"
