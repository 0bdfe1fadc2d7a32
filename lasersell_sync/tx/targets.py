"""Where a signed transaction goes: a Solana RPC, Helius Sender or Astralane (``sendTransaction``).

A target knows its URL, its ``sendTransaction`` options, its extra headers and the ``send_mode``
the LaserSell server should shape transactions for. URLs often carry a provider key, so reprs show
them through ``safe_url`` and their secrets are registered with the log filter.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit, urlunsplit

import attrs

from .._redact import mask, register_secrets, safe_url, url_secrets

__all__ = [
    "ASTRALANE_REGIONS",
    "GET_HEALTH",
    "HELIUS_SENDER_URL",
    "MAINNET_BETA_RPC_URL",
    "SEND_MODE_OF",
    "TARGET_TYPES",
    "SendTarget",
    "SendTargetAstralane",
    "SendTargetHeliusSender",
    "SendTargetRpc",
    "WarmCall",
    "target_list",
]

MAINNET_BETA_RPC_URL = "https://solana-rpc.publicnode.com"
"""The public RPC the official SDKs default to: rate-limited, meant for testing."""
HELIUS_SENDER_URL = "https://sender.helius-rpc.com/fast"
ASTRALANE_REGIONS = frozenset({"fr", "fr2", "ams", "ams2", "la", "ny", "jp", "sg", "lim", "lit"})


GET_HEALTH: Dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "getHealth"}
"""A node's cheapest JSON-RPC call: no account, no ledger lookup; it answers ``"ok"``."""

WarmCall = Tuple[str, str, Optional[Dict[str, Any]]]
"""How to keep a target's connection warm: ``(HTTP verb, URL, JSON body or None)``."""


def _shown_url(url: Optional[str]) -> str:
    return repr(url if url is None else safe_url(url))


@attrs.frozen(kw_only=True)
class SendTargetRpc:
    """A Solana RPC endpoint (the public default, or your own; an ``?api-key=`` in it stays secret)."""

    url: str = attrs.field(default=MAINNET_BETA_RPC_URL, repr=_shown_url, validator=attrs.validators.instance_of(str))
    max_retries: int = 0
    name = "rpc"

    def __attrs_post_init__(self) -> None:
        register_secrets(url_secrets(self.url))

    def config(self) -> Dict[str, Any]:
        """The ``sendTransaction`` options this target wants."""
        return {
            "encoding": "base64",
            "skipPreflight": True,
            "maxRetries": self.max_retries,
            "preflightCommitment": "processed",
        }

    def headers(self) -> Dict[str, str]:
        """Extra HTTP headers: none."""
        return {}

    def warm_call(self) -> WarmCall:
        """``getHealth``: read-only, and the lightest call a node serves."""
        return ("POST", self.url, GET_HEALTH)


@attrs.frozen(kw_only=True)
class SendTargetHeliusSender:
    """Helius Sender (no API key needed)."""

    url: str = attrs.field(default=HELIUS_SENDER_URL, repr=_shown_url, validator=attrs.validators.instance_of(str))
    name = "helius sender"

    def __attrs_post_init__(self) -> None:
        register_secrets(url_secrets(self.url))

    def config(self) -> Dict[str, Any]:
        """The ``sendTransaction`` options this target wants."""
        return {"encoding": "base64", "skipPreflight": True, "maxRetries": 0}

    def headers(self) -> Dict[str, str]:
        """Extra HTTP headers: none."""
        return {}

    def warm_call(self) -> WarmCall:
        """``GET /ping`` on the Sender's host, the endpoint Helius documents for keeping a
        connection warm (it sends nothing anywhere)."""
        parts = urlsplit(self.url)
        return ("GET", urlunsplit((parts.scheme, parts.netloc, "/ping", parts.query, "")), None)


@attrs.frozen(kw_only=True)
class SendTargetAstralane:
    """Astralane Iris; ``api_key`` is your Astralane key (not the LaserSell key)."""

    api_key: str = attrs.field(repr=lambda key: mask(key))
    region: str = "fr"
    # overrides the regional URL (a proxy, or a local test server)
    endpoint: Optional[str] = attrs.field(
        default=None, repr=_shown_url, validator=attrs.validators.optional(attrs.validators.instance_of(str))
    )
    name = "astralane"

    def __attrs_post_init__(self) -> None:
        if self.region not in ASTRALANE_REGIONS:
            raise ValueError(f"unknown Astralane region {self.region!r}; expected one of {sorted(ASTRALANE_REGIONS)}")
        if not self.api_key:
            raise ValueError("Astralane needs its API key")
        register_secrets([self.api_key, *url_secrets(self.url)])

    @property
    def url(self) -> str:
        """The endpoint to post to: ``endpoint`` if given, else the region's gateway."""
        return self.endpoint or f"https://{self.region}.gateway.astralane.io/iris"

    def config(self) -> Dict[str, Any]:
        """The ``sendTransaction`` options this target wants."""
        return {"encoding": "base64", "skipPreflight": True, "maxRetries": 0}

    def headers(self) -> Dict[str, str]:
        """Extra HTTP headers: the Astralane key."""
        return {"x-api-key": self.api_key}

    def warm_call(self) -> WarmCall:
        """``getHealth`` on the same endpoint, which Astralane documents for keep-alive."""
        return ("POST", self.url, GET_HEALTH)


SendTarget = Union[SendTargetRpc, SendTargetHeliusSender, SendTargetAstralane]
TARGET_TYPES = (SendTargetRpc, SendTargetHeliusSender, SendTargetAstralane)


def target_list(targets: Union[SendTarget, Sequence[SendTarget]]) -> List[SendTarget]:
    """One target or several, as a checked list: a ValueError when empty, a TypeError naming a stranger."""
    chosen = [targets] if isinstance(targets, TARGET_TYPES) else list(targets)
    if not chosen:
        raise ValueError("targets must name at least one send target")
    for target in chosen:
        if not isinstance(target, TARGET_TYPES):
            raise TypeError(f"targets must be SendTarget values (SendTargetRpc, ...), got {type(target).__name__}")
    return chosen


SEND_MODE_OF: Dict[type, str] = {
    SendTargetRpc: "rpc",
    SendTargetHeliusSender: "helius_sender",
    SendTargetAstralane: "astralane",
}
"""The ``send_mode`` the server should shape transactions for, per target type."""
