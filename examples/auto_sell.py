"""Sell automatically: every exit signal becomes a confirmed sell (``session.auto_exit``).

Without LASERSELL_API_KEY this runs against the embedded simulator (offline, no funds).
With LASERSELL_API_KEY set, it runs against the real service; then LASERSELL_KEYPAIR_PATH must
name your solana-keygen wallet file, and LASERSELL_RPC_URL (optional) your RPC endpoint. The
--keypair and --rpc-url options do the same (the key is read from the environment only).

It prints the strategy, a timestamped log of each position (opened, exit signal, sell sent,
closed, landed), then one row per exit with a total, the positions still open, and a legend.
With --report PATH it also records the session (to PATH with .jsonl, beside it) and at the end
writes a trade report there: one HTML file with a chart per position (price, entry, thresholds,
signal, attempts, landing) and the session's reconnects and errors. That needs the report extra
(pip install 'lasersell_sync[report]').

    python examples/auto_sell.py [--seconds 10] [--positions 5] [--scenario mixed] [--seed 1]
                                 [--send-target rpc|helius] [--report report.html]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from _common import Service, parse, parser, run, service

import lasersell_sync as ls
from lasersell_sync.report import REPORT_EXTRA, write_report

STRATEGY = ls.StrategyConfig(target_profit_pct=30, stop_loss_pct=15, trailing_stop_pct=8)

CRASH_MARGIN_PCT = 10.0
"""A stop-loss exit this many points or more below the stop gets a note: the price jumped past it."""

LEGEND = (
    "columns:",
    "  exit SOL, PnL %  the position's value when the exit signal fired (the server's estimate, slippage included)",
    "  reason           the rule of the strategy that fired",
    "  attempts         sells sent until one landed (each retry asks the server for a fresh transaction)",
    "  slippage         signal: the sell went as the signal's transaction was built; a number: a retry's",
    "                   raised slippage, in bps",
    "  outcome          landed; failed (why); unresolved (look the signatures up); pending (no verdict yet)",
    "  signal->landed   from the exit signal's arrival to the sell seen on chain",
)


@dataclasses.dataclass
class Row:
    """What the run learned about one position; its handlers run one at a time, in order."""

    position_id: int
    symbol: str = ""
    entry: Optional[int] = None  # lamports paid
    pnl: Optional[int] = None  # lamports, at the latest pnl_update
    reason: Optional[str] = None  # the exit signal's rule
    profit: Optional[int] = None  # lamports, when the exit signal fired
    attempts: Optional[int] = None
    slippage: Optional[int] = None  # None: as the signal's transaction was built
    outcome: str = "pending"
    latency_ms: Optional[float] = None
    closed: Optional[str] = None  # the reason it closed
    sell_due: bool = False  # an exit signal whose "sent" line is still to come
    held: Optional[Tuple[str, str]] = None  # (time, line): the "closed" line, waiting for "sent"

    @property
    def label(self) -> str:
        return self.symbol or f"#{self.position_id}"


class Ledger:
    """Every position's row. Handlers of different positions run in parallel: rows are made under a lock."""

    def __init__(self) -> None:
        self._rows: Dict[int, Row] = {}
        self._lock = threading.Lock()

    def row(self, position_id: int) -> Row:
        with self._lock:
            return self._rows.setdefault(position_id, Row(position_id))

    def rows(self) -> List[Row]:
        with self._lock:
            return [self._rows[key] for key in sorted(self._rows)]

    def closed(self) -> int:
        return sum(1 for row in self.rows() if row.closed is not None)


def now() -> str:
    return time.strftime("%H:%M:%S")


def log(text: str, at: Optional[str] = None) -> None:
    """Timestamped lines, so the reaction times in the log can be read against each other."""
    sys.stdout.write(f"{at or now()}  {text}\n")  # one write: handler threads interleave
    sys.stdout.flush()


def pct(units: Optional[int], entry: Optional[int]) -> Optional[float]:
    return units / entry * 100 if units is not None and entry else None


def describe(strategy: ls.StrategyConfig) -> str:
    """The strategy in one line (a rule at 0 is off)."""
    rules = []
    if strategy.target_profit_pct:
        rules.append(f"take profit at +{strategy.target_profit_pct:g} %")
    if strategy.stop_loss_pct:
        rules.append(f"stop loss at -{strategy.stop_loss_pct:g} %")
    if strategy.trailing_stop_pct:
        rules.append(f"trailing stop {strategy.trailing_stop_pct:g} points below the best PnL, once in profit")
    return "strategy: " + ", ".join(rules)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Trade until enough positions closed or time is up, then print the summary."""
    p = parser(__doc__ or "")
    p.add_argument("--seconds", type=float, default=10.0, help="stop after this long (default: %(default)s)")
    p.add_argument(
        "--positions", type=int, default=5, help="stop after this many positions closed (default: %(default)s)"
    )
    p.add_argument("--scenario", default="mixed", help="simulator only: the market's shape (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="simulator only: same seed, same market (default: %(default)s)")
    p.add_argument(
        "--report",
        metavar="PATH",
        help="at the end, write a trade report (HTML with charts) to PATH; the session is recorded to PATH "
        "with .jsonl, beside it (needs the report extra)",
    )
    args = parse(p, argv)
    recording = recording_path(p, args.report)
    ledger = Ledger()
    with service(p, args, scenario=args.scenario, seed=args.seed) as svc:
        if svc.simulated:
            log(f"simulated market: scenario {args.scenario}, seed {args.seed}")
        else:
            log("using the LaserSell service")
        log(describe(STRATEGY))
        trade(svc, args, ledger, recording)
    print("\n".join(["", *summary(ledger.rows(), STRATEGY)]))
    if recording is not None:
        try:
            write_report(recording, args.report)  # the session recorded the strategy it sent
        except OSError as exc:
            print(f"{p.prog}: error: cannot write the report: {exc}", file=sys.stderr)
            return 1
        print(f"\nreport: {args.report} (the session's recording: {recording})")
    return 0


def recording_path(p: argparse.ArgumentParser, report: Optional[str]) -> Optional[Path]:
    """Where ``--report`` records the session (None without it); a usage error without the extra."""
    if report is None:
        return None
    try:
        import matplotlib  # noqa: F401 - only to fail before trading, not after
    except ImportError:
        p.error(REPORT_EXTRA)
    recording = Path(report).with_suffix(".jsonl")
    if recording == Path(report):
        p.error("--report names the report, an .html file; the recording goes beside it, with .jsonl")
    if not os.access(recording.parent, os.W_OK):
        p.error(f"--report: cannot write to the directory {recording.parent} (missing, or not writable)")
    return recording


def trade(svc: Service, args: argparse.Namespace, ledger: Ledger, recording: Optional[Path] = None) -> None:
    """Run the session until enough positions closed or time is up, filling in ``ledger``."""
    keypair = svc.signer
    wallet = str(keypair.pubkey())
    session = ls.StreamSession(
        svc.api_key, [wallet], STRATEGY, deadline_timeout_sec=60, endpoint=svc.stream_url, record_to=recording
    )
    # Every exit signal becomes a confirmed sell: checked, signed, sent, confirmed, retried.
    # Where sells go: your RPC, after Helius Sender with --send-target helius (LASERSELL_SEND_TARGET).
    session.auto_exit(keypair, svc.targets, confirm_rpc=svc.rpc_url)
    done = threading.Event()

    # A position's events reach its handlers one at a time, in the order they were published. But
    # exit_submitted is published when a target answers the send, and the sell can land, and the
    # server report position_closed, before that answer is in. So a "closed" line that comes
    # while a sell's "sent" line is due waits for it, and keeps the time it was received.
    def release(row: Row) -> None:
        row.sell_due = False
        if row.held is not None:
            at, line = row.held
            row.held = None
            log(line, at)

    @session.on(ls.PositionOpened)
    def opened(event: ls.Event[ls.PositionOpened]) -> None:
        message = event.message
        row = ledger.row(message.position_id)
        row.symbol, row.entry = message.token_symbol or message.mint[:6], message.entry_quote_units
        log(f"opened   #{message.position_id} {row.symbol}: entry {message.entry_quote_units / 1e9:.3f} SOL")

    @session.on(ls.PnlUpdate)  # the low-priority lane: never delays the handlers above and below
    def pnl(event: ls.Event[ls.PnlUpdate]) -> None:
        ledger.row(event.message.position_id).pnl = event.message.profit_units

    @session.on(ls.ExitSignalWithTx)
    def exit_signal(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        message = event.message
        row = ledger.row(message.position_id)
        row.reason, row.profit = message.reason, message.profit_units
        row.sell_due = row.outcome != "landed"  # a signal after the sale sells nothing
        shown = pct(message.profit_units, row.entry)
        at = f" at {shown:+.1f} %" if shown is not None else ""
        log(f"signal   #{message.position_id} {message.reason}{at}")

    @session.on(ls.ExitSubmitted)
    def submitted(event: ls.Event[ls.ExitSubmitted]) -> None:
        message = event.message
        slippage = f" at {message.slippage_bps} bps" if message.slippage_bps is not None else ""
        log(f"sent     #{message.position_id} attempt {message.attempt}{slippage}: {message.signature[:12]}...")
        release(ledger.row(message.position_id))

    @session.on(ls.ExitLanded)
    def landed(event: ls.Event[ls.ExitLanded]) -> None:
        message = event.message
        row = ledger.row(message.position_id)
        row.outcome, row.attempts, row.slippage = "landed", message.attempt, message.slippage_bps
        row.latency_ms = message.latency_ms
        release(row)
        log(f"landed   #{message.position_id} in slot {message.slot}, {message.latency_ms:.0f} ms after the signal")

    @session.on(ls.ExitFailed)
    def failed_exit(event: ls.Event[ls.ExitFailed]) -> None:
        message = event.message
        row = ledger.row(message.position_id)
        row.outcome, row.attempts = f"failed ({message.reason})", message.attempts
        release(row)
        log(f"failed   #{message.position_id}: {message.reason}: {message.error}")

    @session.on(ls.ExitUnresolved)
    def unresolved(event: ls.Event[ls.ExitUnresolved]) -> None:
        message = event.message  # not known yet whether it sold: look the signatures up first
        row = ledger.row(message.position_id)
        row.outcome, row.attempts = "unresolved", message.attempts
        release(row)
        log(f"unknown  #{message.position_id}: {message.reason}: {', '.join(message.signatures)}")

    @session.on(ls.PositionClosed)
    def closed(event: ls.Event[ls.PositionClosed]) -> None:
        row = ledger.row(event.message.position_id)
        row.closed = event.message.reason
        line = f"closed   #{event.message.position_id}: {event.message.reason}"
        if row.sell_due:
            row.held = (now(), line)  # printed right after the sell's "sent" line
        else:
            log(line)
        if ledger.closed() >= args.positions:
            done.set()

    @session.on("disconnected")
    def disconnected(event: ls.Event[ls.Disconnected]) -> None:
        if event.message.will_reconnect:
            log(f"stream lost ({event.message.reason}); reconnecting")

    @session.on_error
    def failed(error: BaseException, event: Optional[ls.Event[object]]) -> None:
        log(f"error: {error}")

    try:
        hello = session.connect(timeout=10)
        log(f"connected: session {hello.session_id}, watching {wallet}")
        done.wait(args.seconds)
    finally:
        session.close()  # sells in flight land or are reported first; then queued handlers run
    for row in ledger.rows():  # a "sent" line that never came (the run ended first)
        release(row)


def crash_note(row: Row, strategy: ls.StrategyConfig) -> Optional[str]:
    """Why a stop-loss exit lost far more than the stop, or None when it did not."""
    loss = pct(row.profit, row.entry)
    stop = strategy.stop_loss_pct
    if row.reason != "stop_loss" or loss is None or not stop or loss > -stop - CRASH_MARGIN_PCT:
        return None
    return (
        f"#{row.position_id} {row.label}: the price crashed past the -{stop:g} % stop between two price "
        f"updates; the stop fires at the first update beyond it, which was already at {loss:.1f} %"
    )


def summary(rows: Sequence[Row], strategy: ls.StrategyConfig) -> List[str]:
    """One row per exited position, a total row, notes, the positions still open, and the legend."""
    header = "position  token    entry SOL   exit SOL    PnL %   reason          attempts  slippage  outcome"
    lines = [f"{header}   signal->landed"]
    exits = [row for row in rows if row.profit is not None and row.entry]
    notes = []
    for row in exits:
        entry, profit = row.entry or 0, row.profit or 0  # both set: see ``exits``
        shown_slippage = f"{row.slippage} bps" if row.slippage is not None else "signal"
        latency = f"{row.latency_ms:.0f} ms" if row.latency_ms is not None else "-"
        note = crash_note(row, strategy)
        if note is not None:
            notes.append(f"  * {note}")
        lines.append(
            f"#{row.position_id:<8} {row.label:<8} {entry / 1e9:9.3f} {(entry + profit) / 1e9:10.3f}"
            f" {profit / entry * 100:8.1f}   {row.reason!s:<15} {row.attempts or '-'!s:>8}"
            f"  {shown_slippage:>8}  {row.outcome:<9} {latency:>14}{'  *' if note is not None else ''}"
        )
    entry = sum(row.entry or 0 for row in exits)  # the total row
    profit = sum(row.profit or 0 for row in exits)
    outcomes: Dict[str, int] = {}
    for row in exits:
        outcomes[row.outcome] = outcomes.get(row.outcome, 0) + 1
    counted = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())) or "-"
    total_pct = f"{profit / entry * 100:8.1f}" if entry else f"{'-':>8}"
    lines.append(
        f"{'total':<9} {len(exits):>2} exits {entry / 1e9:9.3f} {(entry + profit) / 1e9:10.3f} {total_pct}"
        f"   {'':<15} {'':>8}  {'':>8}  {counted}"
    )
    lines.extend(notes)
    still_open = [row for row in rows if row.closed is None and row.entry]
    lines.append("")
    lines.append(f"still open: {len(still_open) or 'none'}")
    for row in still_open:
        last = pct(row.pnl, row.entry)
        at = f", PnL {last:+.1f} % at the last update" if last is not None else ""
        selling = f", selling ({row.reason}: {row.outcome})" if row.reason is not None else ""
        lines.append(f"  #{row.position_id} {row.label}: entry {(row.entry or 0) / 1e9:.3f} SOL{at}{selling}")
    lines.append("")
    lines.extend(LEGEND)
    return lines


if __name__ == "__main__":
    sys.exit(run(main))
