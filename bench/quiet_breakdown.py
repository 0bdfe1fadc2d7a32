"""Where the quiet reaction goes: ``python bench/quiet_breakdown.py [--signals N] [--repeat R]``.

Runs the quiet scenario of ``bench/run.py`` (one exit signal at a time, nothing else on the wire)
against the ``raw`` bot and a traced copy of the ``ours`` bot, interleaved R times, and prints
medians: the reaction on the server's clock for both, and, inside ours, the reader-to-handler
hand-off and the command write. What is left (reaction minus hand-off minus write) is the part
both bots share: the server's write, the kernel, the first read and the JSON parse.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import Bot, quiet  # noqa: E402
from server import BenchServer  # noqa: E402


def traced(server: BenchServer, signals: int) -> Dict[str, float]:
    """Quiet reaction of the traced ours bot, with its own hand-off and write medians."""
    before = len(server.configures)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE / "bots"), str(HERE.parent)])}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "bots" / "ours_traced.py"), server.url],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        server.wait_connections(before + 1)
        figures = quiet(_Attached(proc), server, signals)
        out, _ = proc.communicate("", timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    return {**figures, **json.loads(out.strip().splitlines()[-1])}


class _Attached:
    """Stands in for run.Bot where the scenario only needs the object."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signals", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    rows: Dict[str, List[float]] = {}
    for _ in range(options.repeat):
        server = BenchServer()  # one server per bot: reactions are keyed by signal id
        try:
            raw = Bot("raw", sys.executable, server)
            try:
                figures = quiet(raw, server, options.signals)
                rows.setdefault("raw reaction p50 (us)", []).append(figures["p50_ms"] * 1000)
            finally:
                raw.stop()
        finally:
            server.stop()
        server = BenchServer()
        try:
            ours = traced(server, options.signals)
        finally:
            server.stop()
        rows.setdefault("ours reaction p50 (us)", []).append(ours["p50_ms"] * 1000)
        rows.setdefault("ours: frame read -> handler entered (us)", []).append(ours["handoff_us"])
        rows.setdefault("ours: close_position written (us)", []).append(ours["write_us"])
    for name, values in rows.items():
        print(f"{name:44} {statistics.median(values):8.1f}   (runs: {', '.join(f'{v:.0f}' for v in values)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
