"""Input checks for the session's commands: fail with a clear ValueError before sending."""

from __future__ import annotations

from typing import Any, Dict, Iterable, Tuple

from .._checks import check_int, check_pubkey
from ..proto import WatchWalletEntry
from .positions import PositionHandle

__all__ = ["check_mint", "check_slippage", "check_wallets", "check_watch_wallets", "selector"]

_U64_MAX = 2**64 - 1
MAX_SLIPPAGE_BPS = 10_000


def check_wallets(wallets: Iterable[str]) -> Tuple[str, ...]:
    if isinstance(wallets, str):
        raise ValueError("wallets must be a list of public keys, not a single string")
    checked = tuple(check_pubkey(w, "wallet") for w in wallets)
    if not checked:
        raise ValueError("at least one wallet is required")
    if len(set(checked)) != len(checked):
        raise ValueError("wallets contain duplicates")
    return checked


def check_watch_wallets(entries: Iterable[WatchWalletEntry]) -> Tuple[WatchWalletEntry, ...]:
    checked = tuple(entries)
    for entry in checked:
        if not isinstance(entry, WatchWalletEntry):
            raise ValueError(f"watch wallets must be WatchWalletEntry values, got {type(entry).__name__}")
        check_pubkey(entry.pubkey, "watch wallet")
    return checked


def check_slippage(slippage_bps: Any) -> Any:
    if slippage_bps is None:
        return None
    return check_int(slippage_bps, "slippage_bps", 0, MAX_SLIPPAGE_BPS)


def check_mint(mint: Any) -> str:
    if not isinstance(mint, str) or not mint:
        raise ValueError(f"mint must be a non-empty string, got {mint!r}")
    return mint


def selector(position: Any) -> Dict[str, Any]:
    """Exactly one selector for ``close_position`` / ``request_exit_signal`` (PROTOCOL Q28).

    A handle or a string selects by token account (the position's stable identity); an int
    selects by position id.
    """
    if isinstance(position, PositionHandle):
        return {"token_account": position.token_account}
    if isinstance(position, bool):
        raise ValueError("a position must be a PositionHandle, a position id or a token account, not a bool")
    if isinstance(position, int):
        return {"position_id": check_int(position, "position id", 0, _U64_MAX)}
    if isinstance(position, str) and position:
        return {"token_account": position}
    raise ValueError(f"a position must be a PositionHandle, a position id or a token account, got {position!r}")
