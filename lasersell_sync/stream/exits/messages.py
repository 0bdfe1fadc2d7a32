"""The exit core's vocabulary: the events fed into it and the actions it asks the shell to do.

Every value is a plain frozen record, so a test can build any sequence of events by hand and
read the actions back, with no thread, socket or clock involved.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple, Union

import attrs

from ...tx.confirm import SignatureStatus
from .outcomes import ExitFailed, ExitLanded, ExitSubmitted, ExitUnresolved

__all__ = [
    "Action",
    "ArmTimer",
    "AttemptRef",
    "BeginClose",
    "BlockhashChecked",
    "Broadcast",
    "CheckBlockhash",
    "Event",
    "Forget",
    "Outcome",
    "Persist",
    "PersistFailed",
    "Persisted",
    "Poll",
    "PollFailed",
    "PollResult",
    "PositionClosed",
    "Publish",
    "Report",
    "RequestSignal",
    "SendResult",
    "Shutdown",
    "Sign",
    "SignRefused",
    "Signal",
    "Signed",
    "Timer",
    "TimerFired",
    "TimerKind",
    "tranche_of",
]

Outcome = Union[ExitSubmitted, ExitLanded, ExitFailed, ExitUnresolved]


def tranche_of(sell_tokens: Optional[int], level_index: Optional[int]) -> str:
    """A tranche's id within its position: its ladder level, or ``full`` for a whole-position exit.

    A partial sell without a level (rare) is named by its amount.
    """
    if sell_tokens is None:
        return "full"
    if level_index is not None:
        return f"level:{level_index}"
    return f"partial:{sell_tokens}"


@attrs.frozen(kw_only=True)
class AttemptRef:
    """Names one attempt: position key, tranche id and attempt number (1-based)."""

    key: str
    tranche: str
    number: int


# -- events ---------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Signal:
    """An exit signal, reduced to what the core decides on.

    ``key`` identifies the position (its token account, else ``#<position id>``); ``payload`` is
    what the shell signs (opaque to the core); ``received_at`` is the shell's monotonic clock at
    the frame's arrival.
    """

    key: str
    position_id: int
    token_account: Optional[str]
    mint: str
    wallet: str
    sell_tokens: Optional[int]
    level_index: Optional[int]
    received_at: float
    reason: str = ""
    payload: Any = attrs.field(default=None, eq=False, repr=False)

    @property
    def tranche(self) -> str:
        """The tranche this signal sells."""
        return tranche_of(self.sell_tokens, self.level_index)


@attrs.frozen
class Signed:
    """The shell signed an attempt; it has not been sent yet."""

    ref: AttemptRef
    signature: str
    blockhash: str
    tx_b64: str = attrs.field(repr=False)


@attrs.frozen
class SignRefused:
    """The shell would not sign (no keypair for the wallet, another fee payer, undecodable)."""

    ref: AttemptRef
    error: BaseException


@attrs.frozen
class Persisted:
    """The journal holds the attempt durably: it may be sent."""

    ref: AttemptRef


@attrs.frozen
class PersistFailed:
    """The journal could not record the attempt: it must not be sent."""

    ref: AttemptRef
    error: BaseException


@attrs.frozen
class SendResult:
    """One target's answer to one send of an attempt (``error`` None: accepted)."""

    ref: AttemptRef
    target: str
    error: Optional[BaseException] = None


@attrs.frozen
class PollResult:
    """The answer to :class:`Poll`: blockhash validity first, then statuses fetched after it.

    ``valid`` has an entry for each checked blockhash that the RPC answered; ``statuses`` has one
    for every polled signature (None: not seen by the RPC).
    """

    poll: int
    statuses: Mapping[str, Optional[SignatureStatus]]
    valid: Mapping[str, bool] = attrs.field(factory=dict)


@attrs.frozen
class PollFailed:
    """The status call of a :class:`Poll` failed (the RPC refused, or did not answer in time)."""

    poll: int
    error: BaseException


@attrs.frozen
class BlockhashChecked:
    """The answer to :class:`CheckBlockhash` (``valid`` None: the RPC could not tell)."""

    ref: AttemptRef
    valid: Optional[bool]


class TimerKind:
    """What a timer is for."""

    POLL = "poll"
    REBROADCAST = "rebroadcast"
    EXPIRY = "expiry"
    REFRESH = "refresh"
    UNRESOLVED = "unresolved"


@attrs.frozen(kw_only=True)
class Timer:
    """A timer, carrying what it was armed for; the core ignores one that no longer applies."""

    kind: str
    seq: int
    ref: Optional[AttemptRef] = None
    tag: int = 0  # the request number (refresh) or the tranche's round (unresolved)


@attrs.frozen
class TimerFired:
    """A timer the core armed is due."""

    timer: Timer


@attrs.frozen
class PositionClosed:
    """The server stopped tracking a position (sold out, closed by the user, ...)."""

    key: str
    position_id: int


@attrs.frozen
class BeginClose:
    """Closing: nothing is signed, sent or requested from now on; sells in flight are watched."""


@attrs.frozen
class Shutdown:
    """The end: what is still undecided is reported unresolved; no action follows."""


Event = Union[
    Signal,
    Signed,
    SignRefused,
    Persisted,
    PersistFailed,
    SendResult,
    PollResult,
    PollFailed,
    BlockhashChecked,
    TimerFired,
    PositionClosed,
    BeginClose,
    Shutdown,
]


# -- actions --------------------------------------------------------------------------------------


@attrs.frozen
class Sign:
    """Sign the signal's transaction for this attempt, then feed ``Signed`` or ``SignRefused``."""

    ref: AttemptRef
    signal: Signal


@attrs.frozen(kw_only=True)
class Persist:
    """Write to the journal (when there is one). ``what`` is ``attempt``, ``state`` or ``outcome``.

    For ``attempt`` the shell feeds ``Persisted`` or ``PersistFailed`` back before anything is
    sent; the others are bookkeeping.
    """

    what: str
    ref: AttemptRef
    fields: Dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Broadcast:
    """Send the signed transaction to every target (each on its own, with its own timeout)."""

    ref: AttemptRef
    tx_b64: str = attrs.field(repr=False)
    first: bool = True


@attrs.frozen
class Poll:
    """Check ``blockhashes`` (``isBlockhashValid``), then ``getSignatureStatuses`` of ``signatures``."""

    poll: int
    signatures: Tuple[str, ...]
    blockhashes: Tuple[str, ...] = ()


@attrs.frozen
class CheckBlockhash:
    """Is the blockhash of a signal that waited in the queue still valid? Feed ``BlockhashChecked``."""

    ref: AttemptRef
    signal: Signal


@attrs.frozen
class RequestSignal:
    """Send ``request_exit_signal`` for a position (token account, else id) at a slippage."""

    selector: Union[str, int]
    slippage_bps: Optional[int]
    ref: AttemptRef


@attrs.frozen
class ArmTimer:
    """Feed ``TimerFired(timer)`` after ``delay`` seconds."""

    timer: Timer
    delay: float


@attrs.frozen
class Publish:
    """Hand an outcome to the session's handlers."""

    outcome: Outcome


@attrs.frozen
class Report:
    """Hand an error to the session's ``on_error`` path."""

    error: BaseException


@attrs.frozen
class Forget:
    """A position is closed and settled: drop it from the journal."""

    key: str


Action = Union[Sign, Persist, Broadcast, Poll, CheckBlockhash, RequestSignal, ArmTimer, Publish, Report, Forget]
