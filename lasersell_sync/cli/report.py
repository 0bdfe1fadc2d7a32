"""``report``: a session recording as one self-contained HTML page of charts and tables.

For each position: the price path, the entry, the strategy's thresholds and the trailing stop as
it moved, the exit signal, each attempt sent, the sell landed or failed; a summary table with
totals; the session's reconnects and errors on a timeline; and how many lines were skipped (a
cut-off last line, undecodable frames, unknown message types). The thresholds are the
strategies the session recorded sending; ``--strategy FILE`` or
``--take-profit``/``--stop-loss``/``--trailing-stop`` override them (a recording of an older
version holds none). Needs the ``report`` extra (matplotlib).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Optional

from ..errors import InvalidStrategyError, ProtocolError
from ..proto import StrategyConfig, from_wire, validate_strategy
from ..report import REPORT_EXTRA, TradeReport, read_report, render_html
from ..report.charts import load_matplotlib
from .common import UsageError, percent, plain

__all__ = ["register"]

_FLAGS = (("--take-profit", "take_profit"), ("--stop-loss", "stop_loss"), ("--trailing-stop", "trailing_stop"))


def register(commands: Any) -> None:
    """Add ``report`` to the command line (``commands`` is argparse's subparsers object)."""
    report = commands.add_parser(
        "report",
        help="build a trade report (one HTML file with charts) from a session recording",
        description=plain((__doc__ or "").split("\n\n")[0]),
        epilog=plain((__doc__ or "").split("\n\n", 1)[1]) + " Usage errors (a file that cannot be read "
        "or is not a recording, a missing extra) are one line on stderr, status 2.",
    )
    report.set_defaults(run=_report)
    report.add_argument("recording", metavar="RECORDING", help="a recording: StreamSession(record_to=...)'s JSON Lines")
    report.add_argument("--out", metavar="FILE", help="the HTML file to write (default: RECORDING with .html)")
    report.add_argument(
        "--strategy",
        metavar="FILE",
        help="draw every position's thresholds with this strategy instead of the recorded ones: a JSON "
        "file holding a strategy object (as in configure) or a whole configure message",
    )
    report.add_argument("--take-profit", type=percent, metavar="PCT", help="or: a strategy's take profit %%")
    report.add_argument("--stop-loss", type=percent, metavar="PCT", help="or: a strategy's stop loss %%")
    report.add_argument("--trailing-stop", type=percent, metavar="PCT", help="or: a strategy's trailing stop %%")


def _report(args: argparse.Namespace) -> int:
    """Check the extra and the options, read the recording, write the page, say what it holds."""
    try:
        load_matplotlib()  # before reading a long recording for nothing
    except ImportError:
        raise UsageError(REPORT_EXTRA) from None
    strategy = _strategy(args)
    recording = Path(args.recording)
    out = Path(args.out) if args.out else recording.with_suffix(".html")
    if out.resolve() == recording.resolve():
        raise UsageError(f"--out would overwrite the recording {recording}: name another file")
    try:
        report = read_report(recording, strategy)
    except OSError as exc:
        raise UsageError(f"cannot read the recording {recording}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    page = render_html(report)
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"report: wrote {out} ({_summary(report)})")
    return 0


def _summary(report: TradeReport) -> str:
    totals = report.totals
    return (
        f"{totals.positions} positions, {totals.landed} sells landed, {totals.failed} failed, "
        f"{totals.reconnects} reconnects, {report.skipped.total} lines or frames skipped"
    )


def _strategy(args: argparse.Namespace) -> Optional[StrategyConfig]:
    """The strategy named by ``--strategy`` or the percentage flags (None: neither was given)."""
    given = [flag for flag, name in _FLAGS if getattr(args, name) is not None]
    if args.strategy is not None and given:
        raise UsageError(f"--strategy and {' and '.join(given)} exclude each other: give the strategy one way")
    if given:
        return StrategyConfig(
            target_profit_pct=args.take_profit or 0.0,
            stop_loss_pct=args.stop_loss or 0.0,
            trailing_stop_pct=args.trailing_stop or 0.0,
        )
    if args.strategy is None:
        return None
    try:
        document = json.loads(Path(args.strategy).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--strategy: cannot read {args.strategy}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"--strategy: {args.strategy} is not JSON: {exc}") from None
    if isinstance(document, dict) and document.get("type") == "configure":
        document = document.get("strategy")
    try:
        strategy = from_wire(StrategyConfig, document)
        validate_strategy(strategy)
    except (ProtocolError, InvalidStrategyError) as exc:
        raise UsageError(f"--strategy: {args.strategy} does not hold a strategy: {exc}") from None
    return strategy
