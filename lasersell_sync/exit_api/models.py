"""Exit API request and response types (build sell, build buy), with their input checks.

``WalletProof`` (the register body) is defined in ``proto.wallet_proof``, below ``wallet`` which
makes it, and re-exported here.

Requests serialise in the official key order with unset optional fields omitted. ``validate()``
runs before any network call, so a bad amount or a malformed public key costs no round trip.
"""

from __future__ import annotations

import enum
import math
from typing import Any, Optional

import attrs

from .._checks import MAX_SLIPPAGE_BPS, SEND_MODES, U64_MAX, check_choice, check_int, check_pubkey
from ..proto import MarketContext
from ..proto.scalars import U16, U64, optional
from ..proto.wallet_proof import WalletProof

__all__ = [
    "BuildBuyTxRequest",
    "BuildSellTxRequest",
    "BuildTxResponse",
    "BuyInput",
    "SellOutput",
    "TxMode",
    "WalletProof",
]

MAX_PARTNER_FEE_BPS = 50
MAX_PARTNER_FEE_LAMPORTS = 50_000_000


class SellOutput(str, enum.Enum):
    """The asset a sell pays out in."""

    SOL = "SOL"
    USD1 = "USD1"


BuyInput = SellOutput
"""The asset a buy spends (same two assets)."""


class TxMode(str, enum.Enum):
    """Routing hint for the server."""

    FAST = "fast"
    SECURE = "secure"


def _common(request: Any) -> None:
    check_pubkey(request.mint, "mint")
    check_pubkey(request.user_pubkey, "user_pubkey")
    check_int(request.slippage_bps, "slippage_bps", 0, MAX_SLIPPAGE_BPS)
    check_choice(request.mode, "mode", {m.value for m in TxMode})
    check_choice(request.send_mode, "send_mode", SEND_MODES)
    if request.tip_lamports is not None:
        check_int(request.tip_lamports, "tip_lamports", 0, U64_MAX)
    fee_bps, fee_lamports = request.partner_fee_bps, request.partner_fee_lamports
    if fee_bps is not None and fee_lamports is not None:
        raise ValueError("partner_fee_bps and partner_fee_lamports are mutually exclusive")
    if fee_bps is not None:
        check_int(fee_bps, "partner_fee_bps", 0, MAX_PARTNER_FEE_BPS)
    if fee_lamports is not None:
        check_int(fee_lamports, "partner_fee_lamports", 0, MAX_PARTNER_FEE_LAMPORTS)
    if (fee_bps is not None or fee_lamports is not None) and request.partner_fee_recipient is None:
        raise ValueError("a partner fee needs partner_fee_recipient")
    if request.partner_fee_recipient is not None:
        check_pubkey(request.partner_fee_recipient, "partner_fee_recipient")


@attrs.frozen(kw_only=True)
class BuildSellTxRequest:
    """``POST /v1/sell``: build an unsigned transaction selling ``amount_tokens`` (atomic units)."""

    mint: str
    user_pubkey: str
    amount_tokens: U64
    output: str = SellOutput.SOL
    slippage_bps: U16
    mode: Optional[str] = optional()
    market_context: Optional[MarketContext] = optional()
    send_mode: Optional[str] = optional()
    tip_lamports: Optional[U64] = optional()
    partner_fee_recipient: Optional[str] = optional()
    partner_fee_bps: Optional[U16] = optional()
    partner_fee_lamports: Optional[U64] = optional()

    def validate(self) -> None:
        """Raise ValueError naming the first bad field."""
        _common(self)
        check_int(self.amount_tokens, "amount_tokens", 1, U64_MAX)
        check_choice(self.output, "output", {o.value for o in SellOutput})
        if self.market_context is not None and not isinstance(self.market_context, MarketContext):
            raise ValueError("market_context must be a MarketContext")


@attrs.frozen(kw_only=True)
class BuildBuyTxRequest:
    """``POST /v1/buy``: spend exactly one of ``amount`` (human units) or ``amount_in_total``."""

    mint: str
    user_pubkey: str
    slippage_bps: U16
    input: str = SellOutput.SOL
    amount_in_total: Optional[U64] = optional()
    amount: Optional[float] = optional()
    mode: Optional[str] = optional()
    send_mode: Optional[str] = optional()
    tip_lamports: Optional[U64] = optional()
    partner_fee_recipient: Optional[str] = optional()
    partner_fee_bps: Optional[U16] = optional()
    partner_fee_lamports: Optional[U64] = optional()

    def validate(self) -> None:
        """Raise ValueError naming the first bad field."""
        _common(self)
        check_choice(self.input, "input", {o.value for o in SellOutput})
        if (self.amount is None) == (self.amount_in_total is None):
            raise ValueError("give exactly one of amount (human units) and amount_in_total (atomic units)")
        if self.amount_in_total is not None:
            check_int(self.amount_in_total, "amount_in_total", 1, U64_MAX)
        if self.amount is not None:
            if isinstance(self.amount, bool) or not isinstance(self.amount, (int, float)):
                raise ValueError(f"amount must be a number, got {self.amount!r}")
            if not math.isfinite(self.amount) or self.amount <= 0:
                raise ValueError(f"amount must be a finite number > 0, got {self.amount!r}")


@attrs.frozen(kw_only=True)
class BuildTxResponse:
    """An unsigned transaction (base64 ``VersionedTransaction``) and the server's route info."""

    tx: str
    route: Any = None
    debug: Any = None
