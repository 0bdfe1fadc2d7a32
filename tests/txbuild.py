"""Real unsigned transactions for the signing, confirming and submitting tests."""

from __future__ import annotations

import base64

from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction


def unsigned_for(*signers: Keypair) -> str:
    """A real unsigned v0 transaction whose required signers are ``signers`` (first pays)."""
    payer = signers[0].pubkey()
    instructions = [
        transfer(TransferParams(from_pubkey=s.pubkey(), to_pubkey=Pubkey.new_unique(), lamports=5)) for s in signers
    ]
    message = MessageV0.try_compile(payer, instructions, [], Hash.new_unique())
    unsigned = VersionedTransaction.populate(message, [Signature.default()] * len(signers))
    return base64.b64encode(bytes(unsigned)).decode()
