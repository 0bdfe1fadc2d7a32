"""Watching attempts for the exit core: when to poll the RPC, and what one answer proves.

One poll is in flight at most; it asks ``isBlockhashValid`` for the attempts whose expiry is due
*before* ``getSignatureStatuses`` for every attempt that may land, so "not seen, and expired"
is a proof that it never will (nothing can land after its blockhash expired, and it had not
landed by a status call made after that). An attempt seen on chain at any commitment is never
taken for dead; its verdict waits for the policy's commitment.
"""

from __future__ import annotations

import enum
from typing import Callable, List, Optional, Sequence, Tuple

from ...tx.confirm import SignatureStatus
from .ledger import Attempt, AttemptState, PositionLedger, Tranche
from .messages import Action, Poll, Timer, TimerKind

__all__ = ["PollSchedule", "Verdict", "Watched", "judge"]

Watched = List[Tuple[PositionLedger, Tranche, Attempt]]


class Verdict(enum.Enum):
    """What one poll proved about one attempt."""

    SOLD = "sold"  # landed without error, at the policy's commitment
    DEAD = "dead"  # failed on chain (at the commitment), or expired without landing
    ON_CHAIN = "on_chain"  # seen on chain below the commitment: it blocks any new attempt
    GONE = "gone"  # seen on chain before, not any more (a fork dropped it): it may land again
    VALID = "valid"  # not seen, and its blockhash is still valid: look again later
    NOTHING = "nothing"  # not seen; its blockhash was not checked this time


def judge(
    a: Attempt, status: Optional[SignatureStatus], valid: Optional[bool], *, on_chain: bool, commitment: str
) -> Verdict:
    """Update ``a`` from one poll and say what changed.

    ``on_chain`` says whether ``status`` counts as seen on chain (the core's guard decides);
    ``valid`` is the blockhash's validity asked before the status, when it was asked.
    """
    if on_chain and status is not None:
        a.slot, a.err = status.slot, status.err
        if status.reached(commitment):
            a.state = AttemptState.CONFIRMED if status.err is None else AttemptState.FAILED
            return Verdict.SOLD if status.err is None else Verdict.DEAD
        if a.state is AttemptState.LIVE:
            a.state = AttemptState.LANDED
            return Verdict.ON_CHAIN
        return Verdict.NOTHING
    if a.state is AttemptState.LANDED:
        a.state, a.expiry_due = AttemptState.LIVE, True
        return Verdict.GONE
    if valid is False:
        a.state = AttemptState.EXPIRED
        return Verdict.DEAD
    if valid is True:
        a.expiry_due = False
        return Verdict.VALID
    return Verdict.NOTHING


class PollSchedule:
    """At most one poll in flight; a poll timer armed while something may land.

    Args:
        interval: seconds between polls.
        arm: arms a timer of a kind after a delay (the core's), returning it.
        emit: emits an action (the core's).
    """

    def __init__(self, interval: float, arm: Callable[[str, float], Timer], emit: Callable[[Action], None]) -> None:
        self._interval = interval
        self._arm = arm
        self._emit = emit
        self._no = 0
        self._in_flight: Optional[int] = None
        self._timer: Optional[int] = None
        self._again = False

    def want(self, watched: Sequence[object]) -> None:
        """Arm the next poll, unless one is armed or in flight, or nothing is watched."""
        if self._in_flight is None and self._timer is None and watched:
            self._timer = self._arm(TimerKind.POLL, self._interval).seq

    def poke(self, watched: Watched) -> None:
        """Poll now (or right after the poll in flight): a verdict may be there."""
        if self._in_flight is not None:
            self._again = True
        else:
            self.issue(watched)

    def fired(self, timer: Timer, watched: Watched) -> None:
        """The poll timer fired: poll, if it is the one armed last."""
        if timer.seq == self._timer:
            self.issue(watched)

    def issue(self, watched: Watched) -> None:
        """Ask about every watched attempt, and the blockhashes whose expiry is due."""
        self._timer, self._again = None, False
        if not watched:
            return
        self._no += 1
        self._in_flight = self._no
        signatures = tuple(dict.fromkeys(a.signature for _, _, a in watched if a.signature is not None))
        due = {a.blockhash for _, _, a in watched if a.expiry_due and a.state is AttemptState.LIVE and a.blockhash}
        self._emit(Poll(self._no, signatures, tuple(sorted(due))))

    def answered(self, poll: int) -> bool:
        """An answer came: True when it is the poll in flight (any other is ignored)."""
        if poll != self._in_flight:
            return False
        self._in_flight = None
        return True

    def next(self, watched: Watched) -> None:
        """After an answer: poll again at once if poked meanwhile, else arm the next poll."""
        if self._again:
            self.issue(watched)
        else:
            self.want(watched)
