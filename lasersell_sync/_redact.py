"""Keep secrets out of logs, reprs and exception messages."""

from __future__ import annotations

from typing import Iterable, Optional

__all__ = ["mask", "redact"]


def mask(secret: Optional[str]) -> str:
    """A stand-in that shows a secret is set without revealing any of it."""
    return "<unset>" if not secret else "<redacted>"


def redact(text: str, secrets: Iterable[Optional[str]]) -> str:
    """``text`` with every occurrence of each secret replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text
