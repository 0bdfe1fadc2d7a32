"""What a trade report holds: plain frozen records, built from a recording, drawn by the renderer.

Everything here is data (numbers, strings, tuples), so a test can check a report without the
chart library, and :func:`report_data` turns it into the JSON the HTML page embeds. Times are
seconds since the recording's first line (its one monotonic clock). Prices are quote atomic
units (lamports in SOL markets) per whole token, as ``token_price_quote`` and ``price_quote``
quote them.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Tuple

import attrs

from ..proto import StrategyConfig, to_wire

__all__ = [
    "AfterExit",
    "Marker",
    "PositionReport",
    "PositionRow",
    "PricePoint",
    "SessionMark",
    "Skipped",
    "Threshold",
    "Totals",
    "TradeReport",
    "TrailStep",
    "report_data",
]


@attrs.frozen
class PricePoint:
    """One price seen: from a ``pnl_update`` (``"pnl"``), a ``trade_tick`` (``"tick"``) or the open."""

    t: float
    price: float
    source: str


@attrs.frozen
class Marker:
    """Something that happened to a position, placed at its time and the price last seen then.

    ``kind``: ``opened``, ``signal`` (an exit signal arrived), ``submitted`` (an attempt was
    accepted by a target), ``landed``, ``failed``, ``unresolved`` or ``closed``. ``price`` is
    None when no price had been seen yet.
    """

    t: float
    kind: str
    price: Optional[float]
    label: str
    level_index: Optional[int] = None
    attempt: Optional[int] = None
    slippage_bps: Optional[int] = None
    reason: Optional[str] = None
    latency_ms: Optional[float] = None
    pnl_pct: Optional[float] = None
    signature: Optional[str] = None


@attrs.frozen
class Threshold:
    """A strategy threshold as a price: ``kind`` is ``take_profit``, ``stop_loss`` or ``ladder``."""

    kind: str
    pct: float
    price: float
    label: str
    level_index: Optional[int] = None


@attrs.frozen
class TrailStep:
    """From ``t`` on, the trailing stop stands at ``price`` (until the next step)."""

    t: float
    price: float
    pct: float


@attrs.frozen
class AfterExit:
    """The highest price seen after the position's last sell, and how far above the exit price it was."""

    t: float
    price: float
    pct_vs_exit: Optional[float]


@attrs.frozen
class PositionRow:
    """One row of the summary table.

    ``exit_units`` and ``pnl_pct`` are the server's estimate when the exit signal fired
    (slippage included), summed over the tranches that landed; when none landed, the last
    signal's. ``sold_cost_units`` is the part of the entry those tranches sold (all of it for
    a full exit). ``signal_to_landed_ms`` holds one figure per landed tranche.
    """

    position_id: int
    token: str
    entry_units: Optional[int]
    sold_cost_units: Optional[int]
    exit_units: Optional[int]
    pnl_pct: Optional[float]
    reasons: Tuple[str, ...]
    attempts: Optional[int]
    signal_to_landed_ms: Tuple[float, ...]
    outcome: str
    after_exit: Optional[AfterExit]


@attrs.frozen
class PositionReport:
    """One position: its price path, thresholds, trailing stop, markers and summary row."""

    position_id: int
    mint: str
    token: str
    entry_units: Optional[int]
    entry_price: Optional[float]
    opened_t: Optional[float]
    closed_t: Optional[float]
    close_reason: Optional[str]
    prices: Tuple[PricePoint, ...]
    markers: Tuple[Marker, ...]
    thresholds: Tuple[Threshold, ...]
    trailing: Tuple[TrailStep, ...]
    row: PositionRow


@attrs.frozen
class SessionMark:
    """A session event on the timeline: ``connected``, ``reconnected``, ``disconnected``,
    ``reconnecting``, ``closed`` or ``error`` (a bad frame, a rejected command, a server error)."""

    t: float
    kind: str
    text: str


@attrs.frozen
class Skipped:
    """Lines and frames the report could not use.

    ``cut_off``: the last line ends mid-way (the writer stopped); ``unreadable``: other lines
    that are not JSON, or neither a frame nor an event; ``undecodable``: frames the codec refused;
    ``unknown``: message types and event names this release does not know, with their counts.
    """

    cut_off: int = 0
    unreadable: int = 0
    undecodable: int = 0
    unknown: Tuple[Tuple[str, int], ...] = ()

    @property
    def total(self) -> int:
        """Every skipped line or frame."""
        return self.cut_off + self.unreadable + self.undecodable + sum(count for _, count in self.unknown)


@attrs.frozen
class Totals:
    """The session's sums: positions, tranches by outcome, money in and out, attempts, times.

    ``exited`` counts the positions with a sell that landed; ``entry_units`` and ``exit_units``
    sum what those sells sold (entry cost) and got (the estimate at their signals).
    """

    positions: int
    exited: int
    landed: int
    failed: int
    unresolved: int
    entry_units: int
    exit_units: int
    attempts: int
    reconnects: int
    errors: int
    median_signal_to_landed_ms: Optional[float]
    max_signal_to_landed_ms: Optional[float]

    @property
    def pnl_units(self) -> int:
        """Exit minus entry, over what the exits sold."""
        return self.exit_units - self.entry_units

    @property
    def pnl_pct(self) -> Optional[float]:
        """:attr:`pnl_units` in percent of the entry, or None without an exit."""
        return self.pnl_units / self.entry_units * 100 if self.entry_units else None


@attrs.frozen
class TradeReport:
    """A whole recording, read: positions, the session's timeline, totals and what was skipped.

    ``strategy`` is the session strategy the thresholds were drawn from: the one given, else the
    last the recording holds (None: neither; a position's own strategy is used for its chart).
    """

    source: str
    duration: float
    frames: int
    events: int
    strategy: Optional[StrategyConfig]
    positions: Tuple[PositionReport, ...]
    session: Tuple[SessionMark, ...]
    totals: Totals
    skipped: Skipped


def report_data(report: TradeReport) -> Dict[str, Any]:
    """The report as JSON-ready data (what the page embeds; the strategy in its wire form)."""
    data = attrs.asdict(report)
    data["strategy"] = to_wire(report.strategy) if report.strategy is not None else None
    data["totals"].update(pnl_units=report.totals.pnl_units, pnl_pct=report.totals.pnl_pct)
    data["skipped"]["total"] = report.skipped.total
    normal: Dict[str, Any] = json.loads(json.dumps(data, allow_nan=False))  # tuples as lists, as JSON has them
    return normal
