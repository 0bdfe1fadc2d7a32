"""Input checks for the session's commands: fail with a clear ValueError before sending.

The checks and bounds themselves are shared with the Exit API requests (``lasersell_sync._checks``).
"""

from __future__ import annotations

from collections import abc
from typing import Any, Dict, Iterable, Optional, Tuple, Union

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from .._checks import MAX_SLIPPAGE_BPS, SEND_MODES, U64_MAX, check_choice, check_int, check_pubkey, describe
from ..proto import MirrorConfig, StrategyConfig, WatchWalletEntry
from .positions import PositionHandle

__all__ = [
    "WalletLike",
    "check_mint",
    "check_mirror_config",
    "check_send_mode",
    "check_session_arguments",
    "check_slippage",
    "check_tip",
    "check_wallets",
    "check_watch_wallets",
    "configure_settings",
    "selector",
]

WalletLike = Union[str, Pubkey, Keypair]
"""A wallet as the session accepts it: base58 text, a ``Pubkey``, or a ``Keypair`` (its public key)."""


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


def check_wallets(wallets: Iterable[WalletLike]) -> Tuple[str, ...]:
    """At least one public key, no duplicates: what ``configure``/``update_wallets`` may send.

    A wallet may be a base58 string, a solders ``Pubkey``, or a ``Keypair`` (its public key is
    taken; the secret half goes nowhere).
    """
    if isinstance(wallets, (str, Pubkey, Keypair)):
        kind = type(wallets).__name__
        raise ValueError(f"wallets must be a list of public keys, not a single {kind}: for one wallet, pass [wallet]")
    if not isinstance(wallets, abc.Iterable):
        raise ValueError(f"wallets must be a list of public keys, got {describe(wallets)}")
    checked = tuple(_wallet(w, index) for index, w in enumerate(wallets))
    if not checked:
        raise ValueError("at least one wallet is required")
    if len(set(checked)) != len(checked):
        raise ValueError("wallets contain duplicates")
    return checked


def _wallet(wallet: Any, index: int) -> str:
    if isinstance(wallet, Keypair):
        return str(wallet.pubkey())
    return check_pubkey(wallet, f"wallets[{index}]")


def check_session_arguments(api_key: Any, wallets: Any, strategy: Any) -> None:
    """Catch arguments given in the wrong order, and say the order, before any other check.

    Never quotes a value: in the wrong place, an API key would land in a message.
    """
    order = "StreamSession takes (api_key, wallets, strategy), in that order"
    if not isinstance(api_key, str):
        raise TypeError(f"api_key must be a string, got {describe(api_key)}: {order}")
    if isinstance(wallets, StrategyConfig):
        raise TypeError(f"wallets must be a list of public keys, got a StrategyConfig: {order}")
    if isinstance(wallets, str):
        raise ValueError(
            f"wallets must be a list of public keys, not a single string: {order}; for one wallet, pass [wallet]"
        )
    if not isinstance(strategy, StrategyConfig):
        raise TypeError(f"strategy must be a StrategyConfig, got {describe(strategy)}: {order}")


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
