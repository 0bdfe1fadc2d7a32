"""Input checks and the bounds they enforce: the one place a bad argument becomes a ValueError.

The session's commands (``stream.commands``) and the Exit API requests (``exit_api.models``)
check their arguments here before anything is sent, so a bad amount or a malformed public key
costs no round trip. The sized-integer ranges the codec enforces on the wire
(``proto.scalars``) are built from the bounds defined here, so each bound is written once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Collection, Optional

from solders.keypair import Keypair
from solders.pubkey import Pubkey

if TYPE_CHECKING:  # typing.TypeGuard is 3.10+; annotations are not evaluated at runtime
    from typing_extensions import TypeGuard

__all__ = [
    "MAX_SLIPPAGE_BPS",
    "SEND_MODES",
    "U64_MAX",
    "check_choice",
    "check_int",
    "check_pubkey",
    "describe",
]

U64_MAX = 2**64 - 1
"""The largest u64: amounts, lamports and position ids on the wire."""
MAX_SLIPPAGE_BPS = 10_000
"""100 %: the widest slippage a command or a request may ask for."""
SEND_MODES = frozenset({"rpc", "helius_sender", "astralane"})
"""How the client submits transactions, so the server can shape the ones it builds."""


def is_pubkey(value: Any) -> TypeGuard[str]:
    """Whether ``value`` is a base58 Solana public key string."""
    if not isinstance(value, str) or not value:
        return False
    try:
        Pubkey.from_string(value)
    except ValueError:
        return False
    return True


def check_pubkey(value: Any, what: str) -> str:
    """``value`` as a base58 string if it is a Solana public key (a string or a solders
    ``Pubkey``); else a ValueError naming ``what``, which never quotes anything that may be a
    secret."""
    if isinstance(value, Pubkey):
        return str(value)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a base58 public key string, got {describe(value)}")
    if not is_pubkey(value):
        raise ValueError(f"{what} is not a valid Solana public key: {_quoted(value)}")
    return value


def describe(value: Any) -> str:
    """What a value is, without its repr (a key object's repr is its bytes)."""
    if value is None or value == "":
        return repr(value)
    if isinstance(value, Keypair):
        return "a solders Keypair: pass its public key, keypair.pubkey()"
    return type(value).__name__


def _quoted(value: str) -> str:
    """A bad address as typed, if it could only be a mistyped address; else only its length."""
    if 32 <= len(value) <= 44 and all(c in _BASE58 for c in value):
        return repr(value)
    note = "; a base58 secret key is that long: never pass one here" if len(value) in (87, 88) else ""
    return f"a string of {len(value)} characters (a public key has 32 to 44){note}"


_BASE58 = frozenset("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")


def check_int(value: Any, what: str, low: int, high: int) -> int:
    """``value`` if it is an int (not a bool) within ``low..high``; else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{what} must be within {low}..{high}, got {value}")
    return value


def check_choice(value: Any, what: str, allowed: Collection[str], *, suffix: str = "") -> Optional[str]:
    """``value`` if it is None or one of ``allowed`` (an enum member by its value); else a ValueError.

    ``suffix`` ends the message (`` or None`` where None is documented as "the server's default").
    """
    if value is not None and str(getattr(value, "value", value)) not in allowed:
        raise ValueError(f"{what} must be one of {sorted(allowed)}{suffix}, got {value!r}")
    return value  # type: ignore[no-any-return]
