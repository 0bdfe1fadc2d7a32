"""Shared command-line plumbing for the examples (not part of the library).

Every example runs against the embedded simulator unless it is given the real service's
details: an API key (``LASERSELL_API_KEY`` only: a key on the command line would show in
``ps`` and the shell history), plus, where it needs them, a wallet
file (``--keypair`` or ``LASERSELL_KEYPAIR_PATH``: solana-keygen JSON, or a keystore opened with
``LASERSELL_WALLET_PASSPHRASE``; ``LASERSELL_KEYPAIR`` is accepted too), an RPC endpoint
(``--rpc-url`` or ``LASERSELL_RPC_URL``) and where sells go (``--send-target`` or
``LASERSELL_SEND_TARGET``: ``rpc``, or ``helius`` for Helius Sender plus your RPC). These are the
official CLI's variables. A missing or unreadable setting is reported on one line, with exit
status 2, before anything connects; a failure of the service itself (a rejected API key, an
endpoint that does not answer) is one line too, with exit status 1 (:func:`run`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, NoReturn, Optional, Sequence

import attrs
from solders.keypair import Keypair

import lasersell_sync as ls

if TYPE_CHECKING:
    from lasersell_sync.simulator import Simulator

USAGE_ERROR = 2
FAILED = 1
INTERRUPTED = 130
SEND_TARGETS = {"rpc": "rpc", "helius": "helius", "helius_sender": "helius"}
"""``--send-target``/``LASERSELL_SEND_TARGET`` spellings the examples take, and what each means."""


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (no usage dump), exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Report a usage mistake on one line, so it is the first thing the user reads."""
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def run(main: Callable[[], int]) -> int:
    """Run an example's ``main`` as a script; returns its exit status, for ``sys.exit``.

    The library raises :class:`lasersell_sync.LaserSellError` (or a subclass) for everything
    that goes wrong on purpose: a rejected API key (``AuthenticationError``), an endpoint that
    refuses or never answers (``ConnectError``, ``ExitApiError``), a send no target accepted
    (``TxSubmitError``). Such a failure is reported the way the official CLI reports it: one
    line on stderr, exit status 1, no traceback. Its text names the endpoint, never the key.
    Ctrl-C ends the example quietly with status 130. Anything else is a bug, and keeps its
    traceback.
    """
    try:
        return main()
    except ls.LaserSellError as exc:
        message = " ".join(str(exc).split())  # one line even when the server's answer had several
        print(f"{os.path.basename(sys.argv[0])}: error: {message} ({type(exc).__name__})", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        return INTERRUPTED


def keypair_path_from_env() -> Optional[str]:
    """The wallet file named by ``LASERSELL_KEYPAIR_PATH`` (the official CLI's name) or ``LASERSELL_KEYPAIR``."""
    return os.environ.get("LASERSELL_KEYPAIR_PATH") or os.environ.get("LASERSELL_KEYPAIR") or None


def parser(description: str) -> Parser:
    """The options every example shares, each defaulting to its environment variable."""
    p = Parser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(api_key=os.environ.get("LASERSELL_API_KEY", "").strip())  # never on argv: ps shows it
    p.add_argument("--api-url", default=None, help="Exit API base URL (default: production)")
    p.add_argument("--stream-url", default=None, help="stream endpoint (default: production)")
    p.add_argument(
        "--rpc-url",
        default=os.environ.get("LASERSELL_RPC_URL") or None,
        help="RPC endpoint for sending, or LASERSELL_RPC_URL, which keeps a URL with a key out of ps "
        "(default: public RPC)",
    )
    p.add_argument(
        "--keypair",
        default=keypair_path_from_env(),
        help="wallet file (solana-keygen JSON or keystore), or LASERSELL_KEYPAIR_PATH",
    )
    p.add_argument(
        "--send-target",
        default=os.environ.get("LASERSELL_SEND_TARGET", "").strip() or "rpc",
        help="where sells go: rpc (your RPC) or helius (Helius Sender plus your RPC); or LASERSELL_SEND_TARGET",
    )
    return p


@attrs.define
class Service:
    """Where to talk to: the real service, or an embedded simulator."""

    api_key: str = attrs.field(repr=False)
    api_url: Optional[str]
    stream_url: Optional[str]
    rpc_url: str = attrs.field(repr=False)  # a provider's URL often carries its key
    keypair: Optional[Keypair]
    simulated: bool
    send_target: str = "rpc"

    @property
    def targets(self) -> List[ls.tx.SendTarget]:
        """Where transactions go: the RPC, after Helius Sender with ``helius`` (a simulator: its RPC only)."""
        rpc: ls.tx.SendTarget = ls.SendTargetRpc(url=self.rpc_url)
        if self.send_target == "helius" and not self.simulated:
            return [ls.SendTargetHeliusSender(), rpc]
        return [rpc]

    @property
    def send_mode(self) -> str:
        """The ``send_mode`` to ask the Exit API for, matching :attr:`targets`."""
        return "helius_sender" if self.send_target == "helius" and not self.simulated else "rpc"

    @property
    def signer(self) -> Keypair:
        """The wallet keypair, for examples that asked ``service()`` to require one."""
        if self.keypair is None:
            raise RuntimeError("no keypair: call service(..., needs_keypair=True)")
        return self.keypair


@contextlib.contextmanager
def service(
    p: argparse.ArgumentParser,
    args: argparse.Namespace,
    *,
    needs_keypair: bool = True,
    instead: str = "",
    **simulator_options: Any,
) -> Iterator[Service]:
    """The real service when an API key is given; otherwise a simulator for the duration.

    With the real service, a missing (``needs_keypair``) or unreadable keypair is a usage error
    (``p.error``: one line, exit 2) before anything connects. ``instead`` names an option that
    makes the keypair unnecessary, for the error message.
    """
    send_target = SEND_TARGETS.get(args.send_target.strip().lower())
    if send_target is None:
        p.error(f"--send-target (or LASERSELL_SEND_TARGET) must be rpc or helius, got {args.send_target!r}")
    if args.api_key:
        keypair = None
        if args.keypair:
            try:
                keypair = ls.load_keypair(args.keypair)
            except ValueError as exc:
                p.error(str(exc))
        elif needs_keypair:
            options = f"{instead} or --keypair FILE" if instead else "--keypair FILE"
            p.error(
                f"an API key is set, so this uses the real service and needs your wallet: pass {options}, "
                "or set LASERSELL_KEYPAIR_PATH"
            )
        rpc_url = args.rpc_url or ls.tx.MAINNET_BETA_RPC_URL
        yield Service(args.api_key, args.api_url, args.stream_url, rpc_url, keypair, False, send_target)
        return
    sim = _simulator(p, simulator_options)
    with sim:
        print(f"(no API key given: using the embedded simulator at {sim.api_url})", flush=True)
        yield Service(sim.api_key, sim.api_url, sim.stream_url, sim.rpc_url, sim.wallet, True, send_target)


def _simulator(p: argparse.ArgumentParser, options: Dict[str, Any]) -> Simulator:
    """A simulator built from ``options``, or a usage error (bad scenario, simulator not installed)."""
    try:
        from lasersell_sync.simulator import Simulator
    except ImportError:
        p.error("no API key given, and the simulator is not installed: pip install 'lasersell_sync[simulator]'")
    try:
        return Simulator(**{"speed": 20, **options})
    except ValueError as exc:
        p.error(str(exc))


def parse(p: argparse.ArgumentParser, argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """Parse the command line (``argv`` lets the tests call ``main`` directly)."""
    return p.parse_args(argv)
