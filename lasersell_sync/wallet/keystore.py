"""The official CLI's encrypted keystore (version 1), read and written.

The file is one JSON object::

    {"version": 1, "pubkey": "<base58>",
     "kdf": {"name": "argon2id", "params": {"m_kib": 65536, "t": 3, "p": 1}, "salt_b64": "<16 bytes>"},
     "cipher": {"name": "xchacha20poly1305", "nonce_b64": "<24 bytes>", "ciphertext_b64": "<80 bytes>"}}

The ciphertext is the 64-byte keypair sealed with the associated data ``lasersell-keystore-v1``
under the Argon2id key of the passphrase. Every field is checked before any work is done, the
KDF parameters within bounds (a hostile file must not make the reader allocate gigabytes or spin
for minutes), and the decrypted key must be the one ``pubkey`` names. Needs the ``keystore`` extra.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from typing import Any, Dict, NamedTuple, Optional

from solders.keypair import Keypair

from .._checks import check_int, is_pubkey
from ..errors import KeystoreFormatError, PassphraseRequiredError, WrongPassphraseError
from . import _crypto
from ._files import PathLike, display_path, read_key_document, write_private_file
from ._secret import KEYPAIR_BYTES, keypair_from_halves

__all__ = [
    "DEFAULT_M_KIB",
    "DEFAULT_T",
    "KEYSTORE_AAD",
    "KEYSTORE_VERSION",
    "MAX_M_KIB",
    "MAX_T",
    "MIN_M_KIB",
    "PASSPHRASE_ENV",
    "open_keystore_document",
    "read_keystore",
    "write_keystore",
]

logger = logging.getLogger(__name__)

PASSPHRASE_ENV = "LASERSELL_WALLET_PASSPHRASE"
"""Read when no passphrase is passed, for headless bots (an empty value counts as unset)."""
KEYSTORE_VERSION = 1
KEYSTORE_AAD = b"lasersell-keystore-v1"
"""Associated data bound to the ciphertext: a version-1 ciphertext opens as nothing else."""
DEFAULT_M_KIB = 65536
"""Argon2id memory of new keystores (64 MiB), as the official CLI writes them."""
DEFAULT_T = 3
"""Argon2id passes of new keystores."""
MIN_M_KIB = 8
"""libsodium's smallest Argon2id memory."""
MAX_M_KIB = 1024 * 1024
"""1 GiB: the most memory a keystore may ask for (16 times the default)."""
MAX_T = 16
"""The most Argon2id passes a keystore may ask for (about 5 times the default)."""
_CIPHERTEXT_BYTES = KEYPAIR_BYTES + _crypto.TAG_BYTES


class _Sealed(NamedTuple):
    """A keystore's checked fields; nothing here is secret until the passphrase opens it."""

    pubkey: str
    m_kib: int
    t: int
    salt: bytes
    nonce: bytes
    ciphertext: bytes


def _bad(where: str, field: str, problem: str) -> KeystoreFormatError:
    return KeystoreFormatError(f"cannot read the keystore {where}: {field} {problem}", path=where, field=field)


def _shown(value: Any) -> str:
    """A short rendering of a non-secret field value for messages."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _object(parent: Dict[str, Any], key: str, field: str, where: str) -> Dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise _bad(where, field, "must be a JSON object" if key in parent else "is missing")
    return value


def _name(section: Dict[str, Any], field: str, expected: str, where: str) -> None:
    value = section.get("name")
    if value != expected:
        raise _bad(where, field, f"must be {expected!r} (the only one version 1 uses), got {_shown(value)}")


def _int(section: Dict[str, Any], key: str, field: str, low: int, high: int, where: str, why: str = "") -> int:
    value = section.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(where, field, f"must be an integer, got {_shown(value)}")
    if not low <= value <= high:
        bounds = f"{low}" if low == high else f"within {low}..{high}"
        raise _bad(where, field, f"must be {bounds}{why}, got {value}")
    return value


def _bytes(section: Dict[str, Any], key: str, field: str, size: int, where: str) -> bytes:
    """A base64 field (standard alphabet; missing padding tolerated) of exactly ``size`` bytes."""
    value = section.get(key)
    if not isinstance(value, str):
        raise _bad(where, field, "must be a base64 string" if key in section else "is missing")
    raw: Optional[bytes]
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        raw = None
    if raw is None:
        raise _bad(where, field, "is not valid base64")
    if len(raw) != size:
        raise _bad(where, field, f"must decode to {size} bytes, got {len(raw)}")
    return raw


def _parse(document: Dict[str, Any], where: str) -> _Sealed:
    """Every field of a version-1 keystore, checked; a KeystoreFormatError names the first bad one."""
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise _bad(where, "version", f"must be an integer, got {_shown(version)}")
    if version != KEYSTORE_VERSION:
        raise _bad(where, "version", f"{version} is not supported (this SDK reads version {KEYSTORE_VERSION})")
    pubkey = document.get("pubkey")
    if not is_pubkey(pubkey):
        raise _bad(where, "pubkey", "must be a base58 public key")
    kdf = _object(document, "kdf", "kdf", where)
    _name(kdf, "kdf.name", "argon2id", where)
    params = _object(kdf, "params", "kdf.params", where)
    m_kib = _int(params, "m_kib", "kdf.params.m_kib", MIN_M_KIB, MAX_M_KIB, where)
    t = _int(params, "t", "kdf.params.t", 1, MAX_T, where)
    _int(params, "p", "kdf.params.p", 1, 1, where, why=" (libsodium's Argon2id runs one lane)")
    salt = _bytes(kdf, "salt_b64", "kdf.salt_b64", _crypto.SALT_BYTES, where)
    cipher = _object(document, "cipher", "cipher", where)
    _name(cipher, "cipher.name", "xchacha20poly1305", where)
    nonce = _bytes(cipher, "nonce_b64", "cipher.nonce_b64", _crypto.NONCE_BYTES, where)
    ciphertext = _bytes(cipher, "ciphertext_b64", "cipher.ciphertext_b64", _CIPHERTEXT_BYTES, where)
    return _Sealed(pubkey, m_kib, t, salt, nonce, ciphertext)


def _passphrase(given: Optional[str], where: str) -> str:
    """The passphrase argument, else ``$LASERSELL_WALLET_PASSPHRASE``, else a PassphraseRequiredError."""
    if given is not None:
        if not isinstance(given, str):
            raise TypeError(f"passphrase must be a str or None, got {type(given).__name__}")
        return given
    from_environment = os.environ.get(PASSPHRASE_ENV)
    if from_environment:
        return from_environment
    raise PassphraseRequiredError(
        f"{where} is an encrypted keystore: pass its passphrase (passphrase=...) or set {PASSPHRASE_ENV}",
        path=where,
        field="passphrase",
    )


def open_keystore_document(document: Dict[str, Any], *, where: str, passphrase: Optional[str]) -> Keypair:
    """The keypair sealed in a parsed keystore ``document`` (``where`` names it in messages)."""
    sealed = _parse(document, where)
    _crypto.require_nacl(where)
    secret = _passphrase(passphrase, where)
    key = _crypto.derive_key(secret, sealed.salt, m_kib=sealed.m_kib, t=sealed.t)
    plaintext = _crypto.unseal(key, sealed.nonce, sealed.ciphertext, KEYSTORE_AAD)
    if plaintext is None:
        raise WrongPassphraseError(
            f"cannot decrypt the keystore {where}: wrong passphrase, or the keystore was modified", path=where
        )
    keypair = keypair_from_halves(plaintext)
    if keypair is None:
        raise _bad(where, "cipher.ciphertext_b64", "holds a keypair whose public half does not match its secret half")
    if str(keypair.pubkey()) != sealed.pubkey:
        raise _bad(where, "pubkey", "does not match the decrypted key: the keystore was modified")
    logger.debug("opened the keystore %s (wallet %s)", where, sealed.pubkey)
    return keypair


def read_keystore(path: PathLike, passphrase: Optional[str] = None) -> Keypair:
    """The keypair in the keystore at ``path``, opened with ``passphrase`` (default: the environment).

    The Argon2id parameters are the file's own (bounded by ``MAX_M_KIB`` and ``MAX_T``).

    Raises:
        InvalidKeyError: the file cannot be read.
        KeystoreFormatError: not a version-1 keystore, or a field is malformed (the error's
            ``field`` names it), or ``pubkey`` does not match the key inside.
        PassphraseRequiredError: no passphrase given and ``LASERSELL_WALLET_PASSPHRASE`` unset.
        WrongPassphraseError: the passphrase is wrong, or the file was tampered with.
        MissingExtraError: PyNaCl is not installed (``pip install 'lasersell_sync[keystore]'``).

    Example:
        >>> keypair = read_keystore("wallet.keystore.json", passphrase=getpass.getpass())
    """
    where = display_path(path)
    document = read_key_document(path)
    if not isinstance(document, dict):
        raise KeystoreFormatError(
            f"cannot read the keystore {where}: not a keystore (expected a JSON object)", path=where
        )
    return open_keystore_document(document, where=where, passphrase=passphrase)


def write_keystore(
    path: PathLike, keypair: Keypair, passphrase: str, *, m_kib: int = DEFAULT_M_KIB, t: int = DEFAULT_T
) -> None:
    """Encrypt ``keypair`` under ``passphrase`` into a version-1 keystore at ``path``.

    Fresh random salt and nonce each time; the file is replaced atomically and is mode 0600 from
    its creation. ``m_kib`` and ``t`` (Argon2id memory in KiB and passes) default to the official
    CLI's; lower them only for tests.

    Raises:
        TypeError: ``keypair`` is not a solders Keypair, or ``passphrase`` not a str.
        ValueError: an empty ``passphrase``, or ``m_kib``/``t`` out of bounds.
        MissingExtraError: PyNaCl is not installed (``pip install 'lasersell_sync[keystore]'``).
        OSError: the file cannot be written (nothing is left behind).

    Example:
        >>> write_keystore("wallet.keystore.json", keypair_from_base58(exported), getpass.getpass())
    """
    where = display_path(path)
    if not isinstance(keypair, Keypair):
        raise TypeError(f"keypair must be a solders Keypair, got {type(keypair).__name__}")
    if not isinstance(passphrase, str):
        raise TypeError(f"passphrase must be a str, got {type(passphrase).__name__}")
    if not passphrase:
        raise ValueError("passphrase must not be empty: a keystore with no passphrase protects nothing")
    check_int(m_kib, "m_kib", MIN_M_KIB, MAX_M_KIB)
    check_int(t, "t", 1, MAX_T)
    _crypto.require_nacl(where)
    salt = os.urandom(_crypto.SALT_BYTES)
    nonce = os.urandom(_crypto.NONCE_BYTES)
    key = _crypto.derive_key(passphrase, salt, m_kib=m_kib, t=t)
    ciphertext = _crypto.seal(key, nonce, bytes(keypair), KEYSTORE_AAD)
    document = {
        "version": KEYSTORE_VERSION,
        "pubkey": str(keypair.pubkey()),
        "kdf": {"name": "argon2id", "params": {"m_kib": m_kib, "t": t, "p": 1}, "salt_b64": _b64(salt)},
        "cipher": {"name": "xchacha20poly1305", "nonce_b64": _b64(nonce), "ciphertext_b64": _b64(ciphertext)},
    }
    write_private_file(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    logger.debug("wrote the keystore %s (wallet %s)", where, document["pubkey"])


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
