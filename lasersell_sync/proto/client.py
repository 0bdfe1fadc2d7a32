"""Client -> server stream messages: the nine commands a client may send."""

from __future__ import annotations

from typing import Any, ClassVar, Dict, Optional, Tuple, Union, get_args

import attrs

from .scalars import U16, U64, WalletList, aliased, omit_default, optional
from .types import MirrorConfig, StrategyConfig, WatchWalletEntry

__all__ = [
    "CLIENT_MESSAGE_TYPES",
    "CLIENT_TYPE_ALIASES",
    "ClientMessage",
    "ClosePosition",
    "Configure",
    "MirrorBuyResult",
    "Ping",
    "RequestExitSignal",
    "UpdatePositionStrategy",
    "UpdateStrategy",
    "UpdateWallets",
    "UpdateWatchWallets",
]


@attrs.frozen(kw_only=True)
class Ping:
    """Latency probe; the server answers ``pong``."""

    TYPE: ClassVar[str] = "ping"
    client_time_ms: U64


@attrs.frozen(kw_only=True)
class Configure:
    """First message of every connection: the session's whole intent.

    Decodes the legacy ``wallet_pubkey`` key and a single-string wallet list; always encodes
    ``wallet_pubkeys`` as an array.
    """

    TYPE: ClassVar[str] = "configure"
    wallet_pubkeys: WalletList = aliased("wallet_pubkey")
    strategy: StrategyConfig
    send_mode: Optional[str] = optional()
    tip_lamports: Optional[U64] = optional()
    watch_wallets: Tuple[WatchWalletEntry, ...] = omit_default(())
    mirror_config: Optional[MirrorConfig] = optional()


@attrs.frozen(kw_only=True)
class UpdateStrategy:
    """Replace the session-wide strategy (a full replacement, not a patch)."""

    TYPE: ClassVar[str] = "update_strategy"
    strategy: StrategyConfig


@attrs.frozen(kw_only=True)
class ClosePosition:
    """Stop tracking a position (sells nothing). Send exactly one selector."""

    TYPE: ClassVar[str] = "close_position"
    position_id: Optional[U64] = optional()
    token_account: Optional[str] = optional()


@attrs.frozen(kw_only=True)
class RequestExitSignal:
    """Ask for an ``exit_signal_with_tx`` now. Decodes the legacy ``sell_now`` type."""

    TYPE: ClassVar[str] = "request_exit_signal"
    position_id: Optional[U64] = optional()
    token_account: Optional[str] = optional()
    slippage_bps: Optional[U16] = optional()


@attrs.frozen(kw_only=True)
class UpdateWallets:
    """Replace the monitored wallet set."""

    TYPE: ClassVar[str] = "update_wallets"
    wallet_pubkeys: WalletList


@attrs.frozen(kw_only=True)
class UpdateWatchWallets:
    """Replace the watched (copy-trading) wallet set; an empty tuple clears it."""

    TYPE: ClassVar[str] = "update_watch_wallets"
    watch_wallets: Tuple[WatchWalletEntry, ...]


@attrs.frozen(kw_only=True)
class UpdatePositionStrategy:
    """Replace the strategy of one position (ephemeral on the server)."""

    TYPE: ClassVar[str] = "update_position_strategy"
    position_id: U64
    strategy: StrategyConfig


@attrs.frozen(kw_only=True)
class MirrorBuyResult:
    """Outcome of a ``mirror_buy_signal``: ``success`` means signed and submitted."""

    TYPE: ClassVar[str] = "mirror_buy_result"
    mint: str
    success: bool


ClientMessage = Union[
    Ping,
    Configure,
    UpdateStrategy,
    ClosePosition,
    RequestExitSignal,
    UpdateWallets,
    UpdateWatchWallets,
    UpdatePositionStrategy,
    MirrorBuyResult,
]

CLIENT_MESSAGE_TYPES: Tuple[Any, ...] = get_args(ClientMessage)
"""Every client message class, ``configure`` first."""

CLIENT_TYPE_ALIASES: Dict[str, Any] = {"sell_now": RequestExitSignal}
"""Legacy ``type`` names accepted on decode only."""
