"""Server -> client stream messages: the thirteen message types the stream pushes.

Each class carries its wire ``type`` in ``TYPE``. Field order is the order the official
serializer writes, which is also the order :func:`encode_server` writes.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, Optional, Tuple, Union, get_args

import attrs

from .scalars import I64, U8, U16, U32, U64, omit_default, optional
from .types import Limits, MarketContext, SlippageBand

__all__ = [
    "SERVER_MESSAGE_TYPES",
    "BalanceUpdate",
    "ErrorMessage",
    "ExitSignalWithTx",
    "HelloOk",
    "LiquiditySnapshot",
    "MirrorBuyFailed",
    "MirrorBuySignal",
    "MirrorWalletAutoDisabled",
    "PnlUpdate",
    "Pong",
    "PositionClosed",
    "PositionOpened",
    "ServerMessage",
    "TradeTick",
    "UnknownMessage",
]


@attrs.frozen(kw_only=True)
class HelloOk:
    """Session accepted. ``session_id`` changes on every reconnect."""

    TYPE: ClassVar[str] = "hello_ok"
    session_id: U64
    server_time_ms: U64
    limits: Limits


@attrs.frozen(kw_only=True)
class Pong:
    """Reply to a client ``ping`` (no echo of the client time: keep your own send time)."""

    TYPE: ClassVar[str] = "pong"
    server_time_ms: U64


@attrs.frozen(kw_only=True)
class ErrorMessage:
    """A server ``error``: ``code`` is stable and machine-readable (an open set)."""

    TYPE: ClassVar[str] = "error"
    code: str
    message: str


@attrs.frozen(kw_only=True)
class BalanceUpdate:
    """A tracked wallet's token balance changed (atomic units; 0 after a full sell)."""

    TYPE: ClassVar[str] = "balance_update"
    wallet_pubkey: str
    mint: str
    token_account: Optional[str] = optional()
    token_program: Optional[str] = optional()
    tokens: U64
    slot: U64


@attrs.frozen(kw_only=True)
class PositionOpened:
    """A position is now tracked. The only message where ``token_account`` is required."""

    TYPE: ClassVar[str] = "position_opened"
    position_id: U64
    wallet_pubkey: str
    mint: str
    token_account: str
    token_program: Optional[str] = optional()
    tokens: U64
    entry_quote_units: U64
    market_context: Optional[MarketContext] = optional()
    token_name: Optional[str] = optional()
    token_symbol: Optional[str] = optional()
    token_decimals: Optional[U8] = optional()
    token_price_quote: Optional[U64] = optional()
    market_cap_quote: Optional[U64] = optional()
    pool_liquidity_quote: Optional[U64] = optional()
    opened_at_ms: Optional[U64] = optional()
    slot: U64
    watched: bool = omit_default(False)
    mirror_source: Optional[str] = optional()


@attrs.frozen(kw_only=True)
class PositionClosed:
    """Tracking of a position ended; ``reason`` is a free-form string."""

    TYPE: ClassVar[str] = "position_closed"
    position_id: U64
    wallet_pubkey: str
    mint: str
    token_account: Optional[str] = optional()
    reason: str
    mirror_source: Optional[str] = optional()
    slot: U64
    watched: bool = omit_default(False)


@attrs.frozen(kw_only=True)
class ExitSignalWithTx:
    """An exit condition fired: sign ``unsigned_tx_b64`` and send it now.

    The transaction embeds a recent blockhash and goes stale within about a minute. A newer
    signal for the same position supersedes this one. ``sell_tokens`` is set for partial
    (ladder) sells; ``None`` means the whole position.
    """

    TYPE: ClassVar[str] = "exit_signal_with_tx"
    session_id: U64
    position_id: U64
    wallet_pubkey: str
    mint: str
    token_account: Optional[str] = optional()
    token_program: Optional[str] = optional()
    position_tokens: U64
    profit_units: I64
    reason: str
    triggered_at_ms: U64
    market_context: Optional[MarketContext] = optional()
    unsigned_tx_b64: str
    sell_tokens: Optional[U64] = optional()
    level_index: Optional[U32] = optional()
    mirror_source: Optional[str] = optional()
    watched: bool = omit_default(False)


@attrs.frozen(kw_only=True)
class MirrorBuySignal:
    """A watched wallet bought: an unsigned buy for ``user_wallet``. Answer with a result."""

    TYPE: ClassVar[str] = "mirror_buy_signal"
    session_id: U64
    watched_wallet: str
    mint: str
    user_wallet: str
    amount_quote_units: U64
    input: str
    unsigned_tx_b64: str
    slippage_bps: U16
    send_mode: Optional[str] = optional()
    tip_lamports: Optional[U64] = optional()
    market_context: Optional[MarketContext] = optional()


@attrs.frozen(kw_only=True)
class MirrorBuyFailed:
    """A mirror buy could not be built or executed (``reason`` is an open set)."""

    TYPE: ClassVar[str] = "mirror_buy_failed"
    watched_wallet: str
    mint: str
    reason: str


@attrs.frozen(kw_only=True)
class MirrorWalletAutoDisabled:
    """The consecutive-loss breaker disabled mirroring of ``watched_wallet``."""

    TYPE: ClassVar[str] = "mirror_wallet_auto_disabled"
    watched_wallet: str
    reason: str
    loss_count: U32


@attrs.frozen(kw_only=True)
class PnlUpdate:
    """Periodic PnL of a position, in quote atomic units (low priority)."""

    TYPE: ClassVar[str] = "pnl_update"
    position_id: U64
    profit_units: I64
    proceeds_units: U64
    server_time_ms: U64
    token_price_quote: Optional[U64] = optional()
    market_cap_quote: Optional[U64] = optional()
    watched: bool = omit_default(False)


@attrs.frozen(kw_only=True)
class LiquiditySnapshot:
    """Sellable amount per slippage band and the pool's liquidity trend (low priority)."""

    TYPE: ClassVar[str] = "liquidity_snapshot"
    position_id: U64
    bands: Tuple[SlippageBand, ...]
    liquidity_trend: str
    server_time_ms: U64
    watched: bool = omit_default(False)


@attrs.frozen(kw_only=True)
class TradeTick:
    """A swap seen on a tracked position's pool (low priority)."""

    TYPE: ClassVar[str] = "trade_tick"
    position_id: U64
    time_ms: U64
    side: str
    token_amount: U64
    quote_amount: U64
    price_quote: U64
    maker: Optional[str] = optional()
    tx_signature: Optional[str] = optional()
    watched: bool = omit_default(False)


@attrs.frozen(kw_only=True)
class UnknownMessage:
    """A message whose ``type`` this release does not know, kept instead of dropped.

    ``fields`` holds every key of the frame except ``type``, exactly as decoded.
    """

    type: str
    fields: Dict[str, Any] = attrs.field(factory=dict, hash=False)


ServerMessage = Union[
    HelloOk,
    Pong,
    ErrorMessage,
    BalanceUpdate,
    PositionOpened,
    PositionClosed,
    ExitSignalWithTx,
    MirrorBuySignal,
    MirrorBuyFailed,
    MirrorWalletAutoDisabled,
    PnlUpdate,
    LiquiditySnapshot,
    TradeTick,
    UnknownMessage,
]

SERVER_MESSAGE_TYPES: Tuple[Any, ...] = tuple(c for c in get_args(ServerMessage) if c is not UnknownMessage)
"""Every known server message class, ``hello_ok`` first."""
