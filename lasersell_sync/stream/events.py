"""What the transport reports besides messages: lifecycle changes and frames it could not use."""

from __future__ import annotations

from typing import Optional, Union

import attrs

from ..proto import ClientMessage, HelloOk

__all__ = ["BadFrame", "Closed", "CommandRejected", "Connected", "Disconnected", "Reconnecting", "TransportEvent"]


@attrs.frozen(kw_only=True)
class Connected:
    """``hello_ok`` received; queued commands were flushed just before this event."""

    hello: HelloOk
    reconnect: bool


@attrs.frozen(kw_only=True)
class Disconnected:
    """The connection broke. ``will_reconnect`` is False when the session is ending."""

    reason: str
    error: Optional[BaseException] = attrs.field(default=None, eq=False)
    will_reconnect: bool = True


@attrs.frozen(kw_only=True)
class Reconnecting:
    """About to wait ``delay`` seconds, then try attempt number ``attempt``.

    ``last_error`` is why the previous attempt of this outage failed (None before the first).
    """

    attempt: int
    delay: float
    last_error: Optional[BaseException] = attrs.field(default=None, eq=False)


@attrs.frozen(kw_only=True)
class Closed:
    """The transport stopped for good; ``error`` is why, if it was not a ``close()`` call."""

    error: Optional[BaseException] = attrs.field(default=None, eq=False)


@attrs.frozen(kw_only=True)
class BadFrame:
    """A frame that was reported and skipped: undecodable, binary, or too large."""

    error: Exception = attrs.field(eq=False)


@attrs.frozen(kw_only=True)
class CommandRejected:
    """The server answered an intent command with ``error``; the intent was rolled back."""

    command: ClientMessage
    code: str
    message: str


TransportEvent = Union[Connected, Disconnected, Reconnecting, Closed, BadFrame, CommandRejected]
