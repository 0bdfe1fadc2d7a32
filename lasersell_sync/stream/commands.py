"""Input checks for the session's commands: fail with a clear ValueError before sending.

The checks and bounds themselves are shared with the Exit API requests (``lasersell_sync._checks``).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional, Tuple

from .._checks import MAX_SLIPPAGE_BPS, SEND_MODES, U64_MAX, check_choice, check_int, check_pubkey
from ..proto import MirrorConfig, WatchWalletEntry
from .positions import PositionHandle

__all__ = [
    "check_mint",
    "check_mirror_config",
    "check_send_mode",
    "check_slippage",
    "check_tip",
    "check_wallets",
    "check_watch_wallets",
    "configure_settings",
    "selector",
]


def check_mirror_config(mirror_config: Any) -> Optional[MirrorConfig]:
    """None or a :class:`MirrorConfig`."""
    if mirror_config is not None and not isinstance(mirror_config, MirrorConfig):
        raise TypeError(f"mirror_config must be a MirrorConfig, got {type(mirror_config).__name__}")
    return mirror_config


def configure_settings(send_mode: Any, tip_lamports: Any, mirror_config: Any) -> Dict[str, Any]:
    """The configure-only settings that were given (None means unchanged), checked."""
    given = {
        "send_mode": check_send_mode(send_mode),
        "tip_lamports": check_tip(tip_lamports),
        "mirror_config": check_mirror_config(mirror_config),
    }
    return {name: value for name, value in given.items() if value is not None}


def check_wallets(wallets: Iterable[str]) -> Tuple[str, ...]:
    """At least one public key, no duplicates: what ``configure``/``update_wallets`` may send."""
    if isinstance(wallets, str):
        raise ValueError("wallets must be a list of public keys, not a single string")
    checked = tuple(check_pubkey(w, "wallet") for w in wallets)
    if not checked:
        raise ValueError("at least one wallet is required")
    if len(set(checked)) != len(checked):
        raise ValueError("wallets contain duplicates")
    return checked


def check_watch_wallets(entries: Iterable[WatchWalletEntry]) -> Tuple[WatchWalletEntry, ...]:
    """``WatchWalletEntry`` values with valid public keys (an empty list stops watching)."""
    checked = tuple(entries)
    for entry in checked:
        if not isinstance(entry, WatchWalletEntry):
            raise ValueError(f"watch wallets must be WatchWalletEntry values, got {type(entry).__name__}")
        check_pubkey(entry.pubkey, "watch wallet")
    return checked


def check_slippage(slippage_bps: Any) -> Any:
    """None (the server's default) or a slippage within ``0..MAX_SLIPPAGE_BPS``."""
    if slippage_bps is None:
        return None
    return check_int(slippage_bps, "slippage_bps", 0, MAX_SLIPPAGE_BPS)


def check_mint(mint: Any) -> str:
    """``mint`` if it is a base58 public key; else a ValueError naming ``mint``."""
    return check_pubkey(mint, "mint")


def check_send_mode(send_mode: Any) -> Optional[str]:
    """None (the server's default) or one of :data:`SEND_MODES`."""
    return check_choice(send_mode, "send_mode", SEND_MODES, suffix=" or None")


def check_tip(tip_lamports: Any) -> Optional[int]:
    """None (the server's default) or a lamport amount within u64."""
    if tip_lamports is None:
        return None
    return check_int(tip_lamports, "tip_lamports", 0, U64_MAX)


def selector(position: Any) -> Dict[str, Any]:
    """Exactly one selector for ``close_position`` / ``request_exit_signal`` (the service wants exactly one).

    A handle or a string selects by token account (the position's stable identity); an int
    selects by position id.
    """
    if isinstance(position, PositionHandle):
        return {"token_account": position.token_account}
    if isinstance(position, bool):
        raise ValueError("a position must be a PositionHandle, a position id or a token account, not a bool")
    if isinstance(position, int):
        return {"position_id": check_int(position, "position id", 0, U64_MAX)}
    if isinstance(position, str) and position:
        return {"token_account": check_pubkey(position, "position (a token account)")}
    raise ValueError(f"a position must be a PositionHandle, a position id or a token account, got {position!r}")
