"""Transactions: sign locally, submit to one or several targets, confirm they landed.

``signing`` decodes and signs the unsigned transactions the service builds; ``targets`` says
where they go; ``sender`` submits them (``sendTransaction``) and ``confirm`` watches them land
(batched ``getSignatureStatuses``).
"""

from __future__ import annotations

from .._exports import public_names as _public_names
from .confirm import Confirmation as Confirmation, SignatureStatus as SignatureStatus
from .fastsign import FastSigned as FastSigned, fast_sign as fast_sign
from .sender import (
    Submission as Submission,
    TxSender as TxSender,
    confirm_transaction as confirm_transaction,
    is_blockhash_valid as is_blockhash_valid,
    send_and_confirm as send_and_confirm,
    send_transaction as send_transaction,
    send_transaction_b64 as send_transaction_b64,
)
from .signing import (
    check_fee_payer as check_fee_payer,
    decode_unsigned_tx as decode_unsigned_tx,
    encode_signed_tx as encode_signed_tx,
    recent_blockhash as recent_blockhash,
    sign_transaction as sign_transaction,
    sign_unsigned_tx as sign_unsigned_tx,
)
from .targets import (
    ASTRALANE_REGIONS as ASTRALANE_REGIONS,
    HELIUS_SENDER_URL as HELIUS_SENDER_URL,
    MAINNET_BETA_RPC_URL as MAINNET_BETA_RPC_URL,
    SEND_MODE_OF as SEND_MODE_OF,
    SendTarget as SendTarget,
    SendTargetAstralane as SendTargetAstralane,
    SendTargetHeliusSender as SendTargetHeliusSender,
    SendTargetRpc as SendTargetRpc,
)

__all__ = _public_names(globals())
