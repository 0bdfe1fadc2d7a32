"""Wallets: keypairs from every form users hold them in, the encrypted keystore, ownership proofs.

``keys`` loads solana-keygen files and base58 secret keys (and dispatches keystores by content);
``seed_phrase`` derives from BIP39 phrases; ``keystore`` reads and writes the official CLI's
encrypted file; ``proof`` signs the ``/v1/wallets/register`` proof. Seed phrases and keystores
need the ``keystore`` extra (``pip install 'lasersell_sync[keystore]'``). Nothing here touches
the network, and no error or log line carries a secret.
"""

from __future__ import annotations

from .keys import keypair_from_base58, load_keypair
from .keystore import PASSPHRASE_ENV, read_keystore, write_keystore
from .proof import WalletProof, ownership_message, prove_ownership
from .seed_phrase import DEFAULT_DERIVATION_PATH, keypair_from_seed_phrase

__all__ = [
    "DEFAULT_DERIVATION_PATH",
    "PASSPHRASE_ENV",
    "WalletProof",
    "keypair_from_base58",
    "keypair_from_seed_phrase",
    "load_keypair",
    "ownership_message",
    "prove_ownership",
    "read_keystore",
    "write_keystore",
]
