"""What the exit executor reports: typed events and stats.

The events reach handlers (``session.on(ls.ExitLanded)`` or ``"exit_landed"``), ``on_any`` and
``events()`` in the high-priority lane, ordered with the position's other events. Each is true
of the chain: ``ExitLanded`` only for an attempt that landed, ``ExitFailed`` only when every
attempt provably cannot land, and ``ExitUnresolved`` when neither can be proved yet.
"""

from __future__ import annotations

from typing import Optional, Tuple

import attrs

__all__ = ["ExitFailed", "ExitLanded", "ExitStats", "ExitSubmitted", "ExitUnresolved"]


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
    position closed before it sold), ``superseded`` (a full exit sold the position first; this
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


@attrs.frozen(kw_only=True)
class ExitStats:
    """Counters of one exit executor.

    Attributes:
        signals: exit signals received.
        submitted: attempts accepted by at least one target.
        landed: tranches sold (``exit_landed``).
        failed: tranches given up (``exit_failed``).
        unresolved: ``exit_unresolved`` events.
        retries: fresh signals requested after every attempt had died.
        refused: signals refused before signing.
        stale: signals ignored because their tranche had sold, or because they answered a
            request of an exit that had already ended.
        duplicates: signals that replaced a queued or held one of the same tranche.
        rebroadcasts: re-sends of a signed transaction to every target.
        status_errors: status or blockhash checks that failed (the RPC refused or hung).
        warm_failures: warm-ups of a send target that got no answer.
        unkeyed: signals of a wallet the executor has no keypair for, left to your handlers.
        in_flight: tranches being worked on (sending, landing or waiting for a fresh signal).
        queued: tranches waiting behind another tranche of the same position.
    """

    signals: int = 0
    submitted: int = 0
    landed: int = 0
    failed: int = 0
    unresolved: int = 0
    retries: int = 0
    refused: int = 0
    stale: int = 0
    duplicates: int = 0
    rebroadcasts: int = 0
    status_errors: int = 0
    warm_failures: int = 0
    unkeyed: int = 0
    in_flight: int = 0
    queued: int = 0
