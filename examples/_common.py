"""Shared command-line plumbing for the examples (not part of the library).

Every example runs against the embedded simulator unless it is given the real service's
details (an API key, plus URLs and a keypair where it needs them).
"""

from __future__ import annotations

import argparse
import contextlib
import os
from typing import Any, Iterator, Optional, Sequence

import attrs
from solders.keypair import Keypair

import lasersell_sync as ls


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--api-key", default=os.environ.get("LASERSELL_API_KEY", ""), help="or LASERSELL_API_KEY")
    p.add_argument("--api-url", default=None, help="Exit API base URL (default: production)")
    p.add_argument("--stream-url", default=None, help="stream endpoint (default: production)")
    p.add_argument("--rpc-url", default=None, help="RPC endpoint for sending (default: public RPC)")
    p.add_argument("--keypair", default=os.environ.get("LASERSELL_KEYPAIR"), help="solana-keygen wallet file")
    return p


@attrs.define
class Service:
    """Where to talk to: the real service, or an embedded simulator."""

    api_key: str
    api_url: Optional[str]
    stream_url: Optional[str]
    rpc_url: str
    keypair: Optional[Keypair]
    simulated: bool


@contextlib.contextmanager
def service(args: argparse.Namespace, **simulator_options: Any) -> Iterator[Service]:
    """The real service when an API key is given; otherwise a simulator for the duration."""
    if args.api_key:
        keypair = ls.load_keypair(args.keypair) if args.keypair else None
        yield Service(
            args.api_key, args.api_url, args.stream_url, args.rpc_url or ls.MAINNET_BETA_RPC_URL, keypair, False
        )
        return
    from lasersell_sync.simulator import Simulator

    with Simulator(**{"speed": 20, **simulator_options}) as sim:
        print(f"(no API key given: using the embedded simulator at {sim.api_url})")
        yield Service(sim.api_key, sim.api_url, sim.stream_url, sim.rpc_url, sim.wallet, True)


def parse(p: argparse.ArgumentParser, argv: Optional[Sequence[str]]) -> argparse.Namespace:
    return p.parse_args(argv)
