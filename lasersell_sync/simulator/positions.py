"""Simulated positions and the stream messages that describe them.

Prices are kept exactly (a float of lamports per atomic token unit) and every amount is computed
from them, so a sell's output is exact to the lamport. On the wire a price is quoted in lamports
per whole token (``10**decimals`` atomic units), as the service quotes it: thousands to millions
of lamports, never a rounded handful.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Optional, Tuple

import attrs
from solders.pubkey import Pubkey

from ..proto import (
    BalanceUpdate,
    LiquiditySnapshot,
    MarketContext,
    PositionOpened,
    PumpFunContext,
    PumpSwapContext,
    ServerMessage,
    SlippageBand,
    StrategyConfig,
    TradeTick,
)
from .chain import TxIntent
from .strategy import ExitDecision, PositionState

__all__ = [
    "DECIMALS",
    "DEFAULT_SLIPPAGE_BPS",
    "SPL_TOKEN",
    "SimPosition",
    "announce",
    "balance",
    "context",
    "liquidity",
    "quote_price",
    "random_pubkey",
    "sell_intent",
    "sellable",
    "trade",
    "trade_record",
]

SPL_TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
DECIMALS = 6
_UNIT: int = 10**DECIMALS  # atomic units per whole token
_BANDS = ((100, 0.15), (200, 0.3), (500, 0.65), (1000, 1.0))
DEFAULT_SLIPPAGE_BPS = 2000
"""Slippage of the exit signals the server pushes (the official CLI's default sell pad)."""


@attrs.define
class SimPosition:
    """One simulated position: what the stream announced, and where its price stands.

    ``steps`` and ``flow`` draw only for this position, once per tick, whether or not anyone
    listens: its market is the same however the bot trades this or any other position.
    """

    position_id: int
    wallet: str
    mint: str
    token_account: str
    entry_quote: int
    initial_tokens: int
    state: PositionState
    steps: Iterator[Tuple[float, bool]]  # the price path (its own generator)
    flow: random.Random  # this token's other traders and pool depth (its own generator too)
    price: float  # lamports per atomic token unit, exact
    opened_ms: int
    graduated: bool = False
    override: Optional[StrategyConfig] = None
    # exits signalled and not yet sold, by ladder level (None: a full or manual exit), oldest first
    pending: Dict[Optional[int], ExitDecision] = attrs.field(factory=dict)
    last_reason: str = "manual"  # the reason of the latest exit signal, for position_closed
    realized_quote: int = 0
    depth: float = 1.0  # share of the position sellable within 10 % slippage
    mirror_source: Optional[str] = None  # the watched wallet this position mirrors
    strategy: Optional[StrategyConfig] = None  # the strategy in force when it opened
    closed_as: Optional[Tuple[int, str, int, str]] = None  # (at ms, reason, session id, market type)


_MARKET_KINDS = {"pump_fun": "PumpFun", "pump_swap": "PumpSwap"}


def trade_record(position: SimPosition, trade_id: int) -> Dict[str, Any]:
    """A closed position as ``GET /v1/history`` lists it (sold tokens may still settle later)."""
    closed_ms, reason, session_id, market_type = position.closed_as or (position.opened_ms, "", 0, "")
    sold_out = position.state.tokens == 0
    strategy = position.strategy
    return {
        "id": trade_id,
        "session_id": session_id,
        "position_id": position.position_id,
        "wallet_pubkey": position.wallet,
        "mint": position.mint,
        "entry_quote_units": position.entry_quote,
        "exit_quote_units": position.realized_quote if sold_out or position.realized_quote else None,
        "profit_quote_units": position.realized_quote - position.entry_quote if sold_out else None,
        "tokens": position.initial_tokens,
        "exit_reason": reason or None,
        "market_kind": _MARKET_KINDS.get(market_type, market_type or None),
        "strategy_target_profit_pct": strategy.target_profit_pct if strategy else None,
        "strategy_stop_loss_pct": strategy.stop_loss_pct if strategy else None,
        "strategy_trailing_stop_pct": strategy.trailing_stop_pct if strategy else None,
        "opened_at": _iso(position.opened_ms),
        "closed_at": _iso(closed_ms) if position.closed_as else None,
    }


def _iso(ms: int) -> str:
    """Unix milliseconds as the service writes timestamps: ISO 8601 in UTC."""
    stamp = datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def random_pubkey(rng: random.Random) -> str:
    """A seeded, valid-looking address."""
    return str(Pubkey(bytes(rng.getrandbits(8) for _ in range(32))))


def quote_price(price: float) -> int:
    """Lamports per whole token, the unit of ``token_price_quote`` and ``price_quote``."""
    return max(0, round(price * _UNIT))


def balance(position: SimPosition, slot: int) -> BalanceUpdate:
    """The position's token balance now."""
    return BalanceUpdate(
        wallet_pubkey=position.wallet,
        mint=position.mint,
        token_account=position.token_account,
        token_program=SPL_TOKEN,
        tokens=position.state.tokens,
        slot=slot,
    )


def announce(position: SimPosition, slot: int, market: MarketContext) -> List[ServerMessage]:
    """``balance_update`` and ``position_opened`` for a position (at open and on reconnect)."""
    return [
        balance(position, slot),
        PositionOpened(
            position_id=position.position_id,
            wallet_pubkey=position.wallet,
            mint=position.mint,
            token_account=position.token_account,
            token_program=SPL_TOKEN,
            tokens=position.state.tokens,
            entry_quote_units=position.entry_quote,
            market_context=market,
            token_name=f"Sim Token {position.position_id}",
            token_symbol=f"SIM{position.position_id}",
            token_decimals=DECIMALS,
            token_price_quote=quote_price(position.price),
            opened_at_ms=position.opened_ms,
            slot=slot,
            watched=position.mirror_source is not None,
            mirror_source=position.mirror_source,
        ),
    ]


def trade(position: SimPosition, rng: random.Random, now_ms: int) -> TradeTick:
    """Someone else's swap on the position's pool."""
    amount = rng.randint(10**5, 10**8)
    return TradeTick(
        position_id=position.position_id,
        time_ms=now_ms,
        side=rng.choice(("buy", "sell")),
        token_amount=amount,
        quote_amount=int(amount * position.price),
        price_quote=quote_price(position.price),
        maker=random_pubkey(rng),
    )


def sellable(position: SimPosition, slippage_bps: int) -> int:
    """Tokens sellable within a slippage band, from the pool's current depth."""
    share = dict(_BANDS)[slippage_bps] * position.depth
    return int(position.state.tokens * share)


def liquidity(position: SimPosition, now_ms: int) -> LiquiditySnapshot:
    """The slippage bands and trend of the position's pool."""
    bands = tuple(
        SlippageBand(
            slippage_bps=bps,
            max_tokens=sellable(position, bps),
            coverage_pct=round(100.0 * share * position.depth, 2),
        )
        for bps, share in _BANDS
    )
    trend = "growing" if position.depth > 0.8 else "stable" if position.depth > 0.4 else "draining"
    return LiquiditySnapshot(
        position_id=position.position_id, bands=bands, liquidity_trend=trend, server_time_ms=now_ms
    )


def context(position: SimPosition, scenario: str) -> MarketContext:
    """Where the token trades: the pump.fun curve, or PumpSwap once graduated."""
    if position.graduated or scenario in ("grind", "sideways"):
        pool = str(Pubkey.create_with_seed(Pubkey.from_string(position.mint), "pool", Pubkey.default()))
        return MarketContext(market_type="pump_swap", pumpswap=PumpSwapContext(pool=pool))
    return MarketContext(market_type="pump_fun", pumpfun=PumpFunContext())


def sell_intent(
    position: SimPosition, account: str, tokens: int, slippage_bps: Optional[int], level: Optional[int] = None
) -> TxIntent:
    """A sell of ``tokens`` that commits to the output at today's price less its slippage.

    The minimum is exact to the lamport, so the sell fails on chain only when the price really
    falls further than ``slippage_bps`` (default :data:`DEFAULT_SLIPPAGE_BPS`) before it lands.
    """
    bps = DEFAULT_SLIPPAGE_BPS if slippage_bps is None else min(max(slippage_bps, 0), 10_000)
    expected = int(position.price * tokens)
    return TxIntent(
        kind="sell",
        wallet=position.wallet,
        account=account,
        ref_id=position.position_id,
        amount=tokens,
        min_out=expected * (10_000 - bps) // 10_000,
        slippage_bps=bps,
        mint=position.mint,
        token_account=position.token_account,
        level=level,
    )
