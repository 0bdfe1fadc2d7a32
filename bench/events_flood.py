"""The ``events()`` loop under a flood: ``python bench/events_flood.py [--frames N] [--rate R]``.

A pull loop that spends 1 ms per event falls behind any flood faster than 1,000 events/s. This
writes ``--frames`` pnl_update frames for 100 positions at ``--rate`` frames/s, then one exit
signal, and reports how late the loop reacted (on the server's clock, and the time the signal
waited in the iterator on the bot's clock) and how much the bot's resident memory grew.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import Bot  # noqa: E402
from server import BenchServer  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--rate", type=int, default=20_000, help="flood frames per second")
    parser.add_argument("--work-ms", type=float, default=1.0, help="the loop's work per event")
    parser.add_argument("--cap", type=float, default=600.0, help="give up waiting after this many seconds")
    options = parser.parse_args()
    server = BenchServer()
    bot = Bot("events_loop", sys.executable, server, "--work-us", str(options.work_ms * 1000))
    try:
        before = rss_mib(bot.proc.pid)
        per_ms = max(1, options.rate // 1000)
        sent = server.flood(per_ms, options.frames / (per_ms * 1000))
        peak = rss_mib(bot.proc.pid)
        server.signal([50_000])
        latency_ms = server.wait_reaction(50_000, timeout=options.cap) / 1e6
        peak = max(peak, rss_mib(bot.proc.pid))
    finally:
        bot.stop()
        server.stop()
    stderr = bot.proc.stderr.read().decode() if bot.proc.stderr else ""
    queued = [line.split()[1] for line in stderr.splitlines() if line.startswith("queued_ms")]
    print(f"flood: {sent:,} pnl_update frames at {options.rate:,}/s, loop work {options.work_ms} ms/event")
    print(f"exit reacted {latency_ms:,.1f} ms after the server wrote it (server clock)")
    print(f"exit waited {queued[0] if queued else '?'} ms in the iterator (bot clock)")
    print(f"bot RSS: {before:.1f} MiB before, {peak:.1f} MiB at the end (+{peak - before:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
