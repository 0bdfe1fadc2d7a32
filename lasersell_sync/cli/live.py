"""``tail`` in a terminal: a table of positions and a short event log, redrawn in place with ``rich``.

Needs the ``cli`` extra (``rich``). The view is driven from the caller's thread: no refresh
thread of rich's own runs (``auto_refresh=False``); :meth:`LiveView.refresh` redraws at most
every :data:`REFRESH_SECONDS`, however fast events arrive.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Tuple

import attrs
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ..stream import Event
from .tailfmt import figures, pnl_pct, sol, token_of

__all__ = ["LOG_LINES", "MAX_ROWS", "REFRESH_SECONDS", "LiveView"]

REFRESH_SECONDS = 0.25
"""At most four redraws a second: a flood of updates costs no more terminal output than a trickle."""
LOG_LINES = 8
MAX_ROWS = 30
"""Rows kept: every open position, then the most recently closed ones."""

_TRENDS = {"growing": "growing ^", "stable": "stable =", "draining": "draining v"}
_SHORT_REASONS = {
    "target_profit": "tp",
    "take_profit": "tp",
    "stop_loss": "sl",
    "trailing_stop": "trail",
    "chained_tp": "ladder",
    "graduation": "grad",
}
"""Exit and close reasons as a narrow table shows them; any other reason is shown as sent."""
_EVENT_NAMES = {"position_opened": "opened"}
_SHORT_EVENT_NAMES = {
    "position_opened": "opened",
    "pnl_update": "pnl",
    "liquidity_snapshot": "liquidity",
    "exit_signal_with_tx": "exit signal",
    "position_closed": "closed",
    "balance_update": "balance",
}
_COLUMNS: Dict[str, Dict[str, Any]] = {
    "#": {"justify": "right", "no_wrap": True},
    "token": {"overflow": "ellipsis"},
    "entry": {"justify": "right", "no_wrap": True},
    "PnL %": {"justify": "right", "no_wrap": True, "min_width": len("+1000.0%")},
    "state": {"overflow": "ellipsis"},
    "liquidity": {"no_wrap": True},
    "last event": {"no_wrap": True},
}
"""No cell wraps inside a word. Should even the narrowest layout not fit, token and state (the only
columns rich may narrow) break at spaces and end a word that cannot fit with "…"; PnL stays whole."""
_ALL = ("#", "token", "entry", "PnL %", "state", "liquidity", "last event")
_LAYOUTS: Tuple[Tuple[bool, Tuple[str, ...]], ...] = (
    (False, _ALL),
    (True, _ALL),
    (True, ("#", "token", "entry", "PnL %", "state", "liquidity")),
    (True, ("token", "entry", "PnL %", "state", "liquidity")),
    (True, ("token", "PnL %", "state", "liquidity")),
    (True, ("token", "PnL %", "state")),
)
"""Widest first: (short labels?, columns). The first that fits the terminal is drawn. "last event" goes
first (the log below the table says the same), then "#", "entry" and "liquidity"."""
_UNBOUNDED = 10_000
"""A width no table reaches: measured within it, a table's maximum is its width without any wrapping."""


@attrs.define
class _Row:
    """One position as the table shows it; labels are chosen when drawn, for the terminal's width."""

    position_id: int
    token: str
    entry: str
    pnl: Optional[float] = None
    trend: str = "-"
    exit_reason: Optional[str] = None
    """Sticks once an exit signal arrived; frequent updates only change ``last``."""
    close_reason: Optional[str] = None
    last: str = "position_opened"
    """The type of the last event about the position."""
    side: str = ""
    """The side of the last trade tick."""

    @property
    def closed(self) -> bool:
        """Whether the position was closed (the row is dimmed and sorted last)."""
        return self.close_reason is not None


def _reason(reason: str, short: bool) -> str:
    return _SHORT_REASONS.get(reason, reason) if short else reason


def _state(row: _Row, short: bool) -> Text:
    """``open``, ``exit signal: <reason>`` (``exit: tp`` when short) or ``closed: <reason>``."""
    if row.close_reason is not None:
        return Text(f"closed: {_reason(row.close_reason, short)}")
    if row.exit_reason is not None:
        label = "exit" if short else "exit signal"
        return Text(f"{label}: {_reason(row.exit_reason, short)}", style="bold yellow")
    return Text("open")


def _last(row: _Row, short: bool) -> str:
    if row.last == "trade_tick":
        return f"trade: {row.side}"
    return (_SHORT_EVENT_NAMES if short else _EVENT_NAMES).get(row.last, row.last)


def _pnl(row: _Row) -> Text:
    pnl = Text("-" if row.pnl is None else f"{row.pnl:+.1f}%")
    if row.pnl is not None:
        pnl.stylize("green" if row.pnl >= 0 else "red")
    return pnl


class LiveView:
    """Positions (token, entry, PnL %, state, liquidity trend, last event) above the latest events.

    A row's state is ``open`` until an exit signal arrives (``exit signal: <reason>``) and then
    ``closed: <reason>`` (the row dimmed): it sticks, while ``last event`` follows every update.
    On a terminal too narrow for the whole table, labels get shorter (``exit: tp``, ``closed: sl``)
    and the least needed columns are left out (see :data:`_LAYOUTS`), so that no cell wraps inside
    a word; the layout is chosen again at each draw, from the terminal's current width.
    """

    def __init__(self, title: str, console: Optional[Console] = None) -> None:
        self._title = title
        self._console = console or Console()
        self._rows: Dict[int, _Row] = {}
        self._log: Deque[str] = deque(maxlen=LOG_LINES)
        self._live: Optional[Live] = None
        self._drawn_at = 0.0
        self._dirty = False
        self._events = 0

    @property
    def wait(self) -> Optional[float]:
        """How long the caller may wait for the next event before :meth:`refresh` is due."""
        return REFRESH_SECONDS if self._dirty else None

    def start(self) -> None:
        """Draw the (empty) view; later draws replace it in place."""
        self._live = Live(
            self._render(),
            console=self._console,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start(refresh=True)
        self._drawn_at = time.monotonic()

    def show(self, event: Event[Any]) -> None:
        """Take one event into the table and the log; redraw if the last draw is old enough."""
        self._events += 1
        self._apply(event)
        self._log.append(f"{event.type:<20} {token_of(event):<12} {figures(event)}")
        self._dirty = True
        self.refresh()

    def note(self, text: str) -> None:
        """A line for the log that is not an event (an error the session reported)."""
        self._log.append(" ".join(text.split()))
        self._dirty = True
        self.refresh()

    def refresh(self, force: bool = False) -> None:
        """Redraw if something changed and :data:`REFRESH_SECONDS` passed (or ``force``)."""
        now = time.monotonic()
        if self._live is None or not self._dirty or (not force and now - self._drawn_at < REFRESH_SECONDS):
            return
        self._live.update(self._render(), refresh=True)
        self._drawn_at, self._dirty = now, False

    def stop(self) -> None:
        """Draw the final state and leave it on the screen."""
        if self._live is not None:
            self.refresh(force=True)
            self._live.stop()
            self._live = None

    # -- the model -----------------------------------------------------------------------------

    def _apply(self, event: Event[Any]) -> None:
        message = event.message
        position_id = getattr(message, "position_id", None)
        if event.type == "position_opened":
            self._rows[message.position_id] = _Row(message.position_id, token_of(event), sol(message.entry_quote_units))
            self._trim()
            return
        row = self._rows.get(position_id) if isinstance(position_id, int) else None
        if row is None:
            return
        row.last = event.type
        if event.type == "pnl_update":
            row.pnl = pnl_pct(message.profit_units, event.handle)
        elif event.type == "liquidity_snapshot":
            row.trend = _TRENDS.get(message.liquidity_trend, message.liquidity_trend)
        elif event.type == "trade_tick":
            row.side = message.side
        elif event.type == "exit_signal_with_tx" and not row.closed:
            row.exit_reason = message.reason
        elif event.type == "position_closed":
            row.close_reason = message.reason

    def _trim(self) -> None:
        """Forget the oldest closed rows beyond :data:`MAX_ROWS`."""
        closed = [row.position_id for row in self._rows.values() if row.closed]
        for position_id in closed[: max(0, len(self._rows) - MAX_ROWS)]:
            del self._rows[position_id]

    # -- drawing -------------------------------------------------------------------------------

    def _ordered(self) -> List[_Row]:
        rows = list(self._rows.values())
        return [row for row in rows if not row.closed] + [row for row in reversed(rows) if row.closed]

    def _render(self) -> Group:
        log = Text("\n".join(self._log) if self._log else "waiting for events...", style="cyan")
        return Group(self._fitting_table(), Text("events:", style="bold"), log)

    def _fitting_table(self) -> Table:
        """The widest layout whose every cell fits on one line of the terminal, else the narrowest."""
        rows = self._ordered()
        unbounded = self._console.options.update_width(_UNBOUNDED)
        for short, columns in _LAYOUTS:
            table = self._table(rows, short, columns)
            if self._console.measure(table, options=unbounded).maximum <= self._console.width:
                return table
        return table

    def _table(self, rows: List[_Row], short: bool, columns: Tuple[str, ...]) -> Table:
        table = Table(title=self._title, caption=f"{self._events} events  (Ctrl-C to stop)", expand=False)
        for name in columns:
            table.add_column(name, **_COLUMNS[name])
        for row in rows:
            cells: Dict[str, RenderableType] = {
                "#": str(row.position_id),
                "token": row.token,
                "entry": row.entry,
                "PnL %": _pnl(row),
                "state": _state(row, short),
                "liquidity": row.trend,
                "last event": _last(row, short),
            }
            table.add_row(*(cells[name] for name in columns), style="dim" if row.closed else "")
        return table
