"""The trade report: a session recording as one self-contained HTML page of charts and tables.

:func:`read_report` reads a recording (``StreamSession(record_to=...)``) into plain data, per
position: the price path, the entry, the strategy's thresholds and the trailing stop as it
moved, the exit signal, each attempt, the landing or failure, and the highest price recorded
after the exit; for the session: reconnects and errors, totals, and a count of the lines it
skipped. :func:`render_html` and :func:`write_report` draw it (matplotlib, the ``report``
extra). ``python -m lasersell_sync report RECORDING`` does the same from the command line.
"""

from __future__ import annotations

from .._exports import public_names as _public_names
from .build import read_report as read_report
from .charts import REPORT_EXTRA as REPORT_EXTRA
from .model import (
    AfterExit as AfterExit,
    Marker as Marker,
    PositionReport as PositionReport,
    PositionRow as PositionRow,
    PricePoint as PricePoint,
    SessionMark as SessionMark,
    Skipped as Skipped,
    Threshold as Threshold,
    Totals as Totals,
    TradeReport as TradeReport,
    TrailStep as TrailStep,
    report_data as report_data,
)
from .page import describe_strategy as describe_strategy, render_html as render_html, write_report as write_report

__all__ = _public_names(globals())
