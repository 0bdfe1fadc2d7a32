"""One exception hierarchy for the whole package.

Every error the library raises on purpose derives from :class:`LaserSellError`, so a bot can
catch the library's failures with one ``except`` clause and still tell them apart by type.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "AuthenticationError",
    "ConnectError",
    "InvalidStrategyError",
    "LaserSellError",
    "ProtocolError",
    "SessionClosedError",
    "StreamServerError",
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


class ConnectError(LaserSellError):
    """The stream could not be (re)established: refused, DNS, TLS, timeout, closed early."""


class AuthenticationError(ConnectError):
    """The API key was rejected (HTTP 401/403 on the upgrade). Never retried.

    Attributes:
        status: the HTTP status, or ``None`` when the server said so with an ``error`` frame.
    """

    def __init__(self, message: str, *, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status


class StreamServerError(ConnectError):
    """The server answered the handshake with an ``error`` message instead of ``hello_ok``.

    Attributes:
        code: the server's machine-readable code (``wallet_not_registered``, ...).
        server_message: the server's human-readable detail.
    """

    def __init__(self, code: str, server_message: str) -> None:
        super().__init__(f"server error [{code}]: {server_message}")
        self.code = code
        self.server_message = server_message


class SessionClosedError(LaserSellError):
    """A command was issued after the stream was closed."""
