"""Wallet ownership proofs for ``/v1/wallets/register``: signed locally, no network, no secret inside."""

from __future__ import annotations

import time
from typing import Optional

from solders.keypair import Keypair

from ..proto.wallet_proof import WalletProof

__all__ = ["WalletProof", "ownership_message", "prove_ownership"]


def ownership_message(wallet_pubkey: str, timestamp: int) -> str:
    """The exact text the server verifies: ``lasersell-register:<pubkey>:<unix seconds>``."""
    return f"lasersell-register:{wallet_pubkey}:{timestamp}"


def prove_ownership(keypair: Keypair, timestamp: Optional[int] = None) -> WalletProof:
    """Sign the registration message with the wallet's key.

    The server accepts a proof within 5 minutes of ``timestamp`` (default: now).

    Example:
        >>> proof = prove_ownership(load_keypair("id.json"))
        >>> ExitApiClient(api_key).register_wallet(proof)
    """
    if not isinstance(keypair, Keypair):
        raise TypeError(f"keypair must be a solders Keypair, got {type(keypair).__name__}")
    pubkey = str(keypair.pubkey())
    message = ownership_message(pubkey, int(time.time()) if timestamp is None else int(timestamp))
    signature = keypair.sign_message(message.encode("utf-8"))
    return WalletProof(wallet_pubkey=pubkey, signature=str(signature), message=message)
