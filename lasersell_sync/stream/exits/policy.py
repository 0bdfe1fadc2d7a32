"""``ExitPolicy``: how the exit executor retries, re-broadcasts and judges an attempt."""

from __future__ import annotations

import attrs

from ..._checks import MAX_SLIPPAGE_BPS

__all__ = ["ExitPolicy"]

COMMITMENTS = ("processed", "confirmed", "finalized")


def _bps(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SLIPPAGE_BPS:
        raise ValueError(f"{attribute.name} must be an integer within 0..{MAX_SLIPPAGE_BPS}, got {value!r}")


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ValueError(f"{attribute.name} must be a number > 0, got {value!r}")


def _retries(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 20:
        raise ValueError(f"{attribute.name} must be an integer within 0..20, got {value!r}")


@attrs.frozen(kw_only=True)
class ExitPolicy:
    """How the exit executor works a tranche until it is sold. Slippage defaults are the official CLI's.

    A new attempt starts only once every earlier attempt of the tranche is provably dead (failed
    on chain, or its blockhash expired without it landing), so there is no timeout after which
    an attempt is simply given up: a live attempt is re-broadcast until it lands or expires.

    Attributes:
        slippage_pad_bps: the slippage a first signal is assumed to carry; retries bump from it.
        first_bump_bps: added to the slippage for the first retry.
        bump_bps: added again for each later retry.
        max_slippage_bps: the cap of a bumped slippage.
        max_retries: retries after the first attempt (so ``1 + max_retries`` attempts at most).
        refresh_timeout: seconds to wait for the fresh signal after ``request_exit_signal``.
            Then a full exit asks once more and a partial tranche waits as long again (a second
            request could be answered with an exit of the whole position); then the exit fails.
        commitment: ``"processed"``, ``"confirmed"`` (default) or ``"finalized"``: when a landed
            sell is reported as ``exit_landed``.
        rebroadcast_interval: seconds between two sends of the same signed transaction to every
            target, until it lands or its blockhash expires (same signature: it cannot sell twice).
        expiry_check_interval: seconds between two ``isBlockhashValid`` checks of an attempt that
            has not landed (the proof that it never will).
        unresolved_after: seconds after the first send without a verdict, after which an
            ``exit_unresolved`` event lists the signatures (checking goes on).
    """

    slippage_pad_bps: int = attrs.field(default=2000, validator=_bps)
    first_bump_bps: int = attrs.field(default=20, validator=_bps)
    bump_bps: int = attrs.field(default=40, validator=_bps)
    max_slippage_bps: int = attrs.field(default=2500, validator=_bps)
    max_retries: int = attrs.field(default=2, validator=_retries)
    refresh_timeout: float = attrs.field(default=1.5, validator=_positive)
    commitment: str = attrs.field(default="confirmed", validator=attrs.validators.in_(COMMITMENTS))
    rebroadcast_interval: float = attrs.field(default=0.4, validator=_positive)
    expiry_check_interval: float = attrs.field(default=2.0, validator=_positive)
    unresolved_after: float = attrs.field(default=10.0, validator=_positive)

    def slippage_for(self, retry: int) -> int:
        """The slippage to ask for on retry number ``retry`` (1-based), capped."""
        bumped = self.slippage_pad_bps + self.first_bump_bps + max(0, retry - 1) * self.bump_bps
        return min(bumped, self.max_slippage_bps)
