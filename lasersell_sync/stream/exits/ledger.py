"""The ledger: per position, per tranche, every attempt and what became of it.

A position is kept until it has closed and its last attempt is settled; a tranche that sold is
remembered for as long, so a later signal for it is recognised as stale.
"""

from __future__ import annotations

import enum
from typing import Any, Dict, List, Optional, Tuple, Union

import attrs

from .messages import AttemptRef, Signal

__all__ = ["Attempt", "AttemptState", "Phase", "PositionLedger", "Tranche"]


class AttemptState(enum.Enum):
    """Where one signed transaction stands. Only the last three are dead."""

    SIGNING = "signing"  # asked to be signed; no signature yet
    UNSENT = "unsent"  # signed, being written to the journal; not sent
    LIVE = "live"  # released for sending: it may land
    LANDED = "landed"  # seen on chain without error, below the policy's commitment
    CONFIRMED = "confirmed"  # landed at the policy's commitment
    FAILED = "failed"  # landed with an on-chain error
    EXPIRED = "expired"  # its blockhash expired while it had not landed
    NEVER_SENT = "never_sent"  # refused, or stopped before any send

    @property
    def dead(self) -> bool:
        """It did not sell and never will."""
        return self in (AttemptState.FAILED, AttemptState.EXPIRED, AttemptState.NEVER_SENT)

    @property
    def may_land(self) -> bool:
        """It could still be (or already is) on chain."""
        return self in (AttemptState.LIVE, AttemptState.LANDED)


class Phase(enum.Enum):
    """Where one tranche stands. The last three are final."""

    QUEUED = "queued"  # waiting behind another tranche of its position
    CHECKING = "checking"  # a queued signal: is its blockhash still valid?
    SELLING = "selling"  # an attempt is being signed or sent, or may land
    REFRESHING = "refreshing"  # every attempt is dead; a fresh signal was requested
    SOLD = "sold"  # an attempt landed at the policy's commitment
    FAILED = "failed"  # every attempt is dead, and nothing more will be tried
    UNRESOLVED = "unresolved"  # the executor shut down while an attempt could still land

    @property
    def final(self) -> bool:
        """Nothing more happens to this tranche in this process."""
        return self in (Phase.SOLD, Phase.FAILED, Phase.UNRESOLVED)


@attrs.define(kw_only=True)
class Attempt:
    """One signed transaction of a tranche."""

    number: int
    slippage_bps: Optional[int]
    state: AttemptState = AttemptState.SIGNING
    signature: Optional[str] = None
    blockhash: Optional[str] = None
    tx_b64: Optional[str] = attrs.field(default=None, repr=False)
    slot: Optional[int] = None
    err: Any = None
    submitted: bool = False  # ExitSubmitted was published
    expiry_due: bool = False  # its blockhash is to be checked at the next poll


@attrs.define(kw_only=True)
class Tranche:
    """One sell of a position: a ladder level, or the full exit."""

    id: str
    phase: Phase
    signal: Signal  # the signal the next attempt signs (the latest one of this tranche)
    first_received: float
    held: Optional[Signal] = None  # a newer signal that arrived while an attempt could land
    payloads: List[Any] = attrs.field(factory=list, repr=False)  # every transaction it was given
    attempts: List[Attempt] = attrs.field(factory=list)
    slippage_bps: Optional[int] = None  # for the next attempt (None: as the signal was built)
    waited: bool = False  # it queued behind another tranche: check its blockhash first
    requests_owed: int = 0  # request_exit_signal answers still expected
    request_no: int = 0  # requests made for the attempt being refreshed
    round: int = 1  # a failed tranche that gets a new signal starts a new round
    base: int = 0  # attempts made in earlier rounds (all dead)
    unresolved_reported: bool = False

    @property
    def sell_tokens(self) -> Optional[int]:
        """Tokens this tranche sells (None: the whole position)."""
        return self.signal.sell_tokens

    @property
    def level_index(self) -> Optional[int]:
        """The ladder level, if any."""
        return self.signal.level_index

    @property
    def current(self) -> Optional[Attempt]:
        """The latest attempt."""
        return self.attempts[-1] if self.attempts else None

    def ref(self, key: str, number: int) -> AttemptRef:
        """The reference of one of its attempts."""
        return AttemptRef(key=key, tranche=self.id, number=number)

    def signatures(self) -> Tuple[str, ...]:
        """The signature of every attempt of this round, oldest first."""
        return tuple(a.signature for a in self.attempts[self.base :] if a.signature is not None)

    def live(self) -> List[Attempt]:
        """Attempts that could still land (or have landed below the commitment)."""
        return [a for a in self.attempts if a.state.may_land]

    def known(self, payload: Any) -> bool:
        """This very transaction reached the tranche before (a copy of one of its signals)."""
        return payload is not None and any(seen == payload for seen in self.payloads)

    def dead_attempts(self) -> int:
        """How many attempts of this round provably did not sell."""
        return sum(1 for a in self.attempts[self.base :] if a.state.dead)


@attrs.define(kw_only=True)
class PositionLedger:
    """Every tranche of one position, and which one is being sold now (one at a time)."""

    key: str
    position_id: int
    token_account: Optional[str]
    mint: str
    tranches: Dict[str, Tranche] = attrs.field(factory=dict)
    active: Optional[str] = None
    queue: List[str] = attrs.field(factory=list)
    closed: bool = False
    sold_out: bool = False  # a full exit sold: every later signal is stale

    @property
    def selector(self) -> Union[str, int]:
        """How ``request_exit_signal`` names it: its token account when known."""
        return self.token_account if self.token_account is not None else self.position_id

    def busy(self) -> bool:
        """Some tranche is not final yet, so the position must be kept."""
        return any(not t.phase.final for t in self.tranches.values())
