"""One routing table: for every event, the lane it runs in, what orders it, and what it updates.

Every rule the stream applies per message type lives here, so adding a server message type is
one class in ``proto/server.py`` and one entry below (``tests/test_routes.py`` fails until the
entry exists). The dispatcher, the session's reader callback, the position book, the per-position duties and
the transport's reader read the table and switch on no type.

Entries are keyed by event name, so this module imports no event class and sits below every
room of ``stream/``.
"""

from __future__ import annotations

import enum
from typing import Any, Dict, Hashable

import attrs

__all__ = ["ROUTES", "Book", "Duty", "Order", "Priority", "Route", "order_key"]


class Priority(enum.Enum):
    """Which lane's workers run an event's handlers."""

    HIGH = "high"
    """Signals, lifecycle and everything else: never behind low-priority work."""
    LOW = "low"
    """PnL, liquidity and trade ticks: their own workers, with a bounded backlog."""


class Order(enum.Enum):
    """What an event is ordered by: events with the same key run one at a time, in arrival order."""

    POSITION = "position"
    MINT = "mint"
    LIFECYCLE = "lifecycle"
    TYPE = "event type"


class Book(enum.Enum):
    """What an event does to the position book (and so which handle it carries)."""

    NONE = "none"
    LOOKUP = "by id"
    LIQUIDITY = "stores the snapshot; by id"
    SIGNAL = "by id, else token account"
    OPEN = "adds the handle"
    CLOSE = "removes the handle"


class Duty(enum.Enum):
    """What an event does to the client-side duties (deadlines, per-position strategies, clock)."""

    NONE = "none"
    OPENED = "arms the deadline, re-sends the position's strategy"
    CLOSED = "cancels the deadline, forgets the position's strategy"
    CLOCK = "sets the server clock offset"


@attrs.frozen
class Route:
    """The rules for one event.

    Attributes:
        lane: which workers run its handlers.
        order: what orders it.
        conflate: low lane only: an undelivered one is replaced by a newer one for the same
            position (otherwise low-lane events are bounded, oldest dropped first).
        book: what it does to the position book.
        duty: what it does to the per-position duties (deadlines, strategies) and the clock.
        outbox: the transport's outbox sees it (``pong`` confirms, ``error`` rolls back an intent
            change).
    """

    lane: Priority = Priority.HIGH
    order: Order = Order.TYPE
    conflate: bool = False
    book: Book = Book.NONE
    duty: Duty = Duty.NONE
    outbox: bool = False

    @property
    def lookup_only(self) -> bool:
        """Nothing to update: the handle is a lookup by id (the reader's cheapest path)."""
        return self.book is Book.LOOKUP and self.duty is Duty.NONE


_POSITION = Order.POSITION
ROUTES: Dict[str, Route] = {
    # server messages (proto/server.py)
    "hello_ok": Route(duty=Duty.CLOCK),
    "pong": Route(outbox=True),
    "error": Route(outbox=True),
    "balance_update": Route(order=Order.MINT),
    "position_opened": Route(order=_POSITION, book=Book.OPEN, duty=Duty.OPENED),
    "position_closed": Route(order=_POSITION, book=Book.CLOSE, duty=Duty.CLOSED),
    "exit_signal_with_tx": Route(order=_POSITION, book=Book.SIGNAL),
    "mirror_buy_signal": Route(order=Order.MINT),
    "mirror_buy_failed": Route(order=Order.MINT),
    "mirror_wallet_auto_disabled": Route(),
    "pnl_update": Route(lane=Priority.LOW, order=_POSITION, conflate=True, book=Book.LOOKUP),
    "liquidity_snapshot": Route(lane=Priority.LOW, order=_POSITION, conflate=True, book=Book.LIQUIDITY),
    "trade_tick": Route(lane=Priority.LOW, order=_POSITION, book=Book.LOOKUP),
    "unknown": Route(),
    # the transport's lifecycle (stream/events.py)
    "connected": Route(order=Order.LIFECYCLE),
    "disconnected": Route(order=Order.LIFECYCLE),
    "reconnecting": Route(order=Order.LIFECYCLE),
    "closed": Route(order=Order.LIFECYCLE),
    # the exit executor's outcomes (stream/exits/outcomes.py)
    "exit_submitted": Route(order=_POSITION),
    "exit_landed": Route(order=_POSITION),
    "exit_failed": Route(order=_POSITION),
    "exit_unresolved": Route(order=_POSITION),
}
"""Every event the session hands to handlers, by name."""

_LIFECYCLE_KEY = ("lifecycle",)


def order_key(route: Route, name: str, message: Any) -> Hashable:
    """The key that orders an event: a position id, ``("mint", mint)``, or one key per kind."""
    order = route.order
    if order is Order.POSITION:
        return message.position_id  # type: ignore[no-any-return]
    if order is Order.MINT:
        return ("mint", message.mint)
    if order is Order.LIFECYCLE:
        return _LIFECYCLE_KEY
    return ("type", name)
