"""One exception hierarchy for the whole package.

Every error the library raises on purpose derives from :class:`LaserSellError`, so a bot can
catch the library's failures with one ``except`` clause and still tell them apart by type.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "InvalidStrategyError",
    "LaserSellError",
    "ProtocolError",
]


class LaserSellError(Exception):
    """Base class of every error raised by ``lasersell_sync``."""


class ProtocolError(LaserSellError, ValueError):
    """A frame or message that does not follow the LaserSell wire protocol.

    Attributes:
        message_type: the ``type`` of the offending message, when it could be read.
        field: dotted path of the first offending field (``limits.hi_capacity``,
            ``bands[2].slippage_bps``), when the problem is a field.
    """

    def __init__(
        self,
        message: str,
        *,
        message_type: Optional[str] = None,
        field: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message_type = message_type
        self.field = field


class InvalidStrategyError(LaserSellError, ValueError):
    """A strategy (or deadline) that the client refuses to send, with the reason."""
