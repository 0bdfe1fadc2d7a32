"""Shared command-line plumbing for the examples (not part of the library)."""

from __future__ import annotations

import argparse
import os
from typing import Optional, Sequence


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--api-key", default=os.environ.get("LASERSELL_API_KEY", ""), help="or LASERSELL_API_KEY")
    p.add_argument("--api-url", default=None, help="Exit API base URL (default: production)")
    return p


def parse(p: argparse.ArgumentParser, argv: Optional[Sequence[str]]) -> argparse.Namespace:
    args = p.parse_args(argv)
    if not args.api_key:
        p.error("an API key is required (--api-key or LASERSELL_API_KEY)")
    return args
