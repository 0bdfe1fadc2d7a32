"""The keystore's two primitives, from libsodium through PyNaCl (the ``keystore`` extra).

Argon2id v1.3 turns the passphrase into a 32-byte key; XChaCha20-Poly1305 (IETF) seals the 64-byte
keypair under it with a fixed associated-data string. libsodium runs Argon2id with one lane, so
it computes exactly the standard function for ``p = 1`` and nothing else. PyNaCl is imported
when a keystore is first used, so the package imports without it.
"""

from __future__ import annotations

from typing import Optional

from ..errors import MissingExtraError

__all__ = ["KEY_BYTES", "NONCE_BYTES", "SALT_BYTES", "TAG_BYTES", "derive_key", "require_nacl", "seal", "unseal"]

KEY_BYTES = 32
SALT_BYTES = 16
NONCE_BYTES = 24
TAG_BYTES = 16
INSTALL_HINT = "pip install 'lasersell_sync[keystore]'"


def require_nacl(where: Optional[str] = None) -> None:
    """Return if PyNaCl is importable; else a MissingExtraError that says how to install it."""
    try:
        import nacl.bindings  # noqa: F401
    except ImportError:
        pass
    else:
        return
    subject = f"the keystore {where}" if where else "a keystore"
    raise MissingExtraError(
        f"reading or writing {subject} needs PyNaCl (libsodium): {INSTALL_HINT}", extra="keystore", path=where
    )


def derive_key(passphrase: str, salt: bytes, *, m_kib: int, t: int) -> bytes:
    """Argon2id (one lane) of the UTF-8 passphrase: the 32-byte key that seals the keypair."""
    from nacl.pwhash import argon2id

    return argon2id.kdf(KEY_BYTES, passphrase.encode("utf-8"), salt, opslimit=t, memlimit=m_kib * 1024)


def seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """XChaCha20-Poly1305 ciphertext of ``plaintext`` with its 16-byte tag appended."""
    from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_encrypt

    return crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)


def unseal(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> Optional[bytes]:
    """The plaintext, or None when the tag does not verify (wrong key, or any byte changed)."""
    from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt
    from nacl.exceptions import CryptoError

    try:
        return crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, aad, nonce, key)
    except CryptoError:
        return None
