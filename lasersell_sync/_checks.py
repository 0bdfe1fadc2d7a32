"""Input checks shared by the session commands and the Exit API requests."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from solders.pubkey import Pubkey

__all__ = ["check_int", "check_pubkey", "pooled_session"]


def check_pubkey(value: Any, what: str) -> str:
    """``value`` if it is a base58 Solana public key; else a ValueError naming ``what``."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a base58 public key string, got {value!r}")
    try:
        Pubkey.from_string(value)
    except ValueError:
        raise ValueError(f"{what} is not a valid Solana public key: {value!r}") from None
    return value


def check_int(value: Any, what: str, low: int, high: int) -> int:
    """``value`` if it is an int (not a bool) within ``low..high``; else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{what} must be within {low}..{high}, got {value}")
    return value


def pooled_session(pool_maxsize: int) -> requests.Session:
    """A keep-alive ``requests.Session`` for JSON APIs that ignores environment proxies."""
    session = requests.Session()
    session.trust_env = False  # no environment proxies on the hot path (as the official SDKs do)
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["content-type"] = "application/json"
    return session
