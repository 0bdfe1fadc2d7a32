"""Transactions: sign locally, submit to one or several targets, confirm they landed.

``signing`` decodes and signs the unsigned transactions the service builds; ``targets`` says
where they go; ``sender`` submits them (``sendTransaction``) and ``confirm`` watches them land
(batched ``getSignatureStatuses``).
"""

from __future__ import annotations

from .confirm import Confirmation, SignatureStatus
from .fastsign import FastSigned, fast_sign
from .sender import (
    Submission,
    TxSender,
    confirm_transaction,
    is_blockhash_valid,
    send_and_confirm,
    send_transaction,
    send_transaction_b64,
)
from .signing import (
    check_fee_payer,
    decode_unsigned_tx,
    encode_signed_tx,
    recent_blockhash,
    sign_transaction,
    sign_unsigned_tx,
)
from .targets import (
    ASTRALANE_REGIONS,
    HELIUS_SENDER_URL,
    MAINNET_BETA_RPC_URL,
    SEND_MODE_OF,
    SendTarget,
    SendTargetAstralane,
    SendTargetHeliusSender,
    SendTargetRpc,
)

__all__ = [
    "ASTRALANE_REGIONS",
    "HELIUS_SENDER_URL",
    "MAINNET_BETA_RPC_URL",
    "SEND_MODE_OF",
    "Confirmation",
    "FastSigned",
    "SendTarget",
    "SendTargetAstralane",
    "SendTargetHeliusSender",
    "SendTargetRpc",
    "SignatureStatus",
    "Submission",
    "TxSender",
    "check_fee_payer",
    "confirm_transaction",
    "decode_unsigned_tx",
    "encode_signed_tx",
    "fast_sign",
    "is_blockhash_valid",
    "recent_blockhash",
    "send_and_confirm",
    "send_transaction",
    "send_transaction_b64",
    "sign_transaction",
    "sign_unsigned_tx",
]
