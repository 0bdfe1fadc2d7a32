"""Signal to landed sell, on the embedded simulator: ``python bench/exits.py [--exits 100]``.

Two bots trade the same seeded market, one after the other:

- ``auto_exit``: ``session.auto_exit(keypair, [rpc])`` with the default policy (except the
  confirmation timeout, see below);
- ``naive``: the handler a user writes first: sign, send, then ``sender.confirm`` inline.

Both use the same ``TxSender`` settings (getSignatureStatuses every 200 ms). Reported per bot:
signal-to-landed latency p50/p99 over the exits that landed (from the signal's arrival to the
moment the bot knows it landed), and the landing rate (positions whose exit signal ended in a
successful sell on the simulator's ledger), first with a healthy chain, then with 30 % of
transactions dropped (accepted, never landed). The simulator runs its chain 20x faster than
mainnet (a slot every 20 ms), so both bots wait at most 2 s for a confirmation instead of 10 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Set

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import lasersell_sync as ls  # noqa: E402
from lasersell_sync.simulator import Simulator  # noqa: E402

STRATEGY = ls.StrategyConfig(target_profit_pct=15, stop_loss_pct=10)
CONFIRM_TIMEOUT = 2.0


def pct(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def run(bot: str, exits: int, drop: float, seed: int) -> Dict[str, float]:
    """Trade until ``exits`` positions got an exit signal and each one's outcome is known."""
    latencies: List[float] = []
    reasons: List[str] = []
    signalled: Set[int] = set()
    settled: Set[int] = set()
    lock, done = threading.Lock(), threading.Event()
    with Simulator(seed=seed, scenario="mixed", speed=20, max_positions=10_000, open_every_ticks=5) as sim:
        if drop:
            sim.faults.drop_transactions(drop)
        session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], STRATEGY, endpoint=sim.stream_url)
        sender = ls.TxSender(timeout=5.0)

        def outcome(position_id: int, latency_ms: float = float("nan")) -> None:
            with lock:
                if position_id in settled or position_id not in signalled:
                    return
                settled.add(position_id)
                if latency_ms == latency_ms:
                    latencies.append(latency_ms)
                if len(settled) >= exits:
                    done.set()

        @session.on(ls.ExitSignalWithTx)
        def first_signal(event: ls.Event[ls.ExitSignalWithTx]) -> None:
            with lock:
                if len(signalled) < exits:
                    signalled.add(event.message.position_id)

        def failed(message: ls.ExitFailed) -> None:
            reasons.append(f"{message.reason}: {message.error}")
            outcome(message.position_id)

        if bot == "auto_exit":
            session.auto_exit(
                sim.wallet, [ls.SendTargetRpc(url=sim.rpc_url)], policy=ls.ExitPolicy(confirm_timeout=CONFIRM_TIMEOUT)
            )
            session.on(ls.ExitLanded, lambda e: outcome(e.message.position_id, e.message.latency_ms))
            session.on(ls.ExitFailed, lambda e: failed(e.message))
        else:

            @session.on(ls.ExitSignalWithTx)
            def naive(event: ls.Event[ls.ExitSignalWithTx]) -> None:
                signed = ls.sign_unsigned_tx(event.message.unsigned_tx_b64, sim.wallet)
                try:
                    signature = sender.send(ls.SendTargetRpc(url=sim.rpc_url), signed)
                    result = sender.confirm(signature, sim.rpc_url, timeout=CONFIRM_TIMEOUT)
                except ls.TxSubmitError:
                    outcome(event.message.position_id)
                    return
                landed_ms = (time.monotonic() - event.received_at) * 1000
                outcome(event.message.position_id, landed_ms if result.landed else float("nan"))

        session.connect()
        started = time.monotonic()
        done.wait(300)
        elapsed = time.monotonic() - started
        session.close()
        sender.close()
        sold = {s.position_id for s in sim.settlements(successful_only=True) if s.kind == "sell"}
        sales = [s.position_id for s in sim.settlements(successful_only=True) if s.kind == "sell"]
    with lock:
        counted = set(signalled)
    twice = len(sales) - len(set(sales))
    landed = len(counted & sold)
    return {
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": pct(latencies, 0.99),
        "landing_rate": landed / len(counted) if counted else float("nan"),
        "exits": float(len(counted)),
        "sold_twice": float(twice),
        "seconds": elapsed,
        "failures": reasons,  # type: ignore[dict-item]
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exits", type=int, default=100, help="exit signals per bot and condition")
    parser.add_argument("--drop", type=float, default=0.3, help="share of transactions dropped in the second run")
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    results: Dict[str, Dict[str, Dict[str, float]]] = {}
    for condition, drop in (("healthy", 0.0), (f"{options.drop:.0%} dropped", options.drop)):
        for bot in ("auto_exit", "naive"):
            results.setdefault(condition, {})[bot] = figures = run(bot, options.exits, drop, options.seed)
            print(f"  {condition:<12} {bot:<10} {figures}", flush=True)
    print(f"\n{'figure':<44}{'auto_exit':>12}{'naive':>12}{'ratio':>10}")
    for condition, by_bot in results.items():
        for field, label in (("p50_ms", "signal->landed p50 (ms)"), ("p99_ms", "signal->landed p99 (ms)")):
            a, n = by_bot["auto_exit"][field], by_bot["naive"][field]
            print(f"{condition + ': ' + label:<44}{a:>12,.1f}{n:>12,.1f}{a / n:>9.2f}x")
        a, n = by_bot["auto_exit"]["landing_rate"], by_bot["naive"]["landing_rate"]
        print(f"{condition + ': landing rate':<44}{a:>12.1%}{n:>12.1%}")
        sold_twice = by_bot["auto_exit"]["sold_twice"], by_bot["naive"]["sold_twice"]
        print(f"{condition + ': positions sold twice':<44}{sold_twice[0]:>12.0f}{sold_twice[1]:>12.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
