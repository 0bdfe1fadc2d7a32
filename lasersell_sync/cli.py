"""Command line: ``python -m lasersell_sync simulate`` runs the embedded simulator standalone.

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
import math
import signal
import sys
import threading
from pathlib import Path
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, NoReturn, Optional, Sequence

if TYPE_CHECKING:
    from .simulator import Simulator

__all__ = ["main"]

PROG = "lasersell-sync"
USAGE_ERROR = 2


class UsageError(Exception):
    """A mistake in the command line or what it names: reported on one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, no usage dump, so the mistake is the first thing the user reads."""
        self.exit(USAGE_ERROR, f"{PROG}: error: {message}\n")


def _simulator() -> ModuleType:
    """The simulator package, or a usage error naming the extra it needs."""
    try:
        from . import simulator
    except ImportError as exc:
        raise UsageError(
            f"the simulator needs the 'simulator' extra (pip install 'lasersell_sync[simulator]'): {exc}"
        ) from None
    return simulator


def _scenario(text: str) -> str:
    """argparse type: a scenario the simulator knows, so a typo fails before anything starts."""
    scenarios = _simulator().SCENARIOS
    if text not in scenarios:
        raise argparse.ArgumentTypeError(f"unknown scenario {text!r} (expected one of {', '.join(scenarios)})")
    return text


def _positive(text: str) -> float:
    """argparse type: a finite number above zero (a speed or a rate)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number greater than 0, got {text!r}")
    return value


def _rate(text: str) -> float:
    """argparse type: a probability from 0 (off) to 1 (every transaction)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a rate from 0 to 1, got {text!r}")
    return value


def _seconds(text: str) -> float:
    """argparse type: a finite number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def _slots(text: str) -> int:
    """argparse type: a whole number of slots, at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of slots >= 1, got {text!r}")
    return value


def _port(text: str) -> int:
    """argparse type: a TCP port number, 0 meaning any free port."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535 (0: any free port), got {text!r}")
    return value


def _build_parser() -> argparse.ArgumentParser:
    """The command line, with every argument checked by argparse where it can be."""
    parser = _Parser(
        prog="python -m lasersell_sync",
        description="lasersell_sync tools. 'simulate --help' shows the simulator's options.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    simulate = commands.add_parser(
        "simulate",
        help="run the LaserSell simulator on 127.0.0.1",
        description="Run the embedded LaserSell simulator (stream, Exit API, RPC) on 127.0.0.1.",
        epilog="Ctrl-C (or SIGTERM) sends every client a close frame (1001 going away) and exits with "
        "status 0. Usage errors print one line and exit with status 2.",
    )
    simulate.add_argument("--port", type=_port, default=8765, help="stream port (0: any free port)")
    simulate.add_argument("--http-port", type=_port, default=8766, help="Exit API + RPC port (0: any free port)")
    simulate.add_argument(
        "--scenario",
        type=_scenario,
        default="mixed",
        help="market shape: pump, dump, rug, sideways, grind, graduation or mixed (default)",
    )
    simulate.add_argument("--seed", type=int, default=1, help="same seed and scenario, same market")
    simulate.add_argument("--speed", type=_positive, default=1.0, help="simulated seconds per second (> 0)")
    simulate.add_argument(
        "--require-registration", action="store_true", help="refuse wallets not registered via the Exit API"
    )
    simulate.add_argument("--wallet-out", help="write the funded test wallet's keypair JSON here")
    simulate.add_argument("--replay", help="replay a session recording (JSON Lines) instead of a live market")
    simulate.add_argument("--replay-speed", type=_positive, default=1.0, help="replay this many times faster (> 0)")
    simulate.add_argument(
        "--drop-transactions",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="share of sent transactions accepted but never landed (0 to 1; seeded)",
    )
    simulate.add_argument(
        "--fail-transactions",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="share of sent transactions that land with an on-chain error (0 to 1; seeded)",
    )
    simulate.add_argument(
        "--land-late",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="sent transactions land no earlier than this many wall-clock seconds later",
    )
    simulate.add_argument(
        "--blockhash-ttl-slots",
        type=_slots,
        default=150,
        metavar="N",
        help="slots (400 ms of simulated time each) a built transaction's blockhash stays valid (default 150)",
    )
    return parser


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
    try:
        sim: Simulator = _simulator().Simulator(
            seed=args.seed,
            scenario=args.scenario,
            speed=args.speed,
            stream_port=args.port,
            http_port=args.http_port,
            require_registration=args.require_registration,
            replay=args.replay,
            replay_speed=args.replay_speed,
            blockhash_ttl_slots=args.blockhash_ttl_slots,
        )
    except OSError as exc:
        raise UsageError(f"cannot read the replay file {args.replay}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a replay file that is not a recording
        raise UsageError(str(exc)) from None
    if args.wallet_out:
        try:
            Path(args.wallet_out).write_text(json.dumps(list(bytes(sim.wallet))))
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


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run a command; returns the exit status (2 for a usage error, reported on one stderr line)."""
    try:
        args = _build_parser().parse_args(argv)
        return _simulate(args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:  # Ctrl-C before the handler was installed: nothing to clean up
        return 130
