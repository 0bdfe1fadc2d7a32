"""The routing table: every event has one entry, and the entries make sense together."""

from __future__ import annotations

import lasersell_sync as ls
from lasersell_sync.proto.server import SERVER_MESSAGE_TYPES
from lasersell_sync.stream.dispatch.registry import CLASS_NAMES
from lasersell_sync.stream.routes import ROUTES, Book, Duty, Order, Priority


def test_every_server_message_class_has_a_route() -> None:
    missing = [cls.__name__ for cls in SERVER_MESSAGE_TYPES if cls.TYPE not in ROUTES]
    assert missing == [], "add an entry to lasersell_sync/stream/routes.py ROUTES for each"
    assert "unknown" in ROUTES


def test_the_routes_are_exactly_the_events_handlers_can_register_for() -> None:
    assert set(ROUTES) == set(ls.stream.EVENT_NAMES) == set(CLASS_NAMES.values())


def test_the_low_lane_is_ordered_by_position_and_only_it_conflates() -> None:
    for name, route in ROUTES.items():
        if route.lane is Priority.LOW:
            assert route.order is Order.POSITION, name  # the low lane keys by position id
        else:
            assert not route.conflate, name


def test_only_lifecycle_of_positions_changes_the_book_beyond_a_lookup() -> None:
    changes = {name for name, route in ROUTES.items() if route.book in (Book.OPEN, Book.CLOSE)}
    assert changes == {"position_opened", "position_closed"}
    duties = {name: route.duty for name, route in ROUTES.items() if route.duty is not Duty.NONE}
    assert duties == {
        "position_opened": Duty.OPENED,
        "position_closed": Duty.CLOSED,
        "hello_ok": Duty.CLOCK,
    }


def test_the_outbox_sees_what_confirms_or_rejects_an_intent_change() -> None:
    assert {name for name, route in ROUTES.items() if route.outbox} == {"pong", "error"}


def test_only_pnl_and_ticks_take_the_readers_lookup_only_path() -> None:
    assert {name for name, route in ROUTES.items() if route.lookup_only} == {"pnl_update", "trade_tick"}
