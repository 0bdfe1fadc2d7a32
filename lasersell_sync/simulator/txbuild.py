"""Real unsigned transactions for the simulator, and how to recognise them when they come back.

Each transaction is a genuine ``VersionedTransaction`` (v0) whose fee payer and only signer is
the wallet that must sign, so bots sign it exactly as they would a real exit. It carries two
instructions, like a real swap: 0 sets the compute-unit limit, 1 is the "swap" (an SPL memo
``lasersell-sim:<nonce>`` that names what the simulator built). The recent blockhash is the
simulated chain's, so it expires like a real one.
"""

from __future__ import annotations

import base64
import struct
from typing import Optional

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

__all__ = ["COMPUTE_BUDGET_PROGRAM", "MEMO_PROGRAM", "b58decode", "build_unsigned", "read_memo"]

MEMO_PROGRAM = Pubkey.from_string("Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo")  # SPL Memo v1
COMPUTE_BUDGET_PROGRAM = Pubkey.from_string("ComputeBudget111111111111111111111111111111")
_PREFIX = "lasersell-sim:"
_COMPUTE_UNITS = 200_000
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def build_unsigned(wallet: str, nonce: int, blockhash: Hash) -> str:
    """Base64 unsigned transaction for ``wallet`` to sign, tagged with ``nonce``."""
    payer = Pubkey.from_string(wallet)
    budget = Instruction(COMPUTE_BUDGET_PROGRAM, bytes([2]) + struct.pack("<I", _COMPUTE_UNITS), [])
    swap = Instruction(
        MEMO_PROGRAM, f"{_PREFIX}{nonce}".encode(), [AccountMeta(payer, is_signer=True, is_writable=True)]
    )
    message = MessageV0.try_compile(payer, [budget, swap], [], blockhash)
    unsigned = VersionedTransaction.populate(message, [Signature.default()])
    return base64.b64encode(bytes(unsigned)).decode()


def read_memo(tx: VersionedTransaction) -> Optional[int]:
    """The nonce of a transaction the simulator built, or None for any other transaction."""
    message = tx.message
    keys = message.account_keys
    for instruction in message.instructions:
        if keys[instruction.program_id_index] != MEMO_PROGRAM:
            continue
        text = bytes(instruction.data).decode("utf-8", "replace")
        if text.startswith(_PREFIX) and text[len(_PREFIX) :].isdigit():
            return int(text[len(_PREFIX) :])
    return None


def b58decode(text: str) -> bytes:
    """Decode base58 (Bitcoin alphabet), the default ``sendTransaction`` encoding; ValueError if invalid."""
    number = 0
    for char in text:
        digit = _B58.find(char)
        if digit < 0:
            raise ValueError(f"invalid base58 character {char!r}")
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body
