"""What the exit executor is told (``ExitPolicy``) and what it reports (typed events and stats).

The three events reach handlers (``session.on(ls.ExitLanded)`` or ``"exit_landed"``),
``on_any`` and ``events()`` in the high-priority lane, ordered with the position's other events.
"""

from __future__ import annotations

from typing import Optional, Tuple

import attrs

from .._checks import MAX_SLIPPAGE_BPS

__all__ = ["ExitFailed", "ExitLanded", "ExitPolicy", "ExitStats", "ExitSubmitted"]

_MAX_BPS = MAX_SLIPPAGE_BPS


def _bps(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_BPS:
        raise ValueError(f"{attribute.name} must be an integer within 0..{_MAX_BPS}, got {value!r}")


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{attribute.name} must be a number > 0, got {value!r}")


def _retries(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 20:
        raise ValueError(f"{attribute.name} must be an integer within 0..20, got {value!r}")


@attrs.frozen(kw_only=True)
class ExitPolicy:
    """How the exit executor retries. The defaults are the official CLI's.

    Attributes:
        slippage_pad_bps: the slippage a first signal is assumed to carry; retries bump from it.
        first_bump_bps: added to the slippage for the first retry.
        bump_bps: added again for each later retry.
        max_slippage_bps: the cap of a bumped slippage.
        max_retries: retries after the first attempt (so ``1 + max_retries`` attempts at most).
        confirm_timeout: seconds to wait for an attempt to land at ``commitment``.
        refresh_timeout: seconds to wait for the refreshed signal after ``request_exit_signal``.
        commitment: ``"processed"``, ``"confirmed"`` (default) or ``"finalized"``.
        prove_dead_timeout: how long a partial sell that timed out may be watched until its
            blockhash expires (proof it can never land) before it is given up, seconds.
    """

    slippage_pad_bps: int = attrs.field(default=2000, validator=_bps)
    first_bump_bps: int = attrs.field(default=20, validator=_bps)
    bump_bps: int = attrs.field(default=40, validator=_bps)
    max_slippage_bps: int = attrs.field(default=2500, validator=_bps)
    max_retries: int = attrs.field(default=2, validator=_retries)
    confirm_timeout: float = attrs.field(default=10.0, validator=_positive)
    refresh_timeout: float = attrs.field(default=1.5, validator=_positive)
    commitment: str = attrs.field(
        default="confirmed", validator=attrs.validators.in_(("processed", "confirmed", "finalized"))
    )
    prove_dead_timeout: float = attrs.field(default=120.0, validator=_positive)

    def slippage_for(self, retry: int) -> int:
        """The slippage to ask for on retry number ``retry`` (1-based), capped."""
        bumped = self.slippage_pad_bps + self.first_bump_bps + max(0, retry - 1) * self.bump_bps
        return min(bumped, self.max_slippage_bps)


@attrs.frozen(kw_only=True)
class ExitSubmitted:
    """A signed sell was accepted by at least one target (not yet landed)."""

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
    """The sell landed. ``latency_ms`` runs from the first signal's arrival to the landing."""

    position_id: int
    token_account: Optional[str]
    mint: str
    signature: str
    slot: Optional[int]
    attempts: int
    latency_ms: float
    slippage_bps: Optional[int] = None
    sell_tokens: Optional[int] = None
    level_index: Optional[int] = None


@attrs.frozen(kw_only=True)
class ExitFailed:
    """The executor gave up on a sell (nothing more will be tried for that signal).

    ``reason``: ``refused`` (wrong wallet or fee payer, undecodable: never sent), ``max_retries``
    (every attempt failed), ``position_closed`` (closed before it landed) or ``abandoned``
    (the executor was closed while it was in flight).
    """

    position_id: int
    token_account: Optional[str]
    mint: str
    reason: str
    attempts: int
    error: Optional[str] = None
    signature: Optional[str] = None
    level_index: Optional[int] = None


@attrs.frozen(kw_only=True)
class ExitStats:
    """Counters of one exit executor."""

    signals: int
    submitted: int
    landed: int
    failed: int
    retries: int
    refused: int
    in_flight: int
