"""Command line: ``python -m lasersell_sync simulate`` runs the embedded simulator standalone."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from pathlib import Path
from typing import Optional, Sequence

__all__ = ["main"]


def _simulate(args: argparse.Namespace) -> int:
    from .simulator import Simulator

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sim = Simulator(
        seed=args.seed,
        scenario=args.scenario,
        speed=args.speed,
        stream_port=args.port,
        http_port=args.http_port,
        require_registration=args.require_registration,
        replay=args.replay,
        replay_speed=args.replay_speed,
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with sim:
        if args.wallet_out:
            Path(args.wallet_out).write_text(json.dumps(list(bytes(sim.wallet))))
        print(f"stream:  {sim.stream_url}")
        print(f"api:     {sim.api_url}")
        print(f"rpc:     {sim.rpc_url}")
        print(f"api key: {sim.api_key}  (any non-empty key is accepted)")
        print(f"wallet:  {sim.wallet_pubkey}" + (f"  (keypair file: {args.wallet_out})" if args.wallet_out else ""))
        print("Ctrl-C to stop.", flush=True)
        stop.wait()
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lasersell_sync")
    commands = parser.add_subparsers(dest="command", required=True)
    simulate = commands.add_parser("simulate", help="run the LaserSell simulator on 127.0.0.1")
    simulate.add_argument("--port", type=int, default=8765, help="stream port (0: any free port)")
    simulate.add_argument("--http-port", type=int, default=8766, help="Exit API + RPC port (0: any free port)")
    simulate.add_argument("--scenario", default="mixed")
    simulate.add_argument("--seed", type=int, default=1)
    simulate.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    simulate.add_argument("--require-registration", action="store_true")
    simulate.add_argument("--wallet-out", help="write the funded test wallet's keypair JSON here")
    simulate.add_argument("--replay", help="replay a session recording (JSON Lines) instead of a live market")
    simulate.add_argument("--replay-speed", type=float, default=1.0, help="replay this many times faster")
    args = parser.parse_args(argv)
    return _simulate(args)
