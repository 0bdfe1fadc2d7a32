"""Real unsigned transactions for simulated exits: a memo the simulated RPC can settle.

The transaction is a genuine ``VersionedTransaction`` (v0) whose fee payer and only signer is
the position's wallet, so bots sign it exactly as they would a real exit.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Optional, Tuple

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

__all__ = ["MEMO_PROGRAM", "build_unsigned", "read_memo"]

MEMO_PROGRAM = Pubkey.from_string("Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo")  # SPL Memo v1
_PREFIX = "lasersell-sim"


def build_unsigned(wallet: str, kind: str, position_id: int, tokens: int, nonce: int) -> str:
    """Base64 unsigned transaction carrying ``lasersell-sim:<kind>:<position>:<tokens>``."""
    payer = Pubkey.from_string(wallet)
    memo = f"{_PREFIX}:{kind}:{position_id}:{tokens}".encode()
    instruction = Instruction(MEMO_PROGRAM, memo, [AccountMeta(payer, is_signer=True, is_writable=True)])
    blockhash = Hash(hashlib.sha256(f"{wallet}:{nonce}".encode()).digest())
    message = MessageV0.try_compile(payer, [instruction], [], blockhash)
    unsigned = VersionedTransaction.populate(message, [Signature.default()])
    return base64.b64encode(bytes(unsigned)).decode()


def read_memo(tx: VersionedTransaction) -> Optional[Tuple[str, int, int]]:
    """``(kind, position_id, tokens)`` from a simulator transaction, or None."""
    message = tx.message
    keys = message.account_keys
    for instruction in message.instructions:
        if keys[instruction.program_id_index] != MEMO_PROGRAM:
            continue
        parts = bytes(instruction.data).decode("utf-8", "replace").split(":")
        if len(parts) == 4 and parts[0] == _PREFIX and parts[2].isdigit() and parts[3].isdigit():
            return parts[1], int(parts[2]), int(parts[3])
    return None
