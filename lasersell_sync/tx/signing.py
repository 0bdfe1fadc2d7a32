"""Decode, check and sign the unsigned transactions the service builds, locally with ``solders``.

Secret keys never reach a log line, a repr or an error message: only public keys are named.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Sequence, Union

from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from ..errors import TxSubmitError

__all__ = [
    "check_fee_payer",
    "decode_unsigned_tx",
    "encode_signed_tx",
    "recent_blockhash",
    "sign_transaction",
    "sign_unsigned_tx",
]

_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def decode_unsigned_tx(unsigned_tx_b64: str) -> VersionedTransaction:
    """Strict base64 to ``VersionedTransaction``. Raises TxSubmitError(kind="decode")."""
    if not isinstance(unsigned_tx_b64, str):
        raise TxSubmitError("decode", f"transaction must be base64 text, got {type(unsigned_tx_b64).__name__}")
    text = unsigned_tx_b64.strip()
    if not text:
        raise TxSubmitError("decode", "base64 payload is empty")
    if len(text) % 4 or not _BASE64.match(text):
        raise TxSubmitError("decode", "invalid base64 encoding")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise TxSubmitError("decode", "invalid base64 encoding") from None
    try:
        return VersionedTransaction.from_bytes(raw)
    except Exception as exc:  # solders raises its own error types
        raise TxSubmitError("decode", f"not a serialized VersionedTransaction ({type(exc).__name__})") from None


def sign_unsigned_tx(unsigned_tx_b64: str, keypairs: Union[Keypair, Sequence[Keypair]]) -> VersionedTransaction:
    """Decode and sign an unsigned transaction with the required signer(s).

    Raises:
        TxSubmitError: kind ``decode`` (bad payload) or ``sign`` (a keypair that is not a
            required signer, or a required signer without a keypair); names public keys only.
    """
    return sign_transaction(decode_unsigned_tx(unsigned_tx_b64), keypairs)


def sign_transaction(
    unsigned: VersionedTransaction, keypairs: Union[Keypair, Sequence[Keypair]]
) -> VersionedTransaction:
    """Sign a decoded unsigned transaction with the required signer(s) (see :func:`sign_unsigned_tx`)."""
    signers = [keypairs] if isinstance(keypairs, Keypair) else list(keypairs)
    if not signers or not all(isinstance(k, Keypair) for k in signers):
        raise TxSubmitError("sign", "give one or more solders Keypair objects to sign with")
    message = unsigned.message
    required = list(message.account_keys[: message.header.num_required_signatures])
    expected = ", ".join(str(key) for key in required)
    for keypair in signers:
        if keypair.pubkey() not in required:
            raise TxSubmitError("sign", f"{keypair.pubkey()} is not a required signer; expected {expected}")
    missing = [str(key) for key in required if key not in {k.pubkey() for k in signers}]
    if missing:
        raise TxSubmitError("sign", f"missing keypairs for required signers: {', '.join(missing)}")
    try:
        return VersionedTransaction(message, signers)
    except Exception as exc:
        raise TxSubmitError("sign", f"signing failed ({type(exc).__name__})") from None


def encode_signed_tx(tx: VersionedTransaction) -> str:
    """Standard base64 (padded) of the serialized transaction."""
    return base64.b64encode(bytes(tx)).decode("ascii")


def check_fee_payer(tx: VersionedTransaction, payer: Pubkey) -> None:
    """Refuse a transaction whose fee payer is not ``payer``.

    The fee payer is the first account key and always a signer: a sell that names another fee
    payer was built for another wallet and must never be signed with this key.

    Raises:
        TxSubmitError: kind ``sign``, naming both public keys.
    """
    keys = tx.message.account_keys
    if not keys or keys[0] != payer:
        actual = str(keys[0]) if keys else "none"
        raise TxSubmitError("sign", f"fee payer is {actual}, not the signing wallet {payer}")


def recent_blockhash(tx: VersionedTransaction) -> Hash:
    """The blockhash a transaction commits to: once it expires the transaction can never land."""
    return tx.message.recent_blockhash
