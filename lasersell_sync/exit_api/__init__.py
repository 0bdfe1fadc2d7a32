"""The Exit API (REST): build unsigned buy/sell transactions, register and unregister wallets,
read the account, its trade history and the service's health.

Response parsing (``exit_api.responses``) is an implementation detail of the client.
"""

from __future__ import annotations

from .account import MAX_HISTORY_LIMIT, AccountInfo, AccountLimits, HealthStatus, TradeHistoryPage, TradeRecord
from .client import DEFAULT_BASE_URL, ExitApiClient, SellablePosition
from .models import (
    BuildBuyTxRequest,
    BuildSellTxRequest,
    BuildTxResponse,
    BuyInput,
    SellOutput,
    TxMode,
    WalletProof,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_HISTORY_LIMIT",
    "AccountInfo",
    "AccountLimits",
    "BuildBuyTxRequest",
    "BuildSellTxRequest",
    "BuildTxResponse",
    "BuyInput",
    "ExitApiClient",
    "HealthStatus",
    "SellOutput",
    "SellablePosition",
    "TradeHistoryPage",
    "TradeRecord",
    "TxMode",
    "WalletProof",
]
