"""Arguments every benchmark bot takes, and a bounded CPU burn standing in for handler work."""

from __future__ import annotations

import argparse
import time

WALLET = "1" * 32
DONE_ID = 999_999


def args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--delay-ms", type=float, default=0.0, help="exit handler blocks this long (sign + send)")
    p.add_argument("--work-us", type=float, default=0.0, help="pnl handler burns this much CPU")
    p.add_argument("--count", type=int, default=0, help="trade ticks to count before reporting done")
    p.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port")
    return p.parse_args()


def burn(microseconds: float) -> None:
    if microseconds > 0:
        end = time.perf_counter() + microseconds / 1e6
        while time.perf_counter() < end:
            pass
