"""Real unsigned transactions for the signing, confirming and submitting tests, and the exit signals carrying them."""

from __future__ import annotations

import base64

from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

import lasersell_sync as ls


def unsigned_for(*signers: Keypair) -> str:
    """A real unsigned v0 transaction whose required signers are ``signers`` (first pays)."""
    payer = signers[0].pubkey()
    instructions = [
        transfer(TransferParams(from_pubkey=s.pubkey(), to_pubkey=Pubkey.new_unique(), lamports=5)) for s in signers
    ]
    message = MessageV0.try_compile(payer, instructions, [], Hash.new_unique())
    unsigned = VersionedTransaction.populate(message, [Signature.default()] * len(signers))
    return base64.b64encode(bytes(unsigned)).decode()


def foreign_signal(wallet: str, position_id: int, payer: Keypair) -> str:
    """An exit signal frame for ``wallet`` whose transaction makes ``payer`` pay: refused, never sent."""
    return ls.proto.encode_server(
        ls.ExitSignalWithTx(
            session_id=1,
            position_id=position_id,
            wallet_pubkey=wallet,
            mint=str(Pubkey.new_unique()),
            position_tokens=10,
            profit_units=0,
            reason="manual",
            triggered_at_ms=1,
            unsigned_tx_b64=unsigned_for(payer),
        )
    )
