"""Events that are not server messages, shared by every room of ``stream/``.

The transport's lifecycle changes and the frames it could not use, and the exit executor's
outcomes. They sit below the transport, the dispatcher and the executor, so each can name them
without importing another. The outcomes reach handlers (``session.on(ls.ExitLanded)`` or
``"exit_landed"``), ``on_any`` and ``events()`` in the high-priority lane, ordered with the
position's other events. Each is true of the chain: ``ExitLanded`` only for an attempt that
landed, ``ExitFailed`` only when every attempt provably cannot land, and ``ExitUnresolved`` when
neither can be proved yet.
"""

from __future__ import annotations

from typing import Optional, Tuple, Union

import attrs

from ..proto import ClientMessage, HelloOk

__all__ = [
    "BadFrame",
    "Closed",
    "CommandRejected",
    "Connected",
    "Disconnected",
    "ExitFailed",
    "ExitLanded",
    "ExitSubmitted",
    "ExitUnresolved",
    "Reconnecting",
    "TransportEvent",
]


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


# -- the exit executor's outcomes ----------------------------------------------------------


@attrs.frozen(kw_only=True)
class ExitSubmitted:
    """A signed sell was accepted by a target (not yet landed): sent once per attempt.

    ``targets`` names the target whose acceptance this reports (empty when the attempt was seen
    on chain before any target answered).
    """

    position_id: int
    token_account: Optional[str]
    mint: str
    signature: str
    targets: Tuple[str, ...]
    attempt: int
    slippage_bps: Optional[int]
    sell_tokens: Optional[int] = None
    level_index: Optional[int] = None


@attrs.frozen(kw_only=True)
class ExitLanded:
    """The sell landed, at the policy's commitment. Every field is the landed attempt's own.

    ``latency_ms`` runs from the first signal's arrival to the moment the landing was seen at
    the policy's commitment. ``attempt`` is the attempt that landed, which is also the number of
    attempts made (no attempt starts while an earlier one could land).
    """

    position_id: int
    token_account: Optional[str]
    mint: str
    signature: str
    slot: Optional[int]
    attempt: int
    latency_ms: float
    slippage_bps: Optional[int] = None
    sell_tokens: Optional[int] = None
    level_index: Optional[int] = None


@attrs.frozen(kw_only=True)
class ExitFailed:
    """Nothing was sold, and nothing more will be tried for this tranche: every attempt is dead.

    ``reason``: ``refused`` (wrong wallet or fee payer, undecodable: never sent),
    ``max_retries`` (every attempt failed on chain or expired), ``position_closed`` (the
    position closed before it sold), ``no_signal`` (every attempt had died and no fresh signal
    came after asking for one), ``superseded`` (a full exit sold the position first; this
    tranche was never sent), ``journal`` (the attempt could not be written to the journal, so it
    was not sent) or ``abandoned`` (the executor closed before it was sent, or after every
    attempt had died). ``signatures`` lists every attempt's signature.
    """

    position_id: int
    token_account: Optional[str]
    mint: str
    reason: str
    attempts: int
    error: Optional[str] = None
    signature: Optional[str] = None
    signatures: Tuple[str, ...] = ()
    sell_tokens: Optional[int] = None
    level_index: Optional[int] = None


@attrs.frozen(kw_only=True)
class ExitUnresolved:
    """Whether the sell landed cannot be proved yet (or, at close, any more in this process).

    ``reason``: ``not_confirmed`` (no verdict ``unresolved_after`` seconds after the first send;
    the executor keeps checking and reports ``ExitLanded`` or ``ExitFailed`` later) or
    ``closed`` (the executor closed while an attempt could still land; with a journal, the next
    start settles it). Look the ``signatures`` up before selling this tranche by hand.
    """

    position_id: int
    token_account: Optional[str]
    mint: str
    reason: str
    signatures: Tuple[str, ...]
    attempts: int
    error: Optional[str] = None
    sell_tokens: Optional[int] = None
    level_index: Optional[int] = None
