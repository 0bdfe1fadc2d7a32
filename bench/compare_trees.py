"""Quiet reaction and throughput of two checkouts, interleaved: ``python bench/compare_trees.py OLD NEW``.

For a change that must not cost speed (a restructuring), with nothing else running on the
machine. Each round runs, for each tree in turn, that tree's own ``bench/run.py`` scenarios
``throughput`` (200,000 trade ticks) and ``quiet`` (100 exit signals, one at a time) against its
``ours`` bot, so both trees meet the same machine state. Prints each tree's per-round medians.
Make the checkouts with ``git worktree add /tmp/old COMMIT``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

ONE_TREE = """
import json, sys
sys.path.insert(0, sys.argv[1] + "/bench")
import run
from server import BenchServer
out = {}
for key, measure, extra in (
    ("ticks_per_s", lambda b, s: run.throughput(b, s, 200_000)["ticks_per_s"], ("--count", "200000")),
    ("quiet_p50_ms", lambda b, s: run.quiet(b, s, 100)["p50_ms"], ()),
):
    server = BenchServer()
    bot = run.Bot("ours", sys.executable, server, *extra)
    try:
        out[key] = measure(bot, server)
    finally:
        bot.stop()
        server.stop()
print(json.dumps(out))
"""


def measure(tree: Path) -> Dict[str, float]:
    """One throughput and one quiet run of ``tree``'s bot, in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", ONE_TREE, str(tree)], capture_output=True, text=True, check=True)
    result: Dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("trees", nargs=2, type=Path, metavar="TREE", help="two checkouts: before and after")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--per-round", type=int, default=2, help="runs of each tree per round (default 2)")
    args = parser.parse_args()
    for round_no in range(1, args.rounds + 1):
        for tree in args.trees:
            runs: List[Dict[str, float]] = [measure(tree) for _ in range(args.per_round)]
            ticks = statistics.median(r["ticks_per_s"] for r in runs)
            quiet = statistics.median(r["quiet_p50_ms"] for r in runs)
            print(f"round {round_no} {tree}: throughput {ticks:,.0f}/s  quiet p50 {quiet:.3f} ms", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
