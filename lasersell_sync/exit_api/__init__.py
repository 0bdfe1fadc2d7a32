"""The Exit API (REST): build unsigned buy/sell transactions, register wallets.

Response parsing (``exit_api.responses``) is an implementation detail of the client.
"""

from __future__ import annotations

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
    "BuildBuyTxRequest",
    "BuildSellTxRequest",
    "BuildTxResponse",
    "BuyInput",
    "ExitApiClient",
    "SellOutput",
    "SellablePosition",
    "TxMode",
    "WalletProof",
]
