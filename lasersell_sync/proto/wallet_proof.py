"""The body of ``POST /v1/wallets/register``: made by ``wallet``, sent by ``exit_api``.

It lives below both, so neither of those siblings imports the other.
"""

from __future__ import annotations

import attrs

__all__ = ["WalletProof"]


@attrs.frozen(kw_only=True)
class WalletProof:
    """Proof that the holder of a wallet's key asked to register it. Holds no secret."""

    wallet_pubkey: str
    signature: str
    message: str
