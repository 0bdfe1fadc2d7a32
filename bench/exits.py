"""Exit signal to landed sell, on the embedded simulator: ``python bench/exits.py [--exits 100]``.

Each run trades one seeded market until ``--exits`` positions got an exit signal and each one's
outcome is known (or ``--deadline`` passes), and reports, over those exits:

- the landing rate: exits that ended in a successful sell on the simulator's ledger;
- submit-to-landed p50/p90/p99: from the exit's first ``exit_submitted`` to its ``exit_landed``
  (retries and re-broadcasts included), over the exits that landed;
- sold twice: tranches with more than one successful sell on the ledger (must be 0);
- sends: ``sendTransaction`` requests per landed exit (what re-broadcasting costs; positions that
  open once enough exits are counted are closed at once, so they add none).

Runs, each with ``auto_exit`` and the default ``ExitPolicy`` unless said otherwise:

- 0 %, 30 % and 90 % of transactions dropped (accepted by the RPC, never landed), with the
  default re-broadcast interval and with re-broadcast off (an interval longer than the run);
- a second send target that accepts connections and never answers (``hang_rpc``), against one
  target alone, in the same conditions;
- ``--sweep``: the re-broadcast interval at 30 % dropped, to choose its default.

The chain runs at mainnet's pace by default (``--speed 1``: a 400 ms slot, a blockhash valid
for 150 slots, 60 s), so intervals and expiries are in real proportion to the slot time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Sequence

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import lasersell_sync as ls  # noqa: E402
from lasersell_sync.simulator import Simulator  # noqa: E402

STRATEGY = ls.StrategyConfig(target_profit_pct=15, stop_loss_pct=10)
OFF = 3600.0  # a re-broadcast interval no run reaches: re-broadcast off


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def run(
    *,
    exits: int,
    drop: float,
    interval: float,
    seed: int,
    speed: float,
    deadline: float,
    dead_target: bool = False,
) -> Dict[str, float]:
    """One run: trade until ``exits`` positions had an exit signal and each outcome is known."""
    first_submit: Dict[int, float] = {}
    landed_after: Dict[int, float] = {}
    signalled: List[int] = []
    settled: set = set()
    lock, done = threading.Lock(), threading.Event()
    with Simulator(seed=seed, scenario="mixed", speed=speed, max_positions=10_000, open_every_ticks=3) as sim:
        if drop:
            sim.faults.drop_transactions(drop)
        targets: List[ls.tx.SendTarget] = [ls.SendTargetRpc(url=sim.rpc_url)]
        if dead_target:
            sim.faults.hang_rpc("sendTransaction", label="dead")
            targets.append(ls.SendTargetRpc(url=sim.rpc_url_for("dead")))
        session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], STRATEGY, endpoint=sim.stream_url)

        def end(position_id: int) -> None:
            with lock:
                if position_id in signalled and position_id not in settled:
                    settled.add(position_id)
                    if len(settled) >= exits:
                        done.set()

        @session.on(ls.ExitSignalWithTx)
        def signal(event: ls.Event[ls.ExitSignalWithTx]) -> None:
            with lock:
                if len(signalled) < exits and event.message.position_id not in signalled:
                    signalled.append(event.message.position_id)

        @session.on(ls.PositionOpened)
        def opened(event: ls.Event[ls.PositionOpened]) -> None:
            with lock:
                full = len(signalled) >= exits
            if full:  # enough exits counted: stop tracking new positions, so sends count ours only
                session.close_position(event.message.position_id)

        @session.on(ls.ExitSubmitted)
        def submitted(event: ls.Event[ls.ExitSubmitted]) -> None:
            with lock:
                first_submit.setdefault(event.message.position_id, time.monotonic())

        @session.on(ls.ExitLanded)
        def landed(event: ls.Event[ls.ExitLanded]) -> None:
            position_id = event.message.position_id
            with lock:
                started = first_submit.get(position_id)
                if started is not None:
                    landed_after[position_id] = time.monotonic() - started
            end(position_id)

        session.on(ls.ExitFailed, lambda event: end(event.message.position_id))
        policy = ls.ExitPolicy(rebroadcast_interval=interval)
        session.auto_exit(sim.wallet, targets, policy=policy, sender=ls.TxSender(timeout=5.0, connect_timeout=1.0))
        started = time.monotonic()
        with session:
            done.wait(deadline)
        elapsed = time.monotonic() - started
        sends = sim.rpc_calls("sendTransaction")
        sold = [s for s in sim.settlements(successful_only=True) if s.kind == "sell"]
    with lock:
        counted = list(signalled)
        times = [landed_after[p] for p in counted if p in landed_after]
    per_tranche = [(s.position_id, s.requested_tokens) for s in sold]
    sold_ids = {s.position_id for s in sold}
    landed_count = sum(1 for p in counted if p in sold_ids)
    return {
        "exits": float(len(counted)),
        "landing_rate": landed_count / len(counted) if counted else float("nan"),
        "p50": statistics.median(times) if times else float("nan"),
        "p90": pct(times, 0.9),
        "p99": pct(times, 0.99),
        "sold_twice": float(len(per_tranche) - len(set(per_tranche))),
        "sends_per_landed": sends / max(1, landed_count),
        "seconds": elapsed,
    }


def show(label: str, r: Dict[str, float]) -> None:
    print(
        f"{label:<42}{r['exits']:>6.0f}{r['landing_rate']:>9.1%}{r['p50']:>8.2f}{r['p90']:>8.2f}{r['p99']:>8.2f}"
        f"{r['sends_per_landed']:>8.1f}{r['sold_twice']:>7.0f}{r['seconds']:>8.0f}",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exits", type=int, default=100, help="exit signals per run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second (1: mainnet pace)")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds a run may take at most")
    parser.add_argument("--sweep", action="store_true", help="also sweep the re-broadcast interval at 30 %% dropped")
    parser.add_argument("--only", choices=("drops", "dead", "sweep"), help="run one part only")
    options = parser.parse_args()
    default = ls.ExitPolicy().rebroadcast_interval
    common = {"exits": options.exits, "seed": options.seed, "speed": options.speed, "deadline": options.deadline}
    header = f"{'run':<42}{'exits':>6}{'landed':>9}{'p50 s':>8}{'p90 s':>8}{'p99 s':>8}"
    print(f"{header}{'sends':>8}{'twice':>7}{'wall':>8}")
    if options.only in (None, "drops"):
        for drop in (0.0, 0.3, 0.9):
            for interval, name in ((default, f"re-broadcast every {default:g} s"), (OFF, "re-broadcast off")):
                show(f"{drop:.0%} dropped, {name}", run(drop=drop, interval=interval, **common))
    if options.only in (None, "dead"):
        show("one target, 0 % dropped", run(drop=0.0, interval=default, **common))
        show("plus a target that never answers", run(drop=0.0, interval=default, dead_target=True, **common))
    if options.sweep or options.only == "sweep":
        for interval in (0.2, 0.4, 0.8, 1.6, 3.2):
            show(f"30% dropped, re-broadcast every {interval:g} s", run(drop=0.3, interval=interval, **common))
    return 0


if __name__ == "__main__":
    sys.exit(main())
