"""The exit executor's counters; its outcome events live with the other shared events.

The outcome types (``ExitSubmitted``, ``ExitLanded``, ``ExitFailed``, ``ExitUnresolved``) are
defined in ``stream/events.py``, below every room of ``stream/``, because the dispatcher names them
as well; they are re-exported here for the executor's modules.
"""

from __future__ import annotations

from typing import Dict

import attrs

from ..events import ExitFailed, ExitLanded, ExitSubmitted, ExitUnresolved

__all__ = ["ExitFailed", "ExitLanded", "ExitStats", "ExitSubmitted", "ExitUnresolved"]


@attrs.frozen(kw_only=True)
class ExitStats:
    """Counters of one exit executor.

    Attributes:
        signals: exit signals received.
        submitted: attempts accepted by at least one target.
        landed: tranches sold (``exit_landed``).
        failed: tranches given up (``exit_failed``).
        failed_by_reason: the same, per ``ExitFailed.reason``.
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
    failed_by_reason: Dict[str, int] = attrs.Factory(dict)
