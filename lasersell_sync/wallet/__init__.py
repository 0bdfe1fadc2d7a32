"""Wallets: keypairs from every form users hold them in, the encrypted keystore, ownership proofs.

``keys`` loads solana-keygen files and base58 secret keys (and dispatches keystores by content);
``seed_phrase`` derives from BIP39 phrases; ``keystore`` reads and writes the official CLI's
encrypted file; ``proof`` signs the ``/v1/wallets/register`` proof. Seed phrases and keystores
need the ``keystore`` extra (``pip install 'lasersell_sync[keystore]'``). Nothing here touches
the network, and no error or log line carries a secret.
"""

from __future__ import annotations

from .._exports import public_names as _public_names
from .keys import keypair_from_base58 as keypair_from_base58, load_keypair as load_keypair
from .keystore import PASSPHRASE_ENV as PASSPHRASE_ENV, read_keystore as read_keystore, write_keystore as write_keystore
from .proof import (
    WalletProof as WalletProof,
    ownership_message as ownership_message,
    prove_ownership as prove_ownership,
)
from .seed_phrase import (
    DEFAULT_DERIVATION_PATH as DEFAULT_DERIVATION_PATH,
    keypair_from_seed_phrase as keypair_from_seed_phrase,
)

__all__ = _public_names(globals())
