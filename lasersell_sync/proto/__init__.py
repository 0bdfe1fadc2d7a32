"""The LaserSell wire formats: typed models and the codec. No I/O, no threads.

The stream's messages (``client``, ``server``) and their nested ``types``, the codec
(``decode_server``/``encode_client``; ``to_wire``/``from_wire`` for one model), the strategy
checks, and the one REST body shared by ``wallet`` and ``exit_api`` (``WalletProof``).
"""

from __future__ import annotations

from .._exports import public_names as _public_names
from .client import (
    ClientMessage as ClientMessage,
    ClosePosition as ClosePosition,
    Configure as Configure,
    MirrorBuyResult as MirrorBuyResult,
    Ping as Ping,
    RequestExitSignal as RequestExitSignal,
    UpdatePositionStrategy as UpdatePositionStrategy,
    UpdateStrategy as UpdateStrategy,
    UpdateWallets as UpdateWallets,
    UpdateWatchWallets as UpdateWatchWallets,
)
from .codec import (
    decode_client as decode_client,
    decode_server as decode_server,
    encode_client as encode_client,
    encode_server as encode_server,
    from_wire as from_wire,
    to_wire as to_wire,
)
from .jsonlib import BACKEND as _BACKEND
from .server import *  # noqa: F403 - every server message: a new class in server.py needs no line here
from .types import (
    MARKET_TYPES as MARKET_TYPES,
    AutoBuyConfig as AutoBuyConfig,
    Limits as Limits,
    MarketContext as MarketContext,
    MarketType as MarketType,
    MeteoraDammV2Context as MeteoraDammV2Context,
    MeteoraDbcContext as MeteoraDbcContext,
    MirrorConfig as MirrorConfig,
    PumpFunContext as PumpFunContext,
    PumpSwapContext as PumpSwapContext,
    RaydiumCpmmContext as RaydiumCpmmContext,
    RaydiumLaunchpadContext as RaydiumLaunchpadContext,
    SlippageBand as SlippageBand,
    StrategyConfig as StrategyConfig,
    TakeProfitLevel as TakeProfitLevel,
    WatchWalletEntry as WatchWalletEntry,
)
from .validation import ensure_exit_condition as ensure_exit_condition, validate_strategy as validate_strategy
from .wallet_proof import WalletProof as WalletProof

JSON_BACKEND = _BACKEND
"""The JSON library in use: ``orjson`` (the ``fast`` extra) or ``json``."""

__all__ = _public_names(globals())
