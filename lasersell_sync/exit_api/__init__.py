"""The Exit API (REST): build unsigned buy/sell transactions, register wallets."""

from __future__ import annotations

from .client import DEFAULT_BASE_URL, ExitApiClient
from .models import (
    BuildBuyTxRequest,
    BuildSellTxRequest,
    BuildTxResponse,
    BuyInput,
    SellOutput,
    TxMode,
    WalletProof,
)
from .responses import parse_build_tx_response, summarize_error_body

__all__ = [
    "DEFAULT_BASE_URL",
    "BuildBuyTxRequest",
    "BuildSellTxRequest",
    "BuildTxResponse",
    "BuyInput",
    "ExitApiClient",
    "SellOutput",
    "TxMode",
    "WalletProof",
    "parse_build_tx_response",
    "summarize_error_body",
]
