"""The wire's scalar vocabulary: sized integers and field presence rules.

The protocol is defined by a Rust crate, so amounts are u64/i64/u32/u16/u8. In Python they are
plain ``int`` (mypy sees ``int``); the ``Annotated`` bound is what the codec checks on decode, so a
negative ``proceeds_units`` or a ``slippage_bps`` of 70000 is rejected, never wrapped or floated.
The u64 ceiling is the one the input checks use (``lasersell_sync._checks``), defined there once.

Field presence (required, optional, defaulted) is declared next to each field with the helpers below:

* required (**R**): a plain annotation with no default;
* optional (**O**): :func:`optional`, ``None`` when absent or ``null``, omitted on encode;
* defaulted (**D**): a plain default, always written;
* defaulted and omitted at its default: :func:`omit_default`.
"""

from __future__ import annotations

from typing import Annotated, Any, Tuple

import attrs

from .._checks import U64_MAX

__all__ = [
    "ALIASES",
    "CATCH_ALL",
    "I64",
    "OMIT_IF_DEFAULT",
    "U8",
    "U16",
    "U32",
    "U64",
    "WIRE_DEFAULT",
    "IntBounds",
    "OneOrMany",
    "WalletList",
    "aliased",
    "omit_default",
    "optional",
    "unknown_keys",
    "wire_default",
]


@attrs.frozen
class IntBounds:
    """Inclusive range of a sized wire integer, with the Rust name used in error messages."""

    name: str
    low: int
    high: int


U64 = Annotated[int, IntBounds("u64", 0, U64_MAX)]
I64 = Annotated[int, IntBounds("i64", -(2**63), 2**63 - 1)]
U32 = Annotated[int, IntBounds("u32", 0, 2**32 - 1)]
U16 = Annotated[int, IntBounds("u16", 0, 2**16 - 1)]
U8 = Annotated[int, IntBounds("u8", 0, 2**8 - 1)]


class OneOrMany:
    """Marks a string list that also decodes from a single JSON string (``wallet_pubkeys``)."""


WalletList = Annotated[Tuple[str, ...], OneOrMany()]

# Field metadata keys, read by the converter.
OMIT_IF_DEFAULT = "lasersell_omit_if_default"
WIRE_DEFAULT = "lasersell_wire_default"
ALIASES = "lasersell_aliases"
CATCH_ALL = "lasersell_catch_all"


def optional() -> Any:
    """An **O** field: ``None`` when absent or ``null``; omitted from the JSON when ``None``."""
    return attrs.field(default=None, metadata={OMIT_IF_DEFAULT: True})


def aliased(*aliases: str) -> Any:
    """A required field that also decodes from legacy key names (never written)."""
    return attrs.field(metadata={ALIASES: aliases})


def omit_default(default: Any) -> Any:
    """A **D** field that the wire omits while it holds its default (``watched: false``)."""
    if isinstance(default, tuple):
        return attrs.field(factory=tuple, metadata={OMIT_IF_DEFAULT: True})
    return attrs.field(default=default, metadata={OMIT_IF_DEFAULT: True})


def wire_default(default: Any, *, absent: Any) -> Any:
    """A **D** field whose Python default differs from what an absent key means on the wire.

    Used by ``MirrorConfig``: a user who builds one gets the documented server defaults, while
    decoding a message without the key yields the protocol's zero, as the server reads it.
    """
    return attrs.field(default=default, metadata={WIRE_DEFAULT: absent})


def unknown_keys() -> Any:
    """A ``Dict[str, Any]`` that collects the keys this release does not know, to write back."""
    return attrs.field(factory=dict, hash=False, metadata={CATCH_ALL: True})
