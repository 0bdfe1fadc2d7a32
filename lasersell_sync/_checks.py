"""Input checks and the bounds they enforce: the one place a bad argument becomes a ValueError.

The session's commands (``stream.commands``) and the Exit API requests (``exit_api.models``)
check their arguments here before anything is sent, so a bad amount or a malformed public key
costs no round trip. The sized-integer ranges the codec enforces on the wire
(``proto.scalars``) are built from the bounds defined here, so each bound is written once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Collection, Optional

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
    """``value`` if it is a base58 Solana public key; else a ValueError naming ``what``."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a base58 public key string, got {value!r}")
    if not is_pubkey(value):
        raise ValueError(f"{what} is not a valid Solana public key: {value!r}")
    return value


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
