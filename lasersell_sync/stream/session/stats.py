"""A snapshot of a session's counters, for dashboards and tests."""

from __future__ import annotations

from typing import Dict, Optional

import attrs

from ..exits.outcomes import ExitStats

__all__ = ["SessionStats"]


@attrs.frozen(kw_only=True)
class SessionStats:
    """Counters since the session was created.

    Attributes:
        frames_received: text frames read from the socket.
        decode_errors: frames skipped as undecodable, binary or oversize.
        events_dispatched: events handed to the dispatcher, per event name.
        low_priority_conflated: pnl/liquidity updates replaced by newer ones before delivery.
        low_priority_dropped: trade ticks dropped from a full backlog.
        handler_errors: handler calls that raised.
        reconnects: successful reconnects.
        queue_depths: events waiting per lane (``high``, ``low``) and in ``events()``
            iterators (``events_iterators``).
        pending_commands: commands kept for the next connection.
        deadline_timers: armed client-side deadlines.
        iterator_conflated: pnl/liquidity updates replaced by newer ones in the attached
            ``events()`` iterators (each applies the lanes' policy to its own queue).
        iterator_dropped: trade ticks dropped from full ``events()`` iterator queues.
        commands_rejected: intent commands the server answered with ``error``, rolled back.
        exits: the exit executor's counters, when ``auto_exit`` runs.
    """

    frames_received: int
    decode_errors: int
    events_dispatched: Dict[str, int]
    low_priority_conflated: int
    low_priority_dropped: int
    handler_errors: int
    reconnects: int
    queue_depths: Dict[str, int]
    pending_commands: int
    deadline_timers: int
    iterator_conflated: int = 0
    iterator_dropped: int = 0
    commands_rejected: int = 0
    exits: Optional[ExitStats] = None
