"""Checks shared by the key tests: a keypair really signs for a key, and errors show no secret."""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Type, TypeVar

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature


def everything_shown(exc: BaseException) -> str:
    """All an exception shows (str, repr, args, attributes); it must carry no cause or context.

    Its traceback's lines are source code, not values, so they are not searched here (a test's own
    source would be quoted there).
    """
    assert exc.__cause__ is None, repr(exc.__cause__)
    assert exc.__context__ is None, repr(exc.__context__)
    return "\n".join([str(exc), repr(exc), repr(exc.args), repr(vars(exc))])


E = TypeVar("E", bound=BaseException)
PASSPHRASE = "hunter2-passphrase"
"""A secret that must never show in an error."""


def raises_without(kind: Type[E], call: Callable[[], Any], secrets: List[str], match: Optional[str] = None) -> E:
    """``call()`` raises ``kind`` (matching ``match``), showing none of ``secrets`` anywhere."""
    with pytest.raises(kind, match=match) as info:
        call()
    text = everything_shown(info.value)
    for secret in secrets:
        assert secret not in text, f"{secret!r} shown by {kind.__name__}"
    return info.value


def assert_signs_for(keypair: Keypair, pubkey: str) -> None:
    """A real signature by ``keypair`` verifies against ``pubkey`` (and not against another key)."""
    message = b"lasersell keys test"
    signature = keypair.sign_message(message)
    assert signature.verify(Pubkey.from_string(pubkey), message)
    assert not Signature.from_string(str(signature)).verify(Keypair().pubkey(), message)
