"""Wallet ownership proofs for ``/v1/wallets/register``: signed locally, no network, no secret inside."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional, Union

from solders.keypair import Keypair

from .proto.wallet_proof import WalletProof

__all__ = ["WalletProof", "load_keypair", "ownership_message", "prove_ownership"]


def ownership_message(wallet_pubkey: str, timestamp: int) -> str:
    """The exact text the server verifies: ``lasersell-register:<pubkey>:<unix seconds>``."""
    return f"lasersell-register:{wallet_pubkey}:{timestamp}"


def prove_ownership(keypair: Keypair, timestamp: Optional[int] = None) -> WalletProof:
    """Sign the registration message with the wallet's key.

    The server accepts a proof within 5 minutes of ``timestamp`` (default: now).

    Example:
        >>> proof = prove_ownership(Keypair.from_json(open("id.json").read()))
        >>> ExitApiClient(api_key).register_wallet(proof)
    """
    if not isinstance(keypair, Keypair):
        raise TypeError(f"keypair must be a solders Keypair, got {type(keypair).__name__}")
    pubkey = str(keypair.pubkey())
    message = ownership_message(pubkey, int(time.time()) if timestamp is None else int(timestamp))
    signature = keypair.sign_message(message.encode("utf-8"))
    return WalletProof(wallet_pubkey=pubkey, signature=str(signature), message=message)


def load_keypair(path: Union[str, Path]) -> Keypair:
    """Read a ``solana-keygen`` JSON file (an array of 64 integers: secret, then public key).

    Errors name the file, never its contents.
    """
    try:
        values = json.loads(Path(path).read_text())
        if not isinstance(values, list) or len(values) != 64:
            raise ValueError("expected an array of 64 integers")
        return Keypair.from_bytes(bytes(values))
    except (OSError, ValueError, TypeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a solana-keygen keypair file"
        raise ValueError(f"cannot load a keypair from {path}: {reason}") from None
