"""Keypairs from a BIP39 seed phrase, as Phantom and the official CLI derive them.

The phrase is checked against the BIP39 English word list and its checksum first, so a typo is
an error instead of a different, empty wallet. The 64-byte BIP39 seed is
PBKDF2-HMAC-SHA512(NFKD phrase, "mnemonic" + NFKD passphrase, 2048 rounds); the key is derived
from it along a SLIP-0010 ed25519 path (solders does the derivation). The word list comes from
Trezor's reference implementation, the ``mnemonic`` package (the ``keystore`` extra).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING, FrozenSet, List, Optional

from solders.keypair import Keypair

from ..errors import InvalidDerivationPathError, InvalidSeedPhraseError, MissingExtraError

if TYPE_CHECKING:
    from mnemonic import Mnemonic

__all__ = ["DEFAULT_DERIVATION_PATH", "WORD_COUNTS", "keypair_from_seed_phrase"]

DEFAULT_DERIVATION_PATH = "m/44'/501'/0'/0'"
"""The first account of Phantom and the official CLI; the next is ``m/44'/501'/1'/0'``."""
WORD_COUNTS = (12, 15, 18, 21, 24)
"""The lengths BIP39 defines (128 to 256 bits of entropy)."""
_HARDENED = 2**31
_COMPONENT = re.compile(r"([0-9]{1,10})(['hH]?)")
_MAX_PATH_CHARS = 256


@lru_cache(maxsize=1)
def _english() -> Mnemonic:
    from mnemonic import Mnemonic

    return Mnemonic("english")


@lru_cache(maxsize=1)
def _english_words() -> FrozenSet[str]:
    return frozenset(_english().wordlist)


def _require_mnemonic() -> None:
    """Return if the word list's package is importable; else a MissingExtraError naming the extra."""
    try:
        import mnemonic  # noqa: F401
    except ImportError:
        pass
    else:
        return
    raise MissingExtraError(
        "seed phrases need the BIP39 word list of the 'mnemonic' package: pip install 'lasersell_sync[keystore]'",
        extra="keystore",
    )


def _checked_words(phrase: str) -> List[str]:
    """The phrase's words, lower case, after the word-count, word-list and checksum checks.

    Errors say which word by position only: the word itself is part of the secret.
    """
    words = unicodedata.normalize("NFKD", phrase).lower().split()
    if len(words) not in WORD_COUNTS:
        raise InvalidSeedPhraseError(
            f"phrase has {len(words)} words; a BIP39 seed phrase has 12, 15, 18, 21 or 24", field="phrase"
        )
    _require_mnemonic()
    known = _english_words()
    unknown = [str(position) for position, word in enumerate(words, 1) if word not in known]
    if unknown:
        which = f"word {unknown[0]} is" if len(unknown) == 1 else f"words {', '.join(unknown)} are"
        raise InvalidSeedPhraseError(f"phrase {which} not in the BIP39 English word list", field="phrase")
    if not _english().check(" ".join(words)):
        raise InvalidSeedPhraseError("phrase fails the BIP39 checksum: a word is wrong or out of order", field="phrase")
    return words


def _checked_path(derivation_path: str) -> str:
    """``derivation_path`` in solders' spelling (``'`` for hardened), or an error naming the component."""
    if not isinstance(derivation_path, str):
        raise TypeError(f"derivation_path must be a str or None, got {type(derivation_path).__name__}")
    text = derivation_path.strip()
    parts = text.split("/")
    shown = text if len(text) <= 60 else text[:57] + "..."
    if len(text) > _MAX_PATH_CHARS or parts[0] != "m":
        raise InvalidDerivationPathError(
            f"derivation_path must look like {DEFAULT_DERIVATION_PATH!r}, got {shown!r}", field="derivation_path"
        )
    normalized = ["m"]
    for position, part in enumerate(parts[1:], 1):
        match = _COMPONENT.fullmatch(part)
        if match is None or int(match.group(1)) >= _HARDENED:
            raise InvalidDerivationPathError(
                f"derivation_path component {position} of {shown!r} must be an index below 2^31 such as 0'",
                field="derivation_path",
            )
        if not match.group(2):
            raise InvalidDerivationPathError(
                f"derivation_path component {position} of {shown!r} is not hardened: ed25519 (SLIP-0010) "
                f"derives hardened indexes only, write {part}'",
                field="derivation_path",
            )
        normalized.append(f"{int(match.group(1))}'")
    return "/".join(normalized)


def keypair_from_seed_phrase(
    phrase: str, *, passphrase: str = "", derivation_path: Optional[str] = DEFAULT_DERIVATION_PATH
) -> Keypair:
    """The keypair of a BIP39 seed phrase and optional passphrase (the "25th word").

    ``derivation_path`` defaults to the first account of Phantom and the official CLI;
    ``m/44'/501'/1'/0'`` is the second. Hardened indexes may be written ``0'`` or ``0h``.
    ``derivation_path=None`` takes no path: the first 32 bytes of the BIP39 seed, which is what
    ``solana-keygen new`` prints a phrase for (and ``solana-keygen recover`` reads by default).
    Words are matched case-insensitively; extra whitespace is ignored.

    Raises:
        TypeError: ``phrase`` or ``passphrase`` is not a str.
        InvalidSeedPhraseError: wrong word count, a word outside the list, or a bad checksum.
        InvalidDerivationPathError: not ``m/`` followed by hardened indexes.
        MissingExtraError: the ``mnemonic`` package is not installed
            (``pip install 'lasersell_sync[keystore]'``).

    Example:
        >>> keypair = keypair_from_seed_phrase(os.environ["WALLET_PHRASE"])
    """
    if not isinstance(phrase, str):
        raise TypeError(f"phrase must be a str, got {type(phrase).__name__}")
    if not isinstance(passphrase, str):
        raise TypeError(f"passphrase must be a str, got {type(passphrase).__name__}")
    path = None if derivation_path is None else _checked_path(derivation_path)
    words = _checked_words(phrase)
    seed = hashlib.pbkdf2_hmac(
        "sha512",
        " ".join(words).encode("utf-8"),
        ("mnemonic" + unicodedata.normalize("NFKD", passphrase)).encode("utf-8"),
        2048,
    )
    if path is None:
        return Keypair.from_seed(seed[:32])
    return Keypair.from_seed_and_derivation_path(seed, path)
