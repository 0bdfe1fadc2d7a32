"""Dispatch semantics through a real StreamSession against the scripted server (tests/wsserver.py).

Every wait is on a condition, event or barrier with a generous timeout that only matters when a
test fails; nothing sleeps and then asserts, and no assertion is about elapsed time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from typing import Any, Callable, DefaultDict, Dict, Iterator, List, Optional, Tuple

import pytest

import lasersell_sync as ls
from tests.sessionharness import WALLET, Harness, balance, exit_signal, liquidity, opened, pnl, tick
from tests.support import WAIT, Collect, Collector
from tests.wsserver import ScriptedServer

# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def h(server: ScriptedServer) -> Iterator[Harness]:
    harness = Harness(server)
    yield harness
    harness.close_all()


def flag_on(session: ls.StreamSession, name: str) -> threading.Event:
    flag = threading.Event()
    session.on(name, lambda event: flag.set())
    return flag


# -- 1. per-key ordering ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "frame", "seq_of"), [
    ("exit_signal_with_tx", exit_signal, lambda m: m.triggered_at_ms),
    ("trade_tick", tick, lambda m: m.time_ms),
])  # fmt: skip
def test_per_key_order_and_exclusion_with_parallel_keys(
    h: Harness, name: str, frame: Callable[[int, int], str], seq_of: Callable[[Any], int], collect: Collect
) -> None:
    keys, per_key = [1, 2, 3, 4, 5], 40
    session = h.session(max_workers=4, low_priority_workers=4)
    lock = threading.Lock()
    in_flight: DefaultDict[int, int] = defaultdict(int)
    overlaps: List[int] = []
    seen: DefaultDict[int, List[int]] = defaultdict(list)
    barrier = threading.Barrier(2, timeout=WAIT)
    barrier_results: List[str] = []
    done = collect()

    @session.on(name)
    def handle(event: ls.Event[Any]) -> None:
        key, seq = event.message.position_id, seq_of(event.message)
        with lock:
            in_flight[key] += 1
            if in_flight[key] > 1:
                overlaps.append(key)
            seen[key].append(seq)
        if seq == 0 and key in (1, 2):  # the first events of two keys meet inside their handlers
            try:
                barrier.wait()
                barrier_results.append("met")
            except threading.BrokenBarrierError:
                barrier_results.append("broken")
        total = 0
        for i in range(200):  # a little work, and a chance for other threads to run
            total += i
            if i % 50 == 0:
                time.sleep(0)
        with lock:
            in_flight[key] -= 1
        done.add(key)

    session.connect()
    h.server.send_many([frame(key, seq) for seq in range(per_key) for key in keys])
    done.wait_count(len(keys) * per_key)
    session.close()

    assert barrier_results == ["met", "met"], "handlers for keys 1 and 2 never ran at the same time"
    assert overlaps == [], f"two handlers for the same key ran concurrently: {overlaps}"
    assert {key: seen[key] for key in keys} == {key: list(range(per_key)) for key in keys}


# -- 2. high priority vs low-priority saturation ----------------------------------------------


def test_high_priority_handler_starts_while_every_low_worker_is_blocked(h: Harness, collect: Collect) -> None:
    low_workers, flood = 2, 20
    session = h.session(max_workers=4, low_priority_workers=low_workers)
    release = h.gate()
    started, finished = collect(), collect()
    at_exit: List[Tuple[bool, int, int]] = []
    exit_ran = threading.Event()

    @session.on(ls.PnlUpdate)
    def slow(event: ls.Event[ls.PnlUpdate]) -> None:
        started.add(event.message.position_id)
        release.wait(WAIT)
        finished.add(event.message.position_id)

    @session.on(ls.ExitSignalWithTx)
    def urgent(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        at_exit.append((release.is_set(), len(started.snapshot()), len(finished.snapshot())))
        exit_ran.set()

    session.connect()
    h.server.send_many([pnl(position_id) for position_id in range(100, 100 + flood)])
    started.wait_count(low_workers)  # every low worker is now stuck inside a handler
    h.server.send(exit_signal(7))
    assert exit_ran.wait(WAIT), "the exit signal handler did not start while the low lane was saturated"
    assert at_exit == [(False, low_workers, 0)]
    assert session.stats().queue_depths["low"] == flood - low_workers
    release.set()
    finished.wait_count(flood)
    session.close()
    assert sorted(finished.snapshot()) == list(range(100, 100 + flood))


# -- 3. conflation -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "frame", "value_of"), [
    ("pnl_update", pnl, lambda m: m.profit_units),
    ("liquidity_snapshot", liquidity, lambda m: m.server_time_ms),
])  # fmt: skip
def test_undelivered_update_is_replaced_by_the_newest(
    h: Harness, name: str, frame: Callable[[int, int], str], value_of: Callable[[Any], int], collect: Collect
) -> None:
    session = h.session(low_priority_workers=1)
    release = h.gate()
    blocked = threading.Event()
    seen = collect()

    @session.on(ls.PnlUpdate)
    def blocker(event: ls.Event[ls.PnlUpdate]) -> None:
        if event.message.position_id == 1:
            blocked.set()
            release.wait(WAIT)

    @session.on(name)
    def record(event: ls.Event[Any]) -> None:
        if event.message.position_id == 2:
            seen.add(value_of(event.message))

    marker = flag_on(session, "balance_update")
    session.connect()
    h.server.send(pnl(1))
    assert blocked.wait(WAIT)  # the only low worker is busy from here on
    h.server.send_many([frame(2, value) for value in range(1, 51)] + [balance()])
    assert marker.wait(WAIT)  # every update for position 2 has been submitted
    stats = session.stats()
    assert stats.low_priority_conflated == 49
    assert stats.low_priority_dropped == 0
    assert stats.queue_depths["low"] == 1  # one slot for position 2, holding the newest
    assert seen.snapshot() == []
    release.set()
    seen.wait_count(1)
    session.close()  # lets queued handlers finish, so anything else would be recorded by now
    assert seen.snapshot() == [50]
    assert session.stats().events_dispatched[name] == 50 + (1 if name == "pnl_update" else 0)


# -- 4. trade_tick backlog -----------------------------------------------------------------------


def _fill_tick_backlog(h: Harness, session: ls.StreamSession, release: threading.Event, seen: Collector) -> None:
    """Block the only low worker, then send 100 ticks for position 2; ``seen`` gets their time_ms."""
    blocked = threading.Event()

    @session.on(ls.PnlUpdate)
    def blocker(event: ls.Event[ls.PnlUpdate]) -> None:
        blocked.set()
        release.wait(WAIT)

    session.on(ls.TradeTick, lambda event: seen.add(event.message.time_ms))
    marker = flag_on(session, "balance_update")
    session.connect()
    h.server.send(pnl(1))
    assert blocked.wait(WAIT)
    h.server.send_many([tick(2, seq) for seq in range(1, 101)] + [balance()])
    assert marker.wait(WAIT)  # all 100 ticks have been submitted


def test_trade_tick_backlog_keeps_the_newest(h: Harness, caplog: pytest.LogCaptureFixture, collect: Collect) -> None:
    caplog.set_level(logging.WARNING, logger="lasersell_sync")
    session = h.session(low_priority_workers=1, trade_tick_backlog=10)
    release = h.gate()
    seen = collect()
    _fill_tick_backlog(h, session, release, seen)
    assert session.stats().low_priority_dropped == 90
    warnings = [r for r in caplog.records if "trade_tick backlog full" in r.getMessage()]
    assert len(warnings) == 1  # rate-limited: one warning, not ninety
    assert seen.snapshot() == []
    release.set()
    seen.wait_count(10)
    session.close()
    assert seen.snapshot() == list(range(91, 101))
    stats = session.stats()
    assert stats.low_priority_dropped == 90
    assert stats.low_priority_conflated == 0
    assert stats.events_dispatched["trade_tick"] == 100


def test_trade_tick_backlog_queue_depth_counts_only_the_kept_ticks(h: Harness, collect: Collect) -> None:
    """The backlog bound should bound what is queued, not just which events survive."""
    session = h.session(low_priority_workers=1, trade_tick_backlog=10)
    release = h.gate()
    _fill_tick_backlog(h, session, release, collect())
    assert session.stats().low_priority_dropped == 90
    # 10 ticks wait; the 90 dropped ones left the queue.
    assert session.stats().queue_depths["low"] == 10


# -- 5. parallel high-priority handlers --------------------------------------------------------


def test_ten_exit_signals_for_ten_positions_run_in_parallel(h: Harness, collect: Collect) -> None:
    session = h.session(max_workers=10)
    barrier = threading.Barrier(10, timeout=WAIT)
    results = collect()

    @session.on(ls.ExitSignalWithTx)
    def handle(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        try:
            barrier.wait()  # returns only once all ten handlers are inside
            results.add(("met", event.message.position_id))
        except threading.BrokenBarrierError:
            results.add(("broken", event.message.position_id))

    session.connect()
    h.server.send_many([exit_signal(position_id) for position_id in range(1, 11)])
    results.wait_count(10)
    session.close()
    assert sorted(results.snapshot()) == [("met", position_id) for position_id in range(1, 11)]


# -- 6. handler errors -------------------------------------------------------------------------


def test_handler_error_goes_to_on_error_and_the_session_carries_on(
    h: Harness, caplog: pytest.LogCaptureFixture, collect: Collect
) -> None:
    caplog.set_level(logging.ERROR, logger="lasersell_sync")
    session = h.session()
    boom = RuntimeError("boom")
    calls = collect()
    errors = collect()

    @session.on(ls.ExitSignalWithTx)
    def failing(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        calls.add(("failing", event.message.position_id))
        if event.message.position_id == 1:
            raise boom

    @session.on(ls.ExitSignalWithTx)
    def second(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        calls.add(("second", event.message.position_id))

    @session.on_error
    def broken_error_handler(exc: BaseException, event: Optional[ls.Event[Any]]) -> None:
        errors.add(("broken", exc))
        raise ValueError("the error handler itself fails")

    @session.on_error
    def error_handler(exc: BaseException, event: Optional[ls.Event[Any]]) -> None:
        errors.add(("ok", exc, event))

    session.connect()
    h.server.send(exit_signal(1))
    calls.wait(lambda items: ("second", 1) in items)
    h.server.send(exit_signal(2))  # the same key: the same session still handles it
    calls.wait(lambda items: ("second", 2) in items)
    session.close()

    assert [c for c in calls.snapshot() if c[1] == 1] == [("failing", 1), ("second", 1)]
    assert [c for c in calls.snapshot() if c[1] == 2] == [("failing", 2), ("second", 2)]
    recorded = errors.snapshot()
    assert len(recorded) == 2, recorded  # each on_error handler once: no recursion
    assert recorded[0] == ("broken", boom)
    kind, exc, event = recorded[1]
    assert (kind, exc) == ("ok", boom)
    assert event is not None
    assert event.type == "exit_signal_with_tx"
    assert event.message.position_id == 1
    assert session.stats().handler_errors == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("on_error handler" in m and "failed" in m for m in messages), messages
    assert any("for exit_signal_with_tx failed" in m for m in messages), messages
    assert not [m for m in messages if "the error handler itself fails" in m]  # no recursion


# -- 7. protocol errors --------------------------------------------------------------------------


def test_malformed_frame_reaches_on_error_without_an_event(h: Harness, collect: Collect) -> None:
    session = h.session()
    errors, pnls = collect(), collect()
    session.on_error(lambda exc, event: errors.add((exc, event)))
    session.on(ls.PnlUpdate, pnls)
    session.connect()
    h.server.send_many(["not json {", pnl(5, 42)])
    pnls.wait_count(1)
    ((exc, event),) = errors.wait_count(1)
    session.close()
    assert isinstance(exc, ls.ProtocolError)
    assert event is None
    assert [e.message.profit_units for e in pnls.snapshot()] == [42]
    stats = session.stats()
    assert stats.decode_errors == 1
    assert stats.handler_errors == 0


# -- 8. close() from a handler ---------------------------------------------------------------


def test_close_from_inside_a_handler_does_not_deadlock(h: Harness, collect: Collect) -> None:
    session = h.session()
    close_returned = threading.Event()
    closed = collect()

    @session.on(ls.ExitSignalWithTx)
    def stop(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        session.close(timeout=WAIT)  # the other workers deliver "closed" within it, then exit
        close_returned.set()

    @session.on("closed")
    def on_closed(event: ls.Event[ls.Closed]) -> None:
        closed.add(event)

    session.connect()
    h.server.send(exit_signal(1))
    assert close_returned.wait(WAIT), "close() inside a handler did not return"
    (event,) = closed.wait_count(1)
    assert isinstance(event.message, ls.Closed)
    assert event.message.error is None
    assert session.close(timeout=WAIT) is True  # idempotent; from here it joins every worker
    assert not session.connected
    alive = [t.name for t in threading.enumerate() if t.name.startswith("lasersell-") and t.is_alive()]
    assert alive == []
    assert len(closed.snapshot()) == 1
    with pytest.raises(ls.SessionClosedError):
        session.ping()


# -- 9. registration errors --------------------------------------------------------------------


def test_registration_is_validated_when_registering(h: Harness, collect: Collect) -> None:
    session = h.session()

    def one(event: Any) -> None:
        pass

    with pytest.raises(ValueError, match="no_such_event"):
        session.on("no_such_event", one)
    with pytest.raises(ValueError, match="typo"):
        session.on("typo")  # the decorator factory itself raises, before any def
    with pytest.raises(ValueError, match="typo"):

        @session.on("typo")
        def never(event: Any) -> None:
            pass

    with pytest.raises(ValueError, match="not a LaserSell event"):
        session.on(int)
    with pytest.raises(ValueError, match="not a LaserSell event"):
        session.on(int, one)

    def two(event: Any, extra: Any) -> None:
        pass

    with pytest.raises(TypeError):
        session.on("pnl_update", two)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        session.on(ls.PnlUpdate)(two)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        session.on_any(two)
    with pytest.raises(TypeError):
        session.on_error(one)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        session.on("pnl_update", "not callable")  # type: ignore[call-overload]

    def optional_extra(event: Any, extra: Any = None) -> None:
        pass

    assert session.on("pnl_update", optional_extra) is optional_extra  # one required arg is enough

    by_class, by_name = collect(), collect()

    def class_handler(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        by_class.add(event)

    def name_handler(event: ls.Event[Any]) -> None:
        by_name.add(event)

    assert session.on(ls.ExitSignalWithTx)(class_handler) is class_handler
    assert session.on("exit_signal_with_tx", name_handler) is name_handler
    session.connect()
    h.server.send(exit_signal(3))
    (a,) = by_class.wait_count(1)
    (b,) = by_name.wait_count(1)
    session.close()
    assert a is b
    assert isinstance(a.message, ls.ExitSignalWithTx)


# -- 10. on_any and lifecycle events -----------------------------------------------------------


def _seq(event: ls.Event[Any]) -> Optional[int]:
    """Which exit signal this is (its triggered_at_ms); None for other events."""
    return getattr(event.message, "triggered_at_ms", None)


def test_on_any_runs_after_exact_handlers_and_lifecycle_events_are_delivered(h: Harness, collect: Collect) -> None:
    session = h.session()
    calls = collect()
    lifecycle: Dict[str, List[ls.Event[Any]]] = defaultdict(list)

    @session.on_any  # registered first, still runs after the exact handlers
    def any_handler(event: ls.Event[Any]) -> None:
        calls.add(("any", event.type, _seq(event)))

    @session.on(ls.ExitSignalWithTx)
    def exact1(event: ls.Event[Any]) -> None:
        calls.add(("exact1", event.type, _seq(event)))

    @session.on("exit_signal_with_tx")
    def exact2(event: ls.Event[Any]) -> None:
        calls.add(("exact2", event.type, _seq(event)))

    for name in ("connected", "closed"):
        session.on(name, lambda event: lifecycle[event.type].append(event))

    hello = session.connect()
    h.server.send_many([exit_signal(1, seq) for seq in range(3)])
    calls.wait(lambda items: sum(1 for c in items if c[:2] == ("any", "exit_signal_with_tx")) == 3)
    session.close()

    per_event: DefaultDict[int, List[str]] = defaultdict(list)
    for who, name, seq in calls.snapshot():
        if name == "exit_signal_with_tx":
            per_event[seq].append(who)
    assert dict(per_event) == {seq: ["exact1", "exact2", "any"] for seq in range(3)}
    any_types = [name for who, name, _ in calls.snapshot() if who == "any"]
    for name in ("connected", "hello_ok", "disconnected", "closed"):
        assert name in any_types

    (connected,) = lifecycle["connected"]
    assert isinstance(connected.message, ls.Connected)
    assert connected.message.reconnect is False
    assert connected.message.hello == hello
    assert connected.handle is None
    (closed,) = lifecycle["closed"]
    assert isinstance(closed.message, ls.Closed)


# -- 11. the events() iterator ---------------------------------------------------------------


def test_events_iterator_yields_each_lane_in_arrival_order_alongside_handlers(h: Harness, collect: Collect) -> None:
    session = h.session()
    by_handler = collect()
    session.on(ls.TradeTick, by_handler)
    marker = flag_on(session, "balance_update")
    events = session.events(timeout=WAIT)
    session.connect()
    h.server.send_many([tick(1, seq) for seq in range(20)] + [exit_signal(2), pnl(3, 9), balance()])
    assert marker.wait(WAIT)  # everything was submitted before the loop reads anything

    received = [next(events) for _ in range(25)]
    assert [e.type for e in received] == (
        ["connected", "hello_ok", "exit_signal_with_tx", "balance_update"] + ["trade_tick"] * 20 + ["pnl_update"]
    )  # high priority first; each lane in arrival order
    assert [e.message.time_ms for e in received[4:24]] == list(range(20))

    handled = by_handler.wait_count(20)
    assert all(a is b for a, b in zip(handled, received[4:24]))  # the very same Event objects

    session.close()
    rest = list(events)
    assert [e.type for e in rest] == ["disconnected", "closed"]
    with pytest.raises(StopIteration):
        next(events)


def test_events_iterator_created_after_close_ends(h: Harness, collect: Collect) -> None:
    """``events()`` says it ends when the session closes; one made afterwards must not block."""
    session = h.session()
    session.connect()
    session.close()
    events = session.events()  # no timeout: only the session's end can stop it
    outcome = collect()

    def consume() -> None:
        outcome.add(next(events, "ended"))

    thread = threading.Thread(target=consume, name="test-events-consumer", daemon=True)
    thread.start()
    ended_by_itself = outcome.reached(bool)  # at once; the bound is only reached if it hangs
    if not ended_by_itself:
        events.close()  # do not leave the consumer thread behind
    thread.join(WAIT)
    assert ended_by_itself, "an iterator created after close() blocks forever"
    assert outcome.snapshot() == ["ended"], "an iterator created after close() blocks forever"


# -- 12. event objects -------------------------------------------------------------------------


def test_event_carries_the_typed_message_the_position_handle_and_a_monotonic_time(h: Harness, collect: Collect) -> None:
    session = h.session()
    account = "4" * 32
    opens, pnls = collect(), collect()
    session.on(ls.PositionOpened, opens)
    session.on(ls.PnlUpdate, lambda event: pnls.add((event, time.monotonic())))
    session.connect()

    before = time.monotonic()
    h.server.send_many([opened(9, account), pnl(9, 77), pnl(10, 1)])
    (opened_event,) = opens.wait_count(1)
    items = pnls.wait_count(2)
    session.close()

    (pnl_event, handled_at), (untracked, _) = sorted(items, key=lambda pair: pair[0].message.position_id)
    assert opened_event.type == "position_opened"
    assert isinstance(opened_event.message, ls.PositionOpened)
    assert opened_event.handle is not None
    assert opened_event.handle.token_account == account

    assert pnl_event.type == "pnl_update"
    assert isinstance(pnl_event.message, ls.PnlUpdate)
    assert pnl_event.message.profit_units == 77
    assert isinstance(pnl_event.handle, ls.PositionHandle)
    assert pnl_event.handle.token_account == account
    assert pnl_event.handle.position_id == 9
    assert pnl_event.handle.wallet_pubkey == WALLET
    assert pnl_event.handle == opened_event.handle
    assert isinstance(pnl_event.received_at, float)
    assert before <= opened_event.received_at <= pnl_event.received_at <= handled_at

    assert untracked.message.position_id == 10
    assert untracked.handle is None
