"""Read a recording into a :class:`~.model.TradeReport`: pure data, no chart library needed."""

from __future__ import annotations

import bisect
import statistics
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from ..proto import StrategyConfig
from .lines import LineCounts, read_lines
from .model import (
    AfterExit,
    Marker,
    PositionReport,
    PositionRow,
    PricePoint,
    SessionMark,
    Skipped,
    Totals,
    TradeReport,
)
from .thresholds import pct_at_price, threshold_lines, trailing_steps
from .timeline import Gathered, PositionTrack, Step, StrategyLine, Timeline

__all__ = ["read_report"]


def read_report(recording: Union[str, Path], strategy: Optional[StrategyConfig] = None) -> TradeReport:
    """Read a session recording (``StreamSession(record_to=...)``) into a report.

    ``strategy`` overrides the strategies the recording holds. A session records the strategy it
    sends (at every connect and every change, a position's own included), and each position's
    thresholds are drawn from the one in force at its first exit signal (else at its close).
    An older recording holds none; then thresholds are drawn only when ``strategy`` is given.
    A cut-off last line, lines that are not frames or events, undecodable frames and unknown
    message types are skipped and counted (:attr:`TradeReport.skipped`).

    Raises:
        OSError: the file cannot be read.
        ValueError: the file holds no frame or event at all (empty, or not a recording).
    """
    counts, timeline = LineCounts(), Timeline()
    for line in read_lines(recording, counts):
        timeline.feed(line)
    if counts.frames + counts.events == 0:
        if counts.lines == 0:
            raise ValueError(f"{recording} is empty: it holds no frame or event")
        raise ValueError(
            f"{recording} is not a session recording: none of its {counts.lines} lines is a frame or an event"
        )
    gathered = timeline.gathered
    positions = tuple(
        _position(track, strategy or _in_force(gathered.strategies, track, gathered.last_t))
        for _, track in sorted(gathered.positions.items())
    )
    session_strategies = [line.strategy for line in gathered.strategies if line.position_id is None]
    if strategy is None and session_strategies:
        strategy = session_strategies[-1]
    session = tuple(sorted(_session_marks(gathered), key=lambda mark: mark.t))
    skipped = Skipped(
        cut_off=counts.cut_off,
        unreadable=counts.unreadable,
        undecodable=gathered.undecodable,
        unknown=tuple(sorted(gathered.unknown.items())),
    )
    return TradeReport(
        source=Path(recording).name,
        duration=gathered.last_t,
        frames=counts.frames,
        events=counts.events,
        strategy=strategy,
        positions=positions,
        session=session,
        totals=_totals(positions, session),
        skipped=skipped,
    )


def _session_marks(gathered: Gathered) -> List[SessionMark]:
    """The recorded lifecycle events; for a recording without them, each ``hello_ok`` as a connect."""
    if any(mark.kind in ("connected", "reconnected") for mark in gathered.session):
        return list(gathered.session)
    hellos = [
        SessionMark(t, "reconnected" if index else "connected", f"hello_ok: session {session_id}")
        for index, (t, session_id) in enumerate(gathered.hellos)
    ]
    return [*gathered.session, *hellos]


def _in_force(lines: List[StrategyLine], track: PositionTrack, end: float) -> Optional[StrategyConfig]:
    """The strategy that judged ``track``: its own if one was sent, else the session's, as of its
    first exit signal (else its close, else the end of the recording)."""
    signals = [step.t for step in track.steps if step.kind == "signal"]
    at = signals[0] if signals else track.closed_t if track.closed_t is not None else end
    own = [
        line
        for line in lines
        if line.t <= at
        and (line.position_id is not None or line.token_account is not None)
        and (line.token_account == track.token_account or line.position_id == track.position_id)
    ]
    if own:
        return own[-1].strategy
    session = [line for line in lines if line.position_id is None and line.token_account is None]
    before = [line for line in session if line.t <= at]
    if before:
        return before[-1].strategy
    return session[0].strategy if session else None


# -- one position ------------------------------------------------------------------------------


def _position(track: PositionTrack, strategy: Optional[StrategyConfig]) -> PositionReport:
    prices = tuple(sorted(track.prices, key=lambda point: point.t))
    times = [point.t for point in prices]
    entry_price = track.entry_price
    markers = tuple(_marker(step, _price_at(prices, times, step.t), track) for step in track.steps)
    thresholds: Tuple[Any, ...] = ()
    trailing: Tuple[Any, ...] = ()
    if strategy is not None and entry_price:
        thresholds = tuple(threshold_lines(strategy, entry_price))
        first_level_signals: Dict[int, float] = {}
        for step in track.steps:
            level = step.fields.get("level_index")
            if step.kind == "signal" and level is not None:
                first_level_signals.setdefault(level, step.t)
        trailing = tuple(trailing_steps(strategy, entry_price, prices, first_level_signals, track.closed_t))
    return PositionReport(
        position_id=track.position_id,
        mint=track.mint,
        token=track.token or f"#{track.position_id}",
        entry_units=track.entry_units,
        entry_price=entry_price,
        opened_t=track.opened_t,
        closed_t=track.closed_t,
        close_reason=track.close_reason,
        prices=prices,
        markers=markers,
        thresholds=thresholds,
        trailing=trailing,
        row=_row(track, markers, prices, times, entry_price),
    )


def _price_at(prices: Tuple[PricePoint, ...], times: List[float], t: float) -> Optional[float]:
    """The last price seen at or before ``t``."""
    index = bisect.bisect_right(times, t)
    return prices[index - 1].price if index else None


def _tranche_pnl(track: PositionTrack, fields: Dict[str, Any]) -> Tuple[Optional[int], Optional[float]]:
    """A signal's tranche: its share of the entry cost, and its PnL percent (the server's estimate)."""
    sold, entry, tokens = fields.get("sold_tokens"), track.entry_units, track.initial_tokens
    if not (sold and entry and tokens):
        return None, None
    cost = round(entry * sold / tokens)
    return cost, (fields["profit_units"] / cost * 100 if cost else None)


def _marker(step: Step, price: Optional[float], track: PositionTrack) -> Marker:
    f, kind = step.fields, step.kind
    level = f.get("level_index")
    tranche = f" level {level}" if level is not None else ""
    slippage = f.get("slippage_bps")
    at_slippage = f" at {slippage} bps" if slippage is not None else " at the signal's slippage"
    pnl: Optional[float] = None
    if kind == "signal":
        pnl = _tranche_pnl(track, f)[1]
        label = f"signal{tranche}: {f['reason']}" + (f" ({pnl:+.1f} %)" if pnl is not None else "")
    elif kind == "submitted":
        label = f"attempt {f.get('attempt')}{tranche} sent{at_slippage}"
    elif kind == "landed":
        latency = f.get("latency_ms")
        after = f", {latency:.0f} ms after the signal" if isinstance(latency, (int, float)) else ""
        label = f"landed{tranche}: attempt {f.get('attempt')}{at_slippage}{after}"
    elif kind == "failed":
        label = f"failed{tranche}: {f.get('reason')} after {f.get('attempts')} attempts"
    elif kind == "unresolved":
        label = f"unresolved{tranche}: {f.get('reason')} after {f.get('attempts')} attempts"
    elif kind == "closed":
        label = f"closed: {f.get('reason')}"
    else:
        label = "opened"
    latency = f.get("latency_ms")
    return Marker(
        t=step.t,
        kind=kind,
        price=price,
        label=label,
        level_index=level,
        attempt=f.get("attempt", f.get("attempts")),
        slippage_bps=slippage,
        reason=f.get("reason"),
        latency_ms=float(latency) if isinstance(latency, (int, float)) else None,
        pnl_pct=pnl,
        signature=f.get("signature"),
    )


def _row(
    track: PositionTrack,
    markers: Tuple[Marker, ...],
    prices: Tuple[PricePoint, ...],
    times: List[float],
    entry_price: Optional[float],
) -> PositionRow:
    """The summary row: exit and PnL from the signals of the tranches that landed (else the last signal)."""
    signals = [step for step in track.steps if step.kind == "signal"]
    landed = [m for m in markers if m.kind == "landed"]
    ended = [m for m in markers if m.kind in ("landed", "failed", "unresolved")]
    sold_signals = []
    for mark in landed:  # the latest signal of the same tranche before it landed
        matching = [s for s in signals if s.fields.get("level_index") == mark.level_index and s.t <= mark.t]
        if matching:
            sold_signals.append(matching[-1])
    counted = sold_signals or signals[-1:]
    sold_cost: Optional[int] = None
    exit_units: Optional[int] = None
    pnl_pct: Optional[float] = None
    costs = [(_tranche_pnl(track, s.fields)[0], s.fields["profit_units"]) for s in counted]
    if costs and all(cost for cost, _ in costs):
        sold_cost = sum(cost or 0 for cost, _ in costs)
        profit = sum(profit for _, profit in costs)
        exit_units, pnl_pct = sold_cost + profit, profit / sold_cost * 100
    last_sell = landed[-1].t if landed else (signals[-1].t if signals else None)
    exit_price = _price_at(prices, times, counted[-1].t) if counted else None
    return PositionRow(
        position_id=track.position_id,
        token=track.token or f"#{track.position_id}",
        entry_units=track.entry_units,
        sold_cost_units=sold_cost,
        exit_units=exit_units,
        pnl_pct=pnl_pct,
        reasons=tuple(dict.fromkeys(str(s.fields["reason"]) for s in signals)),
        attempts=sum(m.attempt or 0 for m in ended) if ended else None,
        signal_to_landed_ms=tuple(_signal_to_landed(m, signals) for m in landed),
        outcome=_outcome(track, signals, ended),
        after_exit=_after_exit(prices, times, last_sell, exit_price),
    )


def _signal_to_landed(landed: Marker, signals: List[Step]) -> float:
    """The executor's own figure (first signal to landing); else the recording's clock."""
    if landed.latency_ms is not None:
        return landed.latency_ms
    first = next((s.t for s in signals if s.fields.get("level_index") == landed.level_index), landed.t)
    return (landed.t - first) * 1000


def _outcome(track: PositionTrack, signals: List[Step], ended: List[Marker]) -> str:
    if ended:
        verdicts = [m.kind if m.kind != "failed" else f"failed ({m.reason})" for m in ended]
        return ", ".join(dict.fromkeys(verdicts))
    if signals:
        return "pending"
    return f"closed ({track.close_reason})" if track.closed_t is not None else "open"


def _after_exit(
    prices: Tuple[PricePoint, ...], times: List[float], after: Optional[float], exit_price: Optional[float]
) -> Optional[AfterExit]:
    """The highest price recorded after ``after`` (the last sell), against the price at its signal."""
    if after is None:
        return None
    later = prices[bisect.bisect_right(times, after) :]
    if not later:
        return None
    best = max(later, key=lambda point: point.price)
    pct = pct_at_price(exit_price, best.price) if exit_price else None
    return AfterExit(best.t, best.price, pct)


# -- the whole session ---------------------------------------------------------------------------


def _totals(positions: Tuple[PositionReport, ...], session: Tuple[SessionMark, ...]) -> Totals:
    rows = [p.row for p in positions]
    exited = [row for row in rows if row.exit_units is not None and row.signal_to_landed_ms]  # sold
    kinds = [m.kind for p in positions for m in p.markers]
    latencies = [ms for row in rows for ms in row.signal_to_landed_ms]
    return Totals(
        positions=len(positions),
        exited=len(exited),
        landed=kinds.count("landed"),
        failed=kinds.count("failed"),
        unresolved=kinds.count("unresolved"),
        entry_units=sum(row.sold_cost_units or 0 for row in exited),
        exit_units=sum(row.exit_units or 0 for row in exited),
        attempts=sum(row.attempts or 0 for row in rows),
        reconnects=sum(1 for mark in session if mark.kind == "reconnected"),
        errors=sum(1 for mark in session if mark.kind == "error"),
        median_signal_to_landed_ms=statistics.median(latencies) if latencies else None,
        max_signal_to_landed_ms=max(latencies) if latencies else None,
    )
