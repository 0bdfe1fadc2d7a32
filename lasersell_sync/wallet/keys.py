"""Keypairs from the forms users already hold: a solana-keygen file, a keystore, a base58 secret.

Every path ends in the same check: 64 bytes whose public half is the one the secret half derives.
Errors name the file or the argument, never the key. Note that a solders ``Keypair`` is not
secret-safe itself: ``str(keypair)`` is the base58 secret key (its repr shows only the public
half, in this solders), so log ``keypair.pubkey()``, never the keypair.
"""

from __future__ import annotations

from typing import Any, List, Optional

from solders.keypair import Keypair

from ..errors import InvalidKeyError
from ._files import PathLike, display_path, read_key_document
from ._secret import KEYPAIR_BYTES, b58decode, keypair_from_halves
from .keystore import open_keystore_document

__all__ = ["MAX_BASE58_CHARS", "keypair_from_base58", "load_keypair"]

MAX_BASE58_CHARS = 128
"""Longer than any 64-byte key in base58 (at most 88 characters); longer input is not decoded."""

_KEYGEN = "not a solana-keygen keypair file"


def keypair_from_base58(secret: str) -> Keypair:
    """The keypair of a 64-byte secret key in base58, the form Phantom's "export private key" gives.

    A 32-byte value is refused: it is a public key as often as a bare seed, and taking a pasted
    address for a seed would silently make a new, empty wallet. Surrounding whitespace is ignored.

    Raises:
        TypeError: ``secret`` is not a str.
        InvalidKeyError: not base58, not 64 bytes, or a public half that is not the secret half's.

    Example:
        >>> keypair = keypair_from_base58(os.environ["WALLET_SECRET_B58"])
    """
    if not isinstance(secret, str):
        raise TypeError(f"secret must be a base58 str, got {type(secret).__name__}")
    text = secret.strip()
    if len(text) > MAX_BASE58_CHARS:
        raise InvalidKeyError(
            f"secret is {len(text)} characters long; a 64-byte key in base58 is at most 88", field="secret"
        )
    raw = b58decode(text)
    if raw is None:
        raise InvalidKeyError("secret is not base58 (it has a character outside the alphabet)", field="secret")
    if len(raw) == 32:
        raise InvalidKeyError(
            "secret decodes to 32 bytes: that is a public key or a bare seed, not a secret key; "
            "export the full 64-byte secret key (about 88 characters)",
            field="secret",
        )
    if len(raw) != KEYPAIR_BYTES:
        raise InvalidKeyError(
            f"secret decodes to {len(raw)} bytes, expected {KEYPAIR_BYTES} (secret key, then public key)",
            field="secret",
        )
    keypair = keypair_from_halves(raw)
    if keypair is None:
        raise InvalidKeyError(
            "secret is not a Solana keypair: its public half does not match its secret half", field="secret"
        )
    return keypair


def _from_keygen_array(values: List[Any], where: str) -> Keypair:
    """The keypair of a solana-keygen array, or an InvalidKeyError that never quotes its numbers."""
    if len(values) != KEYPAIR_BYTES:
        reason = f"{_KEYGEN} (expected an array of {KEYPAIR_BYTES} integers, got {len(values)})"
    elif not all(type(value) is int and 0 <= value <= 255 for value in values):
        reason = f"{_KEYGEN} (expected integers 0..255)"
    else:
        keypair = keypair_from_halves(bytes(values))
        if keypair is not None:
            return keypair
        reason = f"{_KEYGEN} (the last 32 numbers are not the public key of the first 32)"
    raise InvalidKeyError(f"cannot load a keypair from {where}: {reason}", path=where)


def load_keypair(path: PathLike, *, passphrase: Optional[str] = None) -> Keypair:
    """The keypair in a file: a solana-keygen JSON array of 64 integers, or an encrypted keystore.

    The kind is told by content. A keystore (a JSON object, see :func:`read_keystore`) is opened
    with ``passphrase``, else ``$LASERSELL_WALLET_PASSPHRASE``.

    Raises:
        InvalidKeyError: unreadable, or not a keypair file (the message names the file only).
        KeystoreFormatError, PassphraseRequiredError, WrongPassphraseError, MissingExtraError:
            as :func:`read_keystore` raises them for a keystore.

    Example:
        >>> keypair = load_keypair(Path.home() / ".config/solana/id.json")
    """
    where = display_path(path)
    document = read_key_document(path)
    if isinstance(document, dict):
        return open_keystore_document(document, where=where, passphrase=passphrase)
    if isinstance(document, list):
        return _from_keygen_array(document, where)
    raise InvalidKeyError(
        f"cannot load a keypair from {where}: {_KEYGEN} (a JSON array of 64 integers) nor a keystore (a JSON object)",
        path=where,
    )
