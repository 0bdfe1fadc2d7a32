"""``simulate``: the embedded simulator standalone (live, or replaying a recording).

A usage mistake (an unknown scenario, a speed that is not positive, a port that is taken or out
of range, a replay file that cannot be read, ...) prints one line on stderr and exits with
status 2. Ctrl-C (SIGINT) or SIGTERM stops the simulator: every client connection gets a
WebSocket close frame (1001, going away), then the process exits with status 0.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any, Optional

from ..wallet._files import write_private_file
from .common import UsageError, port, positive, rate, seconds, simulator_package, slots

if TYPE_CHECKING:
    from ..simulator import Simulator

__all__ = ["register", "scenario"]


def scenario(text: str) -> str:
    """argparse type: a scenario the simulator knows, so a typo fails before anything starts."""
    scenarios = simulator_package().SCENARIOS
    if text not in scenarios:
        raise argparse.ArgumentTypeError(f"unknown scenario {text!r} (expected one of {', '.join(scenarios)})")
    return text


def register(commands: Any) -> None:
    """Add ``simulate`` to the command line (``commands`` is argparse's subparsers object)."""
    simulate = commands.add_parser(
        "simulate",
        help="run the LaserSell simulator on 127.0.0.1",
        description="Run the embedded LaserSell simulator (stream, Exit API, RPC) on 127.0.0.1.",
        epilog="Ctrl-C (or SIGTERM) sends every client a close frame (1001 going away) and exits with "
        "status 0. Usage errors print one line and exit with status 2.",
    )
    simulate.set_defaults(run=_simulate)
    simulate.add_argument("--port", type=port, default=8765, help="stream port (0: any free port)")
    simulate.add_argument("--http-port", type=port, default=8766, help="Exit API + RPC port (0: any free port)")
    simulate.add_argument(
        "--scenario",
        type=scenario,
        default="mixed",
        help="market shape: pump, dump, rug, sideways, grind, graduation or mixed (default)",
    )
    simulate.add_argument("--seed", type=int, default=1, help="same seed and scenario, same market")
    simulate.add_argument("--speed", type=positive, default=1.0, help="simulated seconds per second (> 0)")
    simulate.add_argument(
        "--require-registration", action="store_true", help="refuse wallets not registered via the Exit API"
    )
    simulate.add_argument("--wallet-out", help="write the funded test wallet's keypair JSON here")
    simulate.add_argument("--replay", help="replay a session recording (JSON Lines) instead of a live market")
    simulate.add_argument("--replay-speed", type=positive, help="with --replay: replay this many times faster (> 0)")
    simulate.add_argument(
        "--drop-transactions",
        type=rate,
        default=0.0,
        metavar="RATE",
        help="share of sent transactions accepted but never landed (0 to 1; seeded)",
    )
    simulate.add_argument(
        "--fail-transactions",
        type=rate,
        default=0.0,
        metavar="RATE",
        help="share of sent transactions that land with an on-chain error (0 to 1; seeded)",
    )
    simulate.add_argument(
        "--land-late",
        type=seconds,
        default=0.0,
        metavar="SECONDS",
        help="sent transactions land no earlier than this many wall-clock seconds later",
    )
    simulate.add_argument(
        "--blockhash-ttl-slots",
        type=slots,
        default=150,
        metavar="N",
        help="slots (400 ms of simulated time each) a built transaction's blockhash stays valid (default 150)",
    )


def _simulate(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; a bad replay file, wallet path or busy port is a UsageError."""
    stop = threading.Event()

    def request_stop(signum: int, frame: Optional[FrameType]) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, request_stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        sim = _start(args)
        try:
            print(f"stream:  {sim.stream_url}")
            print(f"api:     {sim.api_url}")
            print(f"rpc:     {sim.rpc_url}")
            print(f"api key: {sim.api_key}  (any non-empty key is accepted)")
            keypair_file = f"  (keypair file: {args.wallet_out})" if args.wallet_out else ""
            print(f"wallet:  {sim.wallet_pubkey}{keypair_file}")
            faults = _transaction_faults(args)
            if faults:
                print(f"faults:  {faults}")
            print("Ctrl-C to stop.", flush=True)
            stop.wait()
        finally:
            sim.stop()  # every client gets a close frame (1001 going away)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


def _start(args: argparse.Namespace) -> Simulator:
    """A running simulator as the arguments describe, or a UsageError saying what is wrong."""
    if args.replay_speed is not None and not args.replay:
        raise UsageError("--replay-speed applies to --replay only")
    try:
        sim: Simulator = simulator_package().Simulator(
            seed=args.seed,
            scenario=args.scenario,
            speed=args.speed,
            stream_port=args.port,
            http_port=args.http_port,
            require_registration=args.require_registration,
            replay=args.replay,
            replay_speed=1.0 if args.replay_speed is None else args.replay_speed,
            blockhash_ttl_slots=args.blockhash_ttl_slots,
        )
    except OSError as exc:
        raise UsageError(f"cannot read the replay file {args.replay}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a replay file that is not a recording
        raise UsageError(str(exc)) from None
    if args.wallet_out:
        try:
            write_private_file(args.wallet_out, json.dumps(list(bytes(sim.wallet))).encode())  # 0600, atomic
        except OSError as exc:
            raise UsageError(f"cannot write the wallet file {args.wallet_out}: {exc.strerror or exc}") from None
    try:
        sim.start()
    except OSError as exc:
        hint = "; choose another with --port/--http-port (0: any free port)" if exc.errno == errno.EADDRINUSE else ""
        raise UsageError(f"{exc.strerror or exc}{hint}") from None
    sim.faults.drop_transactions(args.drop_transactions)
    sim.faults.fail_transactions(args.fail_transactions)
    sim.faults.land_late(args.land_late)
    # Logging starts once the ports are bound, so a usage error stays a single line.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return sim


def _transaction_faults(args: argparse.Namespace) -> str:
    """The transaction faults the command line switched on, for the start-up banner."""
    parts = []
    if args.drop_transactions:
        parts.append(f"drop {args.drop_transactions:g}")
    if args.fail_transactions:
        parts.append(f"fail {args.fail_transactions:g}")
    if args.land_late:
        parts.append(f"land {args.land_late:g} s late")
    return ", ".join(parts)
