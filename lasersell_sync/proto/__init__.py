"""The LaserSell wire formats: typed models and the codec. No I/O, no threads.

The stream's messages (``client``, ``server``) and their nested ``types``, the codec
(``decode_server``/``encode_client``; ``to_wire``/``from_wire`` for one model), the strategy
checks, and the one REST body shared by ``wallet`` and ``exit_api`` (``WalletProof``).
"""

from __future__ import annotations

from .client import (
    ClientMessage,
    ClosePosition,
    Configure,
    MirrorBuyResult,
    Ping,
    RequestExitSignal,
    UpdatePositionStrategy,
    UpdateStrategy,
    UpdateWallets,
    UpdateWatchWallets,
)
from .codec import decode_client, decode_server, encode_client, encode_server, from_wire, to_wire
from .jsonlib import BACKEND as JSON_BACKEND
from .server import (
    BalanceUpdate,
    ErrorMessage,
    ExitSignalWithTx,
    HelloOk,
    LiquiditySnapshot,
    MirrorBuyFailed,
    MirrorBuySignal,
    MirrorWalletAutoDisabled,
    PnlUpdate,
    Pong,
    PositionClosed,
    PositionOpened,
    ServerMessage,
    TradeTick,
    UnknownMessage,
)
from .types import (
    MARKET_TYPES,
    AutoBuyConfig,
    Limits,
    MarketContext,
    MarketType,
    MeteoraDammV2Context,
    MeteoraDbcContext,
    MirrorConfig,
    PumpFunContext,
    PumpSwapContext,
    RaydiumCpmmContext,
    RaydiumLaunchpadContext,
    SlippageBand,
    StrategyConfig,
    TakeProfitLevel,
    WatchWalletEntry,
)
from .validation import ensure_exit_condition, validate_strategy
from .wallet_proof import WalletProof

__all__ = [
    "JSON_BACKEND",
    "MARKET_TYPES",
    "AutoBuyConfig",
    "BalanceUpdate",
    "ClientMessage",
    "ClosePosition",
    "Configure",
    "ErrorMessage",
    "ExitSignalWithTx",
    "HelloOk",
    "Limits",
    "LiquiditySnapshot",
    "MarketContext",
    "MarketType",
    "MeteoraDammV2Context",
    "MeteoraDbcContext",
    "MirrorBuyFailed",
    "MirrorBuyResult",
    "MirrorBuySignal",
    "MirrorConfig",
    "MirrorWalletAutoDisabled",
    "Ping",
    "PnlUpdate",
    "Pong",
    "PositionClosed",
    "PositionOpened",
    "PumpFunContext",
    "PumpSwapContext",
    "RaydiumCpmmContext",
    "RaydiumLaunchpadContext",
    "RequestExitSignal",
    "ServerMessage",
    "SlippageBand",
    "StrategyConfig",
    "TakeProfitLevel",
    "TradeTick",
    "UnknownMessage",
    "UpdatePositionStrategy",
    "UpdateStrategy",
    "UpdateWallets",
    "UpdateWatchWallets",
    "WalletProof",
    "WatchWalletEntry",
    "decode_client",
    "decode_server",
    "encode_client",
    "encode_server",
    "ensure_exit_condition",
    "from_wire",
    "to_wire",
    "validate_strategy",
]
