"""How ``tail`` writes one event: a readable line, or a JSON object (the wire message as sent).

Both are pure functions of the event, so the line and JSON outputs and the live view's event log
say the same thing. Amounts in quote atomic units are shown in SOL (10^9 lamports); a position's
PnL % is its profit against its entry, from the handle the session keeps.
"""

from __future__ import annotations

import datetime
import json
import time
from typing import Any, Callable, Dict, Optional

import attrs

from ..proto import encode_server, to_wire
from ..stream import Event, PositionHandle

__all__ = ["as_json", "as_line", "figures", "pnl_pct", "sol", "token_of", "wall_clock"]


def wall_clock(received_at: float) -> float:
    """Unix time of an event, from its ``time.monotonic()`` stamp."""
    return time.time() - (time.monotonic() - received_at)


def sol(units: Optional[int], *, signed: bool = False) -> str:
    """Quote atomic units as SOL with 4 decimals (``-`` when unknown)."""
    if units is None:
        return "-"
    return f"{units / 1e9:+.4f} SOL" if signed else f"{units / 1e9:.4f} SOL"


def short(key: str) -> str:
    """A public key shortened for a column: first and last four characters."""
    return key if len(key) <= 11 else f"{key[:4]}..{key[-4:]}"


def token_of(event: Event[Any]) -> str:
    """The token an event is about: the position's symbol, else a short mint, else ``-``."""
    handle = event.handle
    if handle is not None:
        return handle.token_symbol or short(handle.mint)
    mint = getattr(event.message, "mint", None)
    symbol = getattr(event.message, "token_symbol", None)
    if symbol:
        return str(symbol)
    return short(mint) if isinstance(mint, str) else "-"


def pnl_pct(profit_units: int, handle: Optional[PositionHandle]) -> Optional[float]:
    """Profit as a percentage of the entry, when the entry is known and not zero."""
    if handle is None or not handle.entry_quote_units:
        return None
    return profit_units / handle.entry_quote_units * 100


def _pct(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def _error_text(error: Optional[BaseException]) -> str:
    return "" if error is None else " ".join(f"{type(error).__name__}: {error}".split())


_FIGURES: Dict[str, Callable[[Event[Any]], str]] = {
    "hello_ok": lambda e: f"session {e.message.session_id}",
    "connected": lambda e: f"session {e.message.hello.session_id}" + (" (reconnected)" if e.message.reconnect else ""),
    "disconnected": lambda e: f"{e.message.reason}" + ("" if e.message.will_reconnect else " (not reconnecting)"),
    "reconnecting": lambda e: (
        f"attempt {e.message.attempt} in {e.message.delay:.2f} s"
        + (f" (last: {_error_text(e.message.last_error)})" if e.message.last_error is not None else "")
    ),
    "closed": lambda e: _error_text(e.message.error) or "closed",
    "error": lambda e: f"[{e.message.code}] {e.message.message}",
    "balance_update": lambda e: f"tokens={e.message.tokens}",
    "position_opened": lambda e: (
        f"#{e.message.position_id} tokens={e.message.tokens} entry={sol(e.message.entry_quote_units)}"
    ),
    "pnl_update": lambda e: (
        f"#{e.message.position_id} pnl={_pct(pnl_pct(e.message.profit_units, e.handle))} "
        f"profit={sol(e.message.profit_units, signed=True)}"
    ),
    "liquidity_snapshot": lambda e: (
        f"#{e.message.position_id} trend={e.message.liquidity_trend} bands={len(e.message.bands)}"
    ),
    "trade_tick": lambda e: (
        f"#{e.message.position_id} {e.message.side} tokens={e.message.token_amount} quote={sol(e.message.quote_amount)}"
    ),
    "exit_signal_with_tx": lambda e: (
        f"#{e.message.position_id} reason={e.message.reason} profit={sol(e.message.profit_units, signed=True)}"
    ),
    "position_closed": lambda e: f"#{e.message.position_id} reason={e.message.reason}",
    "mirror_buy_signal": lambda e: f"watched={short(e.message.watched_wallet)} quote={e.message.amount_quote_units}",
    "mirror_buy_failed": lambda e: f"watched={short(e.message.watched_wallet)} reason={e.message.reason}",
    "mirror_wallet_auto_disabled": lambda e: f"watched={short(e.message.watched_wallet)} reason={e.message.reason}",
    "pong": lambda e: f"server_time_ms={e.message.server_time_ms}",
}


def figures(event: Event[Any]) -> str:
    """The key figures of an event, one short line (``#3 pnl=+12.5% profit=+0.0125 SOL``)."""
    describe = _FIGURES.get(event.type)
    if describe is None:
        return event.type
    return " ".join(describe(event).split())


def as_line(event: Event[Any]) -> str:
    """``HH:MM:SS.mmm  type  token  figures``: one line per event for a pipe or a log."""
    stamp = datetime.datetime.fromtimestamp(wall_clock(event.received_at))
    clock = stamp.strftime("%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}"
    return f"{clock}  {event.type:<20} {token_of(event):<12} {figures(event)}"


def _lifecycle(message: Any) -> Dict[str, Any]:
    """A lifecycle record as JSON: its fields, errors as text, ``hello`` as its wire message."""
    if not attrs.has(type(message)):
        return {"text": str(message)}
    fields: Dict[str, Any] = {}
    for field in attrs.fields(type(message)):
        value = getattr(message, field.name)
        if isinstance(value, BaseException):
            value = _error_text(value)
        elif attrs.has(type(value)):
            value = to_wire(value)
        fields[field.name] = value
    return fields


def as_json(event: Event[Any]) -> str:
    """One JSON Lines record: ``event`` (its type), ``time`` (UTC, ISO 8601) and ``message``.

    ``message`` is the wire message exactly as the codec writes it (``decode_server`` reads it
    back); for a lifecycle event (``connected``, ...) it is the record's fields.
    """
    moment = datetime.datetime.fromtimestamp(wall_clock(event.received_at), tz=datetime.timezone.utc)
    message = event.message
    if hasattr(type(message), "TYPE") or event.type == "unknown":
        body: Any = json.loads(encode_server(message))
    else:
        body = _lifecycle(message)
    record = {"event": event.type, "time": moment.isoformat(timespec="milliseconds"), "message": body}
    return json.dumps(record, separators=(",", ":"))  # ASCII: safe on any terminal encoding
