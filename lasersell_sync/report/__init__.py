"""The trade report: a session recording as one self-contained HTML page of charts and tables.

:func:`read_report` reads a recording (``StreamSession(record_to=...)``) into plain data, per
position: the price path, the entry, the strategy's thresholds and the trailing stop as it
moved, the exit signal, each attempt, the landing or failure, and the highest price recorded
after the exit; for the session: reconnects and errors, totals, and a count of the lines it
skipped. :func:`render_html` and :func:`write_report` draw it (matplotlib, the ``report``
extra). ``python -m lasersell_sync report RECORDING`` does the same from the command line.
"""

from __future__ import annotations

from .build import read_report
from .charts import REPORT_EXTRA
from .model import (
    AfterExit,
    Marker,
    PositionReport,
    PositionRow,
    PricePoint,
    SessionMark,
    Skipped,
    Threshold,
    Totals,
    TradeReport,
    TrailStep,
    report_data,
)
from .page import describe_strategy, render_html, write_report

__all__ = [
    "REPORT_EXTRA",
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
    "describe_strategy",
    "read_report",
    "render_html",
    "report_data",
    "write_report",
]
