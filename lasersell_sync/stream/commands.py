"""Input checks for the session's commands: fail with a clear ValueError before sending."""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional, Tuple

from .._checks import check_int, check_pubkey
from ..proto import MirrorConfig, WatchWalletEntry
from .positions import PositionHandle

__all__ = [
    "SEND_MODES",
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

_U64_MAX = 2**64 - 1
MAX_SLIPPAGE_BPS = 10_000
SEND_MODES = frozenset({"rpc", "helius_sender", "astralane"})
"""How the client submits exits, so the server can shape the transactions it builds."""


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
    """``mint`` if it is a base58 public key; else a ValueError naming ``mint``."""
    return check_pubkey(mint, "mint")


def check_send_mode(send_mode: Any) -> Optional[str]:
    """None (the server's default) or one of :data:`SEND_MODES`."""
    if send_mode is not None and send_mode not in SEND_MODES:
        raise ValueError(f"send_mode must be one of {sorted(SEND_MODES)} or None, got {send_mode!r}")
    return send_mode  # type: ignore[no-any-return]


def check_tip(tip_lamports: Any) -> Optional[int]:
    """None (the server's default) or a lamport amount within u64."""
    if tip_lamports is None:
        return None
    return check_int(tip_lamports, "tip_lamports", 0, _U64_MAX)


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
        return {"position_id": check_int(position, "position id", 0, _U64_MAX)}
    if isinstance(position, str) and position:
        return {"token_account": check_pubkey(position, "position (a token account)")}
    raise ValueError(f"a position must be a PositionHandle, a position id or a token account, got {position!r}")
