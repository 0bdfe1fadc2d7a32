"""The 64-byte Solana keypair every format ends in: base58 decoding and the check of its two halves.

A Solana keypair is the 32-byte ed25519 secret (seed) followed by the 32-byte public key it
derives. A file or string whose halves disagree is refused rather than trusted either way: signing
with one half while the other is shown as the wallet would send funds to the wrong place.
"""

from __future__ import annotations

from typing import Optional

from solders.keypair import Keypair

__all__ = ["BASE58_ALPHABET", "KEYPAIR_BYTES", "b58decode", "keypair_from_halves"]

KEYPAIR_BYTES = 64
"""Secret key (32 bytes) then public key (32 bytes), as solana-keygen and Phantom store them."""
BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_DIGITS = {char: value for value, char in enumerate(BASE58_ALPHABET)}


def b58decode(text: str) -> Optional[bytes]:
    """The bytes ``text`` encodes in Bitcoin's base58, or None if a character is outside the alphabet.

    Which character is not said anywhere: the text is a secret. Callers bound the length first.
    """
    number = 0
    for char in text:
        digit = _DIGITS.get(char)
        if digit is None:
            return None
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))  # each leading "1" is a leading zero byte
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def keypair_from_halves(raw: bytes) -> Optional[Keypair]:
    """The keypair of a 64-byte secret key, or None when its public half is not the secret half's."""
    if len(raw) != KEYPAIR_BYTES:
        return None
    keypair = Keypair.from_seed(raw[:32])
    return keypair if bytes(keypair.pubkey()) == raw[32:] else None
