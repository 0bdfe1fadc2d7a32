"""Shared command-line plumbing for the examples (not part of the library)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Optional, Sequence

from solders.keypair import Keypair


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--api-key", default=os.environ.get("LASERSELL_API_KEY", ""), help="or LASERSELL_API_KEY")
    p.add_argument("--api-url", default=None, help="Exit API base URL (default: production)")
    return p


def load_keypair(path: str) -> Keypair:
    """A solana-keygen JSON file: an array of 64 integers (secret then public key)."""
    return Keypair.from_bytes(bytes(json.loads(Path(path).read_text())))


def parse(p: argparse.ArgumentParser, argv: Optional[Sequence[str]]) -> argparse.Namespace:
    args = p.parse_args(argv)
    if not args.api_key:
        p.error("an API key is required (--api-key or LASERSELL_API_KEY)")
    return args
