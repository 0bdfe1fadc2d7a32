"""The report as one self-contained HTML page: tables, inline SVG charts and the data as JSON.

Nothing is fetched when the page is opened (no script, no font, no image from elsewhere). The
data the charts were drawn from is embedded as ``<script type="application/json"
id="report-data">`` (see :func:`~.model.report_data`), for tools and tests. The same recording
gives the same bytes: nothing in the page depends on when it was made.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Union

from ..proto import StrategyConfig
from .build import read_report
from .charts import load_matplotlib, position_chart, session_chart
from .model import Marker, PositionReport, TradeReport, report_data
from .series import thinned

__all__ = ["describe_strategy", "render_html", "write_report"]

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #111827; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #e5e7eb; }
table { border-collapse: collapse; margin: 0.6em 0; } td, th { padding: 0.25em 0.7em; text-align: right; }
th { background: #f3f4f6; } td.text, th.text { text-align: left; } tr + tr td { border-top: 1px solid #f3f4f6; }
.meta, .note { color: #4b5563; } svg { max-width: 100%; height: auto; } section { margin-top: 1.5em; }
"""

_MISSING = "-"
_TEXT = ' class="text"'  # a left-aligned cell


def write_report(
    recording: Union[str, Path], out: Union[str, Path], strategy: Optional[StrategyConfig] = None
) -> TradeReport:
    """Read ``recording`` and write its report to ``out`` (HTML); returns the report's data.

    Raises:
        ImportError: matplotlib is missing (the message names the ``report`` extra).
        OSError: the recording cannot be read, or ``out`` cannot be written.
        ValueError: the file holds no frame or event at all.
    """
    load_matplotlib()  # before reading a long recording for nothing
    report = read_report(recording, strategy)
    Path(out).write_text(render_html(report), encoding="utf-8")
    return report


def render_html(report: TradeReport) -> str:
    """The whole page (needs matplotlib: :data:`~.charts.REPORT_EXTRA` otherwise)."""
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">',
        f"<title>Trade report: {_e(report.source)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>",
        "<h1>Trade report</h1>",
        f'<p class="meta">{_e(report.source)}: {report.duration:.1f} s recorded, {report.frames} frames, '
        f"{report.events} session events. {_e(describe_strategy(report.strategy))}</p>",
        "<h2>Totals</h2>",
        _totals(report),
        "<h2>Positions</h2>",
        _summary(report.positions),
        "<h2>Session</h2>",
        session_chart(report),
        _session_table(report),
        "<h2>Charts</h2>",
        *(_position_section(position) for position in report.positions),
        "<h2>Skipped</h2>",
        _skipped(report),
        _data_block(report),
        "</body>\n</html>\n",
    ]
    return "\n".join(parts)


def describe_strategy(strategy: Optional[StrategyConfig]) -> str:
    """The thresholds drawn, in one sentence (or why none are)."""
    if strategy is None:
        return (
            "No strategy was given, so no thresholds are drawn: a recording holds what the session received, "
            "not the strategy it sent (report --strategy FILE, or write_report(..., strategy=...))."
        )
    rules = []
    if strategy.target_profit_pct and not strategy.take_profit_levels:
        rules.append(f"take profit +{strategy.target_profit_pct:g} %")
    if strategy.stop_loss_pct:
        rules.append(f"stop loss -{strategy.stop_loss_pct:g} %")
    if strategy.trailing_stop_pct:
        rules.append(f"trailing stop {strategy.trailing_stop_pct:g} points below the best PnL")
    for index, level in enumerate(strategy.take_profit_levels):
        rules.append(f"level {index} at +{level.profit_pct:g} % sells {level.sell_pct:g} %")
    return "Thresholds drawn for the strategy given: " + (", ".join(rules) or "none") + "."


# -- sections ------------------------------------------------------------------------------------


def _totals(report: TradeReport) -> str:
    t = report.totals
    rows = [
        ("positions", str(t.positions)),
        ("positions sold (a sell landed)", str(t.exited)),
        ("sells landed / failed / unresolved", f"{t.landed} / {t.failed} / {t.unresolved}"),
        ("entry of what was sold (SOL)", _sol(t.entry_units)),
        ("exit at the signals (SOL)", _sol(t.exit_units)),
        ("PnL", f"{_sol(t.pnl_units)} SOL ({_pct(t.pnl_pct)})"),
        ("attempts", str(t.attempts)),
        ("signal to landed: median / max", f"{_ms(t.median_signal_to_landed_ms)} / {_ms(t.max_signal_to_landed_ms)}"),
        ("reconnects / errors", f"{t.reconnects} / {t.errors}"),
    ]
    body = "".join(f'<tr><td class="text">{_e(name)}</td><td>{_e(value)}</td></tr>' for name, value in rows)
    return f'<table id="totals">{body}</table>'


def _summary(positions: Sequence[PositionReport]) -> str:
    head = ["position", "token", "entry SOL", "exit SOL", "PnL %", "reason", "attempts", "signal to landed",
            "outcome", "highest after the exit"]  # fmt: skip
    rows = []
    for p in positions:
        row = p.row
        after = (
            _MISSING
            if row.after_exit is None
            else f"{_price(row.after_exit.price)} ({_pct(row.after_exit.pct_vs_exit)}"
        )
        after += "" if row.after_exit is None else f" vs the exit, at {row.after_exit.t:.2f} s)"
        cells = [f"#{p.position_id}", p.token, _sol(row.entry_units), _sol(row.exit_units), _pct(row.pnl_pct),
                 ", ".join(row.reasons) or _MISSING, _MISSING if row.attempts is None else str(row.attempts),
                 " / ".join(_ms(ms) for ms in row.signal_to_landed_ms) or _MISSING, row.outcome, after]  # fmt: skip
        rows.append(_row(cells, text_columns=(1, 5, 8, 9), row_id=f"row-{p.position_id}"))
    note = (
        '<p class="note">Exit and PnL are the server\'s estimate when the exit signal fired, slippage '
        "included, over the tranches that landed (else the last signal's). Signal to landed runs from the "
        "first signal to the sell seen on chain. The highest price after the exit is what the recording "
        "shows after the last sell; a position that closed stops being reported, so it is often empty.</p>"
    )
    return _table(head, rows, "summary", text_columns=(1, 5, 8, 9)) + note


def _session_table(report: TradeReport) -> str:
    if not report.session:
        return '<p class="note">No session events were recorded.</p>'
    rows = [_row([f"{mark.t:.3f}", mark.kind, mark.text], text_columns=(1, 2)) for mark in report.session]
    return _table(["t (s)", "what", "detail"], rows, "session-events", text_columns=(1, 2))


def _position_section(position: PositionReport) -> str:
    entry = _MISSING if position.entry_price is None else _price(position.entry_price)
    header = (
        f'<section id="position-{position.position_id}"><h3>#{position.position_id} {_e(position.token)}</h3>'
        f'<p class="meta">mint {_e(position.mint)}; entry {_sol(position.entry_units)} SOL at {entry} per token'
        f"{'' if position.close_reason is None else f'; closed: {_e(position.close_reason)}'}</p>"
    )
    rows = [_marker_row(marker, position.entry_price) for marker in position.markers]
    markers = _table(["t (s)", "what", "price", "PnL %", "detail"], rows, f"markers-{position.position_id}", (1, 4))
    return f"{header}\n{position_chart(position)}\n{markers}</section>"


def _marker_row(marker: Marker, entry_price: Optional[float]) -> str:
    pnl = marker.pnl_pct
    if pnl is None and marker.price is not None and entry_price:
        pnl = (marker.price / entry_price - 1) * 100
    detail = marker.label + (f" ({marker.signature})" if marker.signature else "")
    cells = [f"{marker.t:.3f}", marker.kind, _price(marker.price), _pct(pnl), detail]
    return _row(cells, text_columns=(1, 4))


def _skipped(report: TradeReport) -> str:
    s = report.skipped
    parts = [
        f"{s.cut_off} cut-off last line",
        f"{s.unreadable} unreadable lines",
        f"{s.undecodable} undecodable frames",
    ]
    parts.extend(f"{count} of unknown type {name}" for name, count in s.unknown)
    return f'<p id="skipped"><strong>{s.total} skipped</strong>: {_e(", ".join(parts))}.</p>'


def _data_block(report: TradeReport) -> str:
    data = report_data(report)
    for position, drawn in zip(data["positions"], report.positions):  # the points drawn, not every one
        position["prices"] = [[p.t, p.price, p.source] for p in thinned(drawn.prices)]
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="report-data">{text}</script>'


# -- formatting ----------------------------------------------------------------------------------


def _table(head: List[str], rows: Iterable[str], table_id: str, text_columns: Sequence[int] = ()) -> str:
    cells = "".join(f"<th{_TEXT if i in text_columns else ''}>{_e(h)}</th>" for i, h in enumerate(head))
    return f'<table id="{table_id}"><tr>{cells}</tr>{"".join(rows)}</table>'


def _row(cells: Sequence[str], text_columns: Sequence[int] = (), row_id: Optional[str] = None) -> str:
    tds = "".join(f"<td{_TEXT if i in text_columns else ''}>{_e(c)}</td>" for i, c in enumerate(cells))
    return f"<tr{_id(row_id)}>{tds}</tr>"


def _id(value: Optional[str]) -> str:
    return f' id="{value}"' if value else ""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _sol(units: Optional[int]) -> str:
    return _MISSING if units is None else f"{units / 1e9:,.3f}"


def _pct(value: Optional[float]) -> str:
    return _MISSING if value is None else f"{value:+.1f} %"


def _ms(value: Optional[float]) -> str:
    return _MISSING if value is None else f"{value:,.0f} ms"


def _price(value: Optional[float]) -> str:
    if value is None:
        return _MISSING
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"
