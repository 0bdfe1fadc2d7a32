"""The outcome events of a tranche, built from the ledger (so each reports its own attempt)."""

from __future__ import annotations

import json
from typing import Any, Dict, Optional

from .ledger import Attempt, AttemptState, PositionLedger, Tranche
from .outcomes import ExitFailed, ExitLanded, ExitSubmitted, ExitUnresolved

__all__ = ["describe_death", "failed", "landed", "submitted", "unresolved"]


def _about(pos: PositionLedger, t: Tranche) -> Dict[str, Any]:
    """The fields every outcome shares: which position, which tranche."""
    return {
        "position_id": pos.position_id,
        "token_account": pos.token_account,
        "mint": pos.mint,
        "sell_tokens": t.sell_tokens,
        "level_index": t.level_index,
    }


def submitted(pos: PositionLedger, t: Tranche, a: Attempt, target: Optional[str]) -> ExitSubmitted:
    """``exit_submitted`` for attempt ``a``, accepted by ``target`` (None: seen on chain first)."""
    assert a.signature is not None
    return ExitSubmitted(
        **_about(pos, t),
        signature=a.signature,
        targets=(target,) if target is not None else (),
        attempt=a.number,
        slippage_bps=a.slippage_bps,
    )


def landed(pos: PositionLedger, t: Tranche, a: Attempt, now: float) -> ExitLanded:
    """``exit_landed`` for the attempt that landed."""
    assert a.signature is not None
    return ExitLanded(
        **_about(pos, t),
        signature=a.signature,
        slot=a.slot,
        attempt=a.number,
        latency_ms=max(0.0, (now - t.first_received) * 1000),
        slippage_bps=a.slippage_bps,
    )


def failed(pos: PositionLedger, t: Tranche, reason: str, error: Optional[str]) -> ExitFailed:
    """``exit_failed``: every attempt of the tranche is dead."""
    signatures = t.signatures()
    return ExitFailed(
        **_about(pos, t),
        reason=reason,
        attempts=len(t.attempts) - t.base,
        error=error,
        signature=signatures[-1] if signatures else None,
        signatures=signatures,
    )


def unresolved(pos: PositionLedger, t: Tranche, reason: str, error: Optional[str]) -> ExitUnresolved:
    """``exit_unresolved``: an attempt may have landed, or may still land; nobody can tell yet."""
    return ExitUnresolved(
        **_about(pos, t),
        reason=reason,
        signatures=t.signatures(),
        attempts=len(t.attempts) - t.base,
        error=error,
    )


def describe_death(a: Optional[Attempt]) -> Optional[str]:
    """Why an attempt is dead, in words."""
    if a is None:
        return None
    if a.state is AttemptState.FAILED:
        return f"failed on chain: {json.dumps(a.err, separators=(',', ':'))}"
    if a.state is AttemptState.EXPIRED:
        return "its blockhash expired before it landed"
    return "it was never sent"
