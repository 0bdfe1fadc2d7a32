"""The report's charts, drawn with matplotlib into inline SVG (the ``report`` extra).

matplotlib is used through :class:`matplotlib.figure.Figure` alone: no pyplot, no backend
switch, no change to the rcParams a program relies on (the two SVG settings that make the
output reproducible are set only while a figure is written, in an ``rc_context``). Every drawn
element the report describes carries an SVG id (``p<position>-<kind>-<n>``, ``session-<kind>-<n>``)
so the page can be checked, and searched, for what it shows.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from .model import Marker, PositionReport, SessionMark, TradeReport
from .series import thinned

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["REPORT_EXTRA", "load_matplotlib", "position_chart", "session_chart"]

REPORT_EXTRA = "the trade report needs the 'report' extra: pip install 'lasersell_sync[report]'"
"""The one line to show when matplotlib is missing."""

MARKER_STYLE: Dict[str, Tuple[str, str, float]] = {
    "signal": ("v", "#7b2cbf", 9.0),
    "submitted": ("o", "#1d4ed8", 6.0),
    "landed": ("*", "#15803d", 13.0),
    "failed": ("X", "#b91c1c", 9.0),
    "unresolved": ("d", "#6b7280", 8.0),
}
"""Marker shape, colour and size per marker kind (``opened`` and ``closed`` are vertical lines)."""

_NUMBERED_ID = re.compile(r' id="([A-Za-z][A-Za-z0-9.]*_\d+)"')
_THRESHOLD_STYLE = {"take_profit": ("#15803d", "--"), "stop_loss": ("#b91c1c", "--"), "ladder": ("#15803d", ":")}
_SESSION_ROWS = ("connection", "sells", "errors")
_SESSION_STYLE = {
    "reconnecting": ("^", "#d97706"),
    "disconnected": ("|", "#6b7280"),
    "closed": ("s", "#374151"),
    "error": ("X", "#b91c1c"),
}


def load_matplotlib() -> Any:
    """The ``matplotlib.figure`` module, or an ImportError whose message names the extra to install."""
    try:
        from matplotlib import figure
    except ImportError as exc:
        raise ImportError(REPORT_EXTRA) from exc
    return figure


def position_chart(position: PositionReport) -> str:
    """One position: price path, entry, thresholds, trailing stop and markers, as an SVG document."""
    fig = load_matplotlib().Figure(figsize=(9.6, 3.9), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    pid = f"p{position.position_id}"
    drawn = thinned(position.prices)
    start, end = _window(position)
    if drawn:
        ax.plot(
            [p.t for p in drawn], [p.price for p in drawn], color="#2563eb", lw=1.4, label="price", gid=f"{pid}-price"
        )
        ticks = [p for p in drawn if p.source == "tick"]
        if ticks:
            ax.plot([p.t for p in ticks], [p.price for p in ticks], ls="none", marker=".", ms=3, color="#93c5fd",
                    label="trades", gid=f"{pid}-ticks")  # fmt: skip
    if position.entry_price:
        ax.axhline(position.entry_price, color="#6b7280", ls="-.", lw=1, label="entry", gid=f"{pid}-entry")
        _pnl_axis(ax, position.entry_price)
    for line in position.thresholds:
        colour, style = _THRESHOLD_STYLE[line.kind]
        gid = f"{pid}-{line.kind}" if line.level_index is None else f"{pid}-level-{line.level_index}"
        ax.axhline(line.price, color=colour, ls=style, lw=1, label=line.label, gid=gid)
    if position.trailing:
        steps = position.trailing
        until = position.closed_t if position.closed_t is not None else end
        ax.step([s.t for s in steps] + [until], [s.price for s in steps] + [steps[-1].price], where="post",
                color="#ea580c", lw=1.1, label="trailing stop", gid=f"{pid}-trailing")  # fmt: skip
    _markers(ax, pid, position.markers)
    ax.set_xlim(start, end)
    ax.set_xlabel("seconds since the recording started")
    ax.set_ylabel("price (quote units per token)")
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    ax.grid(True, color="#e5e7eb", lw=0.6)
    row = position.row
    pnl = f" at {row.pnl_pct:+.1f} %" if row.pnl_pct is not None else ""
    title = (
        f"#{position.position_id} {position.token}: {', '.join(row.reasons) or 'no exit signal'}{pnl}, {row.outcome}"
    )
    ax.set_title(_literal(title), loc="left", fontsize=11)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.09, 1.0), fontsize=8, frameon=False)
    return _svg(fig, pid)


def session_chart(report: TradeReport) -> str:
    """The session on one time axis: connected spans, reconnects, disconnects, errors and sells."""
    fig = load_matplotlib().Figure(figsize=(9.6, 1.9), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    end = max(report.duration, 1e-3)
    for index, (start, stop) in enumerate(_connected_spans(report.session, end)):
        ax.barh(0, stop - start, left=start, height=0.5, color="#bbf7d0", gid=f"session-connected-{index}")
    counts: Dict[str, int] = {}
    for mark in report.session:
        if mark.kind not in _SESSION_STYLE:
            continue
        shape, colour = _SESSION_STYLE[mark.kind]
        row = 2 if mark.kind == "error" else 0
        n = counts[mark.kind] = counts.get(mark.kind, 0) + 1
        ax.plot([mark.t], [row], ls="none", marker=shape, ms=9, color=colour, gid=f"session-{mark.kind}-{n - 1}")
    for position in report.positions:
        for marker in position.markers:
            if marker.kind in ("landed", "failed", "unresolved"):
                shape, colour, size = MARKER_STYLE[marker.kind]
                ax.plot([marker.t], [1], ls="none", marker=shape, ms=min(size, 10), color=colour)
    ax.set_yticks(range(len(_SESSION_ROWS)), list(_SESSION_ROWS))
    ax.set_ylim(-0.6, len(_SESSION_ROWS) - 0.4)
    ax.set_xlim(0, end)
    ax.set_xlabel("seconds since the recording started")
    ax.grid(True, axis="x", color="#e5e7eb", lw=0.6)
    return _svg(fig, "session")


# -- parts -------------------------------------------------------------------------------------


def _literal(text: str) -> str:
    """Text shown as it is: a ``$`` in a token's name must not start matplotlib's math mode."""
    return text.replace("$", r"\$")


def _window(position: PositionReport) -> Tuple[float, float]:
    """The chart's time range: from the first thing seen of the position to the last, padded."""
    times = [p.t for p in position.prices] + [m.t for m in position.markers]
    if not times:
        return 0.0, 1.0
    start, end = min(times), max(times)
    pad = max((end - start) * 0.03, 1e-3)
    return start - pad, end + pad


def _pnl_axis(ax: Axes, entry_price: float) -> None:
    """A right-hand axis in PnL percent of the entry, the unit the thresholds are set in."""

    def to_pct(price: Any) -> Any:  # arrays of prices too
        return (price / entry_price - 1) * 100

    def to_price(pct: Any) -> Any:
        return entry_price * (1 + pct / 100)

    axis = ax.secondary_yaxis("right", functions=(to_pct, to_price))
    axis.set_ylabel("PnL % of entry")


def _markers(ax: Axes, pid: str, markers: Tuple[Marker, ...]) -> None:
    """Each marker at its time and the price then; opened and closed as vertical lines."""
    counts: Dict[str, int] = {}
    labelled: List[str] = []
    for marker in markers:
        n = counts[marker.kind] = counts.get(marker.kind, 0) + 1
        gid = f"{pid}-{marker.kind}-{n - 1}"
        label: Optional[str] = None
        if marker.kind not in labelled:
            labelled.append(marker.kind)
            label = "sent" if marker.kind == "submitted" else marker.kind
        if marker.kind in ("opened", "closed"):
            ax.axvline(marker.t, color="#9ca3af", ls=":", lw=1, gid=gid)
            continue
        if marker.price is None:  # no price seen yet: the caption lists it
            continue
        shape, colour, size = MARKER_STYLE[marker.kind]
        filled = colour if marker.kind != "submitted" else "none"
        ax.plot([marker.t], [marker.price], ls="none", marker=shape, ms=size, color=colour, mfc=filled,
                label=label, gid=gid, zorder=5)  # fmt: skip


def _connected_spans(marks: Tuple[SessionMark, ...], end: float) -> List[Tuple[float, float]]:
    """``(start, stop)`` of each time the session was connected."""
    spans: List[Tuple[float, float]] = []
    since: Optional[float] = None
    for mark in marks:
        if mark.kind in ("connected", "reconnected") and since is None:
            since = mark.t
        elif mark.kind in ("disconnected", "closed") and since is not None:
            spans.append((since, mark.t))
            since = None
    if since is not None:
        spans.append((since, end))
    return spans


def _svg(fig: Figure, salt: str) -> str:
    """The figure as an inline ``<svg>`` element, the same bytes for the same figure.

    The hash salt (which the ids of clip paths and marker shapes derive from) is per chart, and
    matplotlib's numbered group ids (``axes_1``, ``line2d_3``) get the chart's prefix, so the ids
    of several charts on one page do not collide. No date is written.
    """
    from matplotlib import rc_context

    buffer = io.StringIO()
    with rc_context({"svg.hashsalt": f"lasersell-{salt}", "svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = _NUMBERED_ID.sub(lambda match: f' id="{salt}-{match.group(1)}"', text)
    return text[text.index("<svg") :]
