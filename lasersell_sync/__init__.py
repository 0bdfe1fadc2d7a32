"""lasersell_sync: a synchronous Python SDK for the LaserSell Exit Intelligence Stream."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from . import proto
from .backoff import LOW_LATENCY_RETRY_POLICY, Backoff, RetryPolicy
from .errors import (
    AuthenticationError,
    CommandRejectedError,
    ConnectError,
    ExitApiError,
    InvalidStrategyError,
    LaserSellError,
    ProtocolError,
    SessionClosedError,
    StreamServerError,
    TxSubmitError,
)
from .exit_api import (
    BuildBuyTxRequest,
    BuildSellTxRequest,
    BuildTxResponse,
    BuyInput,
    ExitApiClient,
    SellOutput,
    TxMode,
    WalletProof,
)
from .proto import *  # noqa: F403 - the protocol models are part of the public API
from .proto import __all__ as _proto_all
from .stream import (
    DEFAULT_ENDPOINT,
    EVENT_NAMES,
    BadFrame,
    Closed,
    Connected,
    Disconnected,
    Event,
    EventIterator,
    ExitExecutor,
    ExitFailed,
    ExitLanded,
    ExitPolicy,
    ExitRefusedError,
    ExitStats,
    ExitSubmitted,
    PositionHandle,
    Reconnecting,
    SessionStats,
    StreamConnection,
    StreamSession,
)
from .tx import (
    MAINNET_BETA_RPC_URL,
    Confirmation,
    SendTarget,
    SendTargetAstralane,
    SendTargetHeliusSender,
    SendTargetRpc,
    SignatureStatus,
    Submission,
    TxSender,
    confirm_transaction,
    decode_unsigned_tx,
    encode_signed_tx,
    is_blockhash_valid,
    send_and_confirm,
    send_transaction,
    send_transaction_b64,
    sign_unsigned_tx,
)
from .wallet import load_keypair, prove_ownership

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    """``ls.simulator`` is imported on first use: it needs the ``simulator`` extra."""
    if name == "simulator":
        return importlib.import_module(".simulator", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_ENDPOINT",
    "EVENT_NAMES",
    "LOW_LATENCY_RETRY_POLICY",
    "MAINNET_BETA_RPC_URL",
    "BuildBuyTxRequest",
    "BuildSellTxRequest",
    "BuildTxResponse",
    "BuyInput",
    "ExitApiClient",
    "ExitApiError",
    "RetryPolicy",
    "SellOutput",
    "SendTarget",
    "SendTargetAstralane",
    "SendTargetHeliusSender",
    "SendTargetRpc",
    "TxMode",
    "Confirmation",
    "SignatureStatus",
    "Submission",
    "TxSender",
    "TxSubmitError",
    "confirm_transaction",
    "is_blockhash_valid",
    "send_and_confirm",
    "WalletProof",
    "decode_unsigned_tx",
    "encode_signed_tx",
    "load_keypair",
    "prove_ownership",
    "send_transaction",
    "send_transaction_b64",
    "sign_unsigned_tx",
    "AuthenticationError",
    "Backoff",
    "CommandRejectedError",
    "BadFrame",
    "Closed",
    "ConnectError",
    "Connected",
    "Disconnected",
    "Event",
    "EventIterator",
    "ExitExecutor",
    "ExitFailed",
    "ExitLanded",
    "ExitPolicy",
    "ExitRefusedError",
    "ExitStats",
    "ExitSubmitted",
    "PositionHandle",
    "Reconnecting",
    "SessionStats",
    "StreamSession",
    "InvalidStrategyError",
    "LaserSellError",
    "ProtocolError",
    "SessionClosedError",
    "StreamConnection",
    "StreamServerError",
    "__version__",
    "proto",
    *_proto_all,
]
