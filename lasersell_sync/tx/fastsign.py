"""Sign an exit transaction in place: no full decode and re-encode on the exit path.

A serialized transaction is a short-vec signature count, that many 64-byte signature slots, then
the message. The signature is over exactly the message bytes, so signing needs only the header
(where the signers are) and the account keys (who they are): the keypair's slot is found among
the required signers, its signature written into the slot, and the bytes base64-encoded again.
The fee payer (the first account key) must be the keypair, as for every exit. Anything unusual
(several signers, an unknown message version, a malformed payload) is refused with the same
``TxSubmitError`` kinds as :func:`~lasersell_sync.tx.signing.sign_unsigned_tx`; callers that want
to sign multi-signer transactions use that one.
"""

from __future__ import annotations

import base64
import binascii
from typing import Tuple

import attrs
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from ..errors import TxSubmitError

__all__ = ["FastSigned", "fast_sign", "read_blockhash"]

_SIGNATURE = 64
_KEY = 32


@attrs.frozen(kw_only=True)
class FastSigned:
    """A signed transaction, base64-encoded, with what the exit path needs to know about it."""

    tx_b64: str
    signature: str
    blockhash: str


def _shortvec(raw: bytearray, offset: int) -> Tuple[int, int]:
    """Decode a compact-u16 at ``offset``: (value, offset after it)."""
    value = shift = 0
    for index in range(3):
        if offset + index >= len(raw):
            break
        byte = raw[offset + index]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset + index + 1
        shift += 7
    raise TxSubmitError("decode", "not a serialized VersionedTransaction (bad length prefix)")


def _decode(unsigned_tx_b64: str) -> bytearray:
    if not isinstance(unsigned_tx_b64, str):
        raise TxSubmitError("decode", f"transaction must be base64 text, got {type(unsigned_tx_b64).__name__}")
    try:
        return bytearray(base64.b64decode(unsigned_tx_b64.strip(), validate=True))
    except (binascii.Error, ValueError):
        raise TxSubmitError("decode", "invalid base64 encoding") from None


def _layout(raw: bytearray) -> Tuple[int, int, int, int, int]:
    """(signature slots at, message at, required signers, account keys at, blockhash at)."""
    slots, message_at = _shortvec(raw, 0)
    offset = message_at + slots * _SIGNATURE
    if offset >= len(raw):
        raise TxSubmitError("decode", "not a serialized VersionedTransaction (truncated)")
    header = offset
    if raw[offset] & 0x80:  # a versioned message: 0x80 | version, then the header
        if raw[offset] & 0x7F != 0:
            raise TxSubmitError("decode", f"unsupported message version {raw[offset] & 0x7F}")
        header += 1
    if header + 3 > len(raw):
        raise TxSubmitError("decode", "not a serialized VersionedTransaction (truncated header)")
    required = raw[header]
    keys, keys_at = _shortvec(raw, header + 3)
    blockhash_at = keys_at + keys * _KEY
    if blockhash_at + _KEY > len(raw) or keys < 1 or required < 1 or slots != required:
        raise TxSubmitError("decode", "not a serialized VersionedTransaction (inconsistent counts)")
    return message_at, offset, required, keys_at, blockhash_at


def read_blockhash(unsigned_tx_b64: str) -> str:
    """The recent blockhash a base64 transaction was built on (base58), without a full decode.

    Raises:
        TxSubmitError: kind ``decode``.
    """
    raw = _decode(unsigned_tx_b64)
    blockhash_at = _layout(raw)[4]
    return str(Hash.from_bytes(bytes(raw[blockhash_at : blockhash_at + _KEY])))


def fast_sign(unsigned_tx_b64: str, keypair: Keypair) -> FastSigned:
    """Sign ``unsigned_tx_b64`` with ``keypair`` as its fee payer and only signer.

    Raises:
        TxSubmitError: kind ``decode`` (not base64, not a transaction, an unknown version) or
            ``sign`` (the fee payer is someone else, or more than one signer is required).
    """
    raw = _decode(unsigned_tx_b64)
    message_at, offset, required, keys_at, blockhash_at = _layout(raw)
    payer = Pubkey.from_bytes(bytes(raw[keys_at : keys_at + _KEY]))
    if payer != keypair.pubkey():
        raise TxSubmitError("sign", f"fee payer is {payer}, not the signing wallet {keypair.pubkey()}")
    if required != 1:
        raise TxSubmitError("sign", f"{required} signers are required; sign with sign_unsigned_tx and every keypair")
    signature = keypair.sign_message(bytes(raw[offset:]))
    raw[message_at : message_at + _SIGNATURE] = bytes(signature)
    return FastSigned(
        tx_b64=base64.b64encode(raw).decode("ascii"),
        signature=str(signature),
        blockhash=str(Hash.from_bytes(bytes(raw[blockhash_at : blockhash_at + _KEY]))),
    )
