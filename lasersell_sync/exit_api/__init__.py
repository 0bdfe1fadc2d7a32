"""The Exit API (REST): build unsigned buy/sell transactions, register and unregister wallets,
read the account, its trade history and the service's health.

Response parsing (``exit_api.responses``) is an implementation detail of the client.
"""

from __future__ import annotations

from .._exports import public_names as _public_names
from .account import (
    MAX_HISTORY_LIMIT as MAX_HISTORY_LIMIT,
    AccountInfo as AccountInfo,
    AccountLimits as AccountLimits,
    HealthStatus as HealthStatus,
    TradeHistoryPage as TradeHistoryPage,
    TradeRecord as TradeRecord,
)
from .client import (
    DEFAULT_BASE_URL as DEFAULT_BASE_URL,
    ExitApiClient as ExitApiClient,
    SellablePosition as SellablePosition,
)
from .models import (
    BuildBuyTxRequest as BuildBuyTxRequest,
    BuildSellTxRequest as BuildSellTxRequest,
    BuildTxResponse as BuildTxResponse,
    BuyInput as BuyInput,
    SellOutput as SellOutput,
    TxMode as TxMode,
    WalletProof as WalletProof,
)

__all__ = _public_names(globals())
