"""Nested wire types shared by server and client messages (strategy, limits, market context, ...).

All models are frozen, slotted and keyword-only: they are shared between threads (the reader
and every handler see the same object), so nothing in them can change after decoding.
Collections are tuples for the same reason.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, Optional, Tuple

import attrs

from .scalars import U16, U32, U64, omit_default, optional, unknown_keys, wire_default
from .strategy_rules import check_strategy_fields, checking, keyword_hints, warn_about_fractions

__all__ = [
    "MARKET_TYPES",
    "AutoBuyConfig",
    "Limits",
    "MarketContext",
    "MarketType",
    "MeteoraDammV2Context",
    "MeteoraDbcContext",
    "MirrorConfig",
    "PumpFunContext",
    "PumpSwapContext",
    "RaydiumCpmmContext",
    "RaydiumLaunchpadContext",
    "SlippageBand",
    "StrategyConfig",
    "TakeProfitLevel",
    "WatchWalletEntry",
]


@attrs.frozen(kw_only=True)
class Limits:
    """Effective limits of this API key's tier, from ``hello_ok`` (0 = not reported)."""

    hi_capacity: U32
    pnl_flush_ms: U64
    max_positions_per_session: U32
    max_wallets_per_session: U32 = 0
    max_positions_per_wallet: U32 = 0
    max_sessions_per_api_key: U32 = 0
    max_watch_wallets_per_session: U32 = 0


class MarketType:
    """Known ``market_context.market_type`` values. The set grows; unknown ones stay strings."""

    PUMP_FUN = "pump_fun"
    PUMP_SWAP = "pump_swap"
    METEORA_DBC = "meteora_dbc"
    METEORA_DAMM_V2 = "meteora_damm_v2"
    RAYDIUM_LAUNCHPAD = "raydium_launchpad"
    RAYDIUM_CPMM = "raydium_cpmm"


MARKET_TYPES = frozenset(
    {
        MarketType.PUMP_FUN,
        MarketType.PUMP_SWAP,
        MarketType.METEORA_DBC,
        MarketType.METEORA_DAMM_V2,
        MarketType.RAYDIUM_LAUNCHPAD,
        MarketType.RAYDIUM_CPMM,
    }
)


MARKET_TYPE_ALIASES = {"pumpfun": MarketType.PUMP_FUN, "pumpswap": MarketType.PUMP_SWAP}
"""Spellings without the underscore (the REST ``route`` and the Rust enum names) and their wire value."""


def canonical_market_type(value: str) -> str:
    """The wire spelling of a market type: ``pumpfun`` becomes ``pump_fun``; others are kept."""
    return MARKET_TYPE_ALIASES.get(value, value) if type(value) is str else value


@attrs.frozen(kw_only=True)
class PumpFunContext:
    """Pump.fun bonding curve: an empty marker object on the wire."""


@attrs.frozen(kw_only=True)
class PumpSwapContext:
    """PumpSwap AMM: the pool (and its global config, when given)."""

    pool: str
    global_config: Optional[str] = optional()


@attrs.frozen(kw_only=True)
class MeteoraDbcContext:
    """Meteora Dynamic Bonding Curve: the pool, its config and the quote mint."""

    pool: str
    config: str
    quote_mint: str


@attrs.frozen(kw_only=True)
class MeteoraDammV2Context:
    """Meteora DAMM v2: the pool."""

    pool: str


@attrs.frozen(kw_only=True)
class RaydiumLaunchpadContext:
    """Raydium Launchpad (LaunchLab): the pool, config, platform, quote mint and the user's quote account."""

    pool: str
    config: str
    platform: str
    quote_mint: str
    user_quote_account: str


@attrs.frozen(kw_only=True)
class RaydiumCpmmContext:
    """Raydium CPMM: the pool, config, quote mint and the user's quote account."""

    pool: str
    config: str
    quote_mint: str
    user_quote_account: str


@attrs.frozen(kw_only=True)
class MarketContext:
    """The pool a token trades on. Pass it back to ``/v1/sell`` to skip route resolution.

    ``market_type`` is kept as the wire string (see :class:`MarketType`), so a market added by
    the server after this release never makes a position or exit signal undecodable; the
    unseparated spellings ``pumpfun``/``pumpswap`` become ``pump_fun``/``pump_swap``. Keys this
    release does not know are kept verbatim in ``extra`` and written back on encode.
    """

    market_type: str = attrs.field(converter=canonical_market_type)
    pumpfun: Optional[PumpFunContext] = optional()
    pumpswap: Optional[PumpSwapContext] = optional()
    meteora_dbc: Optional[MeteoraDbcContext] = optional()
    meteora_damm_v2: Optional[MeteoraDammV2Context] = optional()
    raydium_launchpad: Optional[RaydiumLaunchpadContext] = optional()
    raydium_cpmm: Optional[RaydiumCpmmContext] = optional()
    extra: Dict[str, Any] = unknown_keys()


@attrs.frozen(kw_only=True)
class SlippageBand:
    """How many tokens can be sold without exceeding ``slippage_bps``."""

    slippage_bps: U16
    max_tokens: U64
    coverage_pct: float


@attrs.frozen(kw_only=True)
class TakeProfitLevel:
    """One exit-ladder level: at ``profit_pct`` sell ``sell_pct`` % of what remains."""

    profit_pct: float
    sell_pct: float
    trailing_stop_pct: float = 0.0


@keyword_hints
@attrs.frozen(kw_only=True)
class StrategyConfig:
    """Server-side exit strategy. Percentages are plain percent numbers; 0 disables a rule.

    Both ``target_profit_pct`` and ``stop_loss_pct`` are required by the protocol (send 0.0 to
    disable one). Every field is checked here, when the strategy is built: a bad value raises
    :class:`~lasersell_sync.errors.InvalidStrategyError` naming the field, a misspelled keyword
    names the field that was probably meant, and a fraction such as ``0.3`` where a percent is
    expected (``30``) is warned about.

    Example:
        >>> StrategyConfig(target_profit_pct=50, stop_loss_pct=10, trailing_stop_pct=5)
    """

    target_profit_pct: float
    stop_loss_pct: float
    trailing_stop_pct: float = 0.0
    sell_on_graduation: bool = False
    take_profit_levels: Tuple[TakeProfitLevel, ...] = omit_default(())
    liquidity_guard: bool = False
    breakeven_trail_pct: float = 0.0

    checked_at_construction: ClassVar[bool] = True  # decoding builds it unchecked (see converter)

    def __attrs_post_init__(self) -> None:
        if checking():
            check_strategy_fields(self, TakeProfitLevel)
            warn_about_fractions(self, stacklevel=4)  # this, attrs' __init__, the hints, the caller


@attrs.frozen(kw_only=True)
class AutoBuyConfig:
    """Mirror-buy settings of one watched wallet (amounts in lamports / USD1 base units)."""

    wallet_pubkey: str
    amount_quote_units: U64
    amount_usd1_units: Optional[U64] = optional()


@attrs.frozen(kw_only=True)
class WatchWalletEntry:
    """An external wallet to copy-trade."""

    pubkey: str
    auto_buy: Optional[AutoBuyConfig] = optional()
    mirror_sell: bool = False


@attrs.frozen(kw_only=True)
class MirrorConfig:
    """Mirror-trading safety settings.

    The Python defaults are the documented server defaults (1, 30 s, no, 5.0 SOL, 2500 bps) and
    are always written, because an absent key means 0 (unlimited) to the server.
    """

    max_positions_per_wallet: U32 = wire_default(1, absent=0)
    cooldown_sec: U64 = wire_default(30, absent=0)
    skip_creator_tokens: bool = wire_default(False, absent=False)
    max_active_sol: float = wire_default(5.0, absent=0.0)
    buy_slippage_bps: U16 = wire_default(2500, absent=0)
    min_liquidity_sol: Optional[float] = optional()
    max_entry_drift_pct: Optional[float] = optional()
    max_consecutive_losses: Optional[U32] = optional()
