"""``tail`` in a terminal: a table of positions and a short event log, redrawn in place with ``rich``.

Needs the ``cli`` extra (``rich``). The view is driven from the caller's thread: no refresh
thread of rich's own runs (``auto_refresh=False``); :meth:`LiveView.refresh` redraws at most
every :data:`REFRESH_SECONDS`, however fast events arrive.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Deque, Dict, List, Optional

import attrs
from rich.console import Console, Group
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


@attrs.define
class _Row:
    """One position as the table shows it."""

    position_id: int
    token: str
    entry: str
    pnl: Optional[float] = None
    trend: str = "-"
    state: str = "open"
    """Sticks once an exit signal or the close arrived; frequent updates only change ``last``."""
    last: str = ""
    closed: bool = False


class LiveView:
    """Positions (token, entry, PnL %, state, liquidity trend, last event) above the latest events.

    A row's state is ``open`` until an exit signal arrives (``exit signal: <reason>``) and then
    ``closed: <reason>`` (the row dimmed): it sticks, while ``last event`` follows every update.
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
            self._rows[message.position_id] = _Row(
                message.position_id, token_of(event), sol(message.entry_quote_units), last="opened"
            )
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
            row.last = f"trade: {message.side}"
        elif event.type == "exit_signal_with_tx" and not row.closed:
            row.state = f"exit signal: {message.reason}"
        elif event.type == "position_closed":
            row.closed, row.state = True, f"closed: {message.reason}"

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
        table = Table(title=self._title, caption=f"{self._events} events  (Ctrl-C to stop)", expand=False)
        # PnL never wraps or shrinks: on a narrow terminal the other columns fold.
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("token", overflow="fold")
        table.add_column("entry", justify="right", overflow="fold")
        table.add_column("PnL %", justify="right", no_wrap=True, min_width=len("+1000.0%"))
        table.add_column("state", overflow="fold")
        table.add_column("liquidity", overflow="fold")
        table.add_column("last event", overflow="fold")
        for row in self._ordered():
            pnl = Text("-" if row.pnl is None else f"{row.pnl:+.1f}%")
            if row.pnl is not None:
                pnl.stylize("green" if row.pnl >= 0 else "red")
            state = Text(row.state, style="bold yellow" if row.state.startswith("exit") else "")
            cells = (str(row.position_id), row.token, row.entry, pnl, state, row.trend, row.last)
            table.add_row(*cells, style="dim" if row.closed else "")
        log = Text("\n".join(self._log) if self._log else "waiting for events...", style="cyan")
        return Group(table, Text("events:", style="bold"), log)
