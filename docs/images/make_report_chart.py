"""Make the trade-report chart the README shows: a simulator run, recorded, one position drawn.

    python docs/images/make_report_chart.py            # writes docs/images/report-chart.svg

The simulator plays a fixed market (scenario ``mixed``, seed 5); ``auto_exit`` sells every exit
signal of the README's strategy, and the session is recorded. The chart is the report's own
(``python -m lasersell_sync report``) for the position a trailing stop sold after it had moved the
most. The
market is the same on every run; the recording's clock is this machine's, so times differ by a
few milliseconds from one run to the next. Needs the ``simulator`` and ``report`` extras.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

import lasersell_sync as ls
from lasersell_sync.report import read_report
from lasersell_sync.report.charts import position_chart
from lasersell_sync.simulator import Simulator

STRATEGY = ls.StrategyConfig(target_profit_pct=30, stop_loss_pct=15, trailing_stop_pct=8)
SEED, SCENARIO, CLOSED = 5, "mixed", 5
OUT = Path(__file__).resolve().parent / "report-chart.svg"


def record(path: Path) -> None:
    """Trade on the simulator until ``CLOSED`` positions closed, recording the session to ``path``."""
    closed: list = []
    done = threading.Event()

    def on_closed(event: ls.Event[ls.PositionClosed]) -> None:
        closed.append(event.message.position_id)
        if len(closed) >= CLOSED:
            done.set()

    with Simulator(seed=SEED, scenario=SCENARIO, speed=10) as sim:
        session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], STRATEGY, endpoint=sim.stream_url, record_to=path)
        session.on(ls.PositionClosed, on_closed)
        session.auto_exit(sim.wallet, ls.SendTargetRpc(url=sim.rpc_url))
        with session:
            if not done.wait(60):
                raise SystemExit(f"only {len(closed)} positions closed in 60 s")


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        recording = Path(folder) / "session.jsonl"
        record(recording)
        report = read_report(recording)  # the thresholds come from the strategy the session recorded
    sold_by_trailing = [p for p in report.positions if "trailing_stop" in p.row.reasons]
    if not sold_by_trailing:
        print("no position was sold by its trailing stop in this run", file=sys.stderr)
        return 1
    chosen = max(sold_by_trailing, key=lambda p: len(p.trailing))  # the stop that moved the most
    OUT.write_text('<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + position_chart(chosen) + "\n")
    print(f"wrote {OUT} (position #{chosen.position_id}: {', '.join(chosen.row.reasons)}, {chosen.row.outcome})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
