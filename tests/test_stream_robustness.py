"""The stream under stress and misuse: each test here failed on the code before its fix.

Errors are never silent or fatal, lifecycle events run in order, the intent keeps only what the
server accepted, ``events()`` is bounded, fair and closeable, a half-open link loses no command,
and inputs are checked before anything is sent. Every wait is on a condition or an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import socket
import threading
from typing import Any, Iterator, List

import pytest

import lasersell_sync as ls
from lasersell_sync.stream.transport.keepalive import Keepalive
from tests.sessionharness import (
    KEY,
    STRATEGY,
    WALLET,
    Harness,
    balance,
    exit_signal,
    liquidity,
    opened,
    pnl,
    tick,
)
from tests.support import WAIT, Collect
from tests.wsserver import ScriptedServer

FAST = ls.Backoff(initial=0.01, maximum=0.04, healthy_after=0.0)
OTHER = "So11111111111111111111111111111111111111112"
ACCOUNT = "LbUiWL3xVV8hTFYBVdbTNrpDo41NKS6o3LHHuDzjfcY"


@pytest.fixture
def h(server: ScriptedServer) -> Iterator[Harness]:
    harness = Harness(server)
    yield harness
    harness.close_all()


@contextlib.contextmanager
def unconfigured_logging() -> Iterator[None]:
    """A plain script: no logging handler anywhere (pytest's capture handler set aside)."""
    root = logging.getLogger()
    saved, root.handlers = root.handlers, []
    try:
        yield
    finally:
        root.handlers = saved


def marker_seen(session: ls.StreamSession) -> threading.Event:
    """Set when the balance marker's handler runs: every earlier frame was submitted by then."""
    seen = threading.Event()
    session.on(ls.BalanceUpdate, lambda event: seen.set())
    return seen


# -- 2. handler failures are never silent or fatal ---------------------------------------------


def test_unhandled_errors_are_printed_when_nobody_handles_them(h: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    with unconfigured_logging():
        _raise_in_a_handler_and_send_a_bad_frame(h)
    err = capsys.readouterr().err
    assert "lasersell_sync: unhandled error (exit_signal_with_tx event)" in err
    assert "Traceback (most recent call last)" in err
    assert "ValueError: boom in the exit handler" in err
    assert "ProtocolError: frame is not valid JSON" in err  # the bad frame: one line


def _raise_in_a_handler_and_send_a_bad_frame(h: Harness) -> None:
    session = h.session()
    done = threading.Event()

    @session.on(ls.ExitSignalWithTx)
    def failing(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        raise ValueError("boom in the exit handler")

    session.on(ls.BalanceUpdate, lambda event: done.set())
    session.connect()
    h.server.send_many([exit_signal(1), "garbage", balance()])
    assert done.wait(WAIT)
    assert session.close() is True  # queued error reports ran before close() returned


def test_failed_reconnects_are_printed_when_nobody_handles_them(h: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    with unconfigured_logging():
        _fail_one_reconnect(h)
    assert "ConnectError: WebSocket upgrade refused with HTTP 503" in capsys.readouterr().err


def _fail_one_reconnect(h: Harness) -> None:
    session = h.session(backoff=FAST)
    reconnected = threading.Event()
    session.on("connected", lambda event: event.message.reconnect and reconnected.set())
    session.connect()
    h.server.reject_status = 503
    attempts = h.server.attempts
    h.server.drop()
    h.server.wait_until(lambda: h.server.attempts >= attempts + 2)
    h.server.reject_status = None
    assert reconnected.wait(WAIT)
    assert session.close() is True


def test_logged_errors_are_not_printed_twice(h: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    """With logging configured (pytest's handler here), the log record is the report."""
    session = h.session()
    done = threading.Event()
    session.on(ls.ExitSignalWithTx, lambda event: 1 / 0)
    session.on(ls.BalanceUpdate, lambda event: done.set())
    session.connect()
    h.server.send_many([exit_signal(1), balance()])
    assert done.wait(WAIT)
    session.close()
    assert "ZeroDivisionError" not in capsys.readouterr().err


@pytest.mark.parametrize("error", [SystemExit(3), KeyboardInterrupt(), GeneratorExit(), BaseException("odd")])
def test_a_worker_survives_any_base_exception(h: Harness, error: BaseException, collect: Collect) -> None:
    session = h.session(max_workers=2)
    handled, errors = collect(), collect()

    @session.on(ls.ExitSignalWithTx)
    def on_exit(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        if event.message.position_id < 20:
            raise error
        handled.add(event.message.position_id)

    session.on_error(lambda exc, event: errors.add(exc))
    session.connect()
    h.server.send_many([exit_signal(i) for i in range(20)] + [exit_signal(20)])
    assert handled.wait_count(1) == [20]  # with two dead workers this never ran
    assert len(errors.wait_count(20)) == 20
    assert all(exc is error for exc in errors.snapshot())
    assert session.connected
    assert session.stats().handler_errors == 20


class _AsyncCallable:
    async def __call__(self, event: Any) -> None:
        pass


async def _async_handler(event: Any) -> None:
    pass


@pytest.mark.parametrize(
    "handler", [_async_handler, _AsyncCallable(), functools.partial(_async_handler)], ids=["def", "callable", "partial"]
)
def test_async_handlers_are_refused_at_registration(h: Harness, handler: Any) -> None:
    session = h.session()
    with pytest.raises(TypeError, match=r"async function; .* use a plain def"):
        session.on(ls.ExitSignalWithTx, handler)
    with pytest.raises(TypeError, match="async function"):
        session.on_any(handler)


def test_a_handler_returning_a_coroutine_is_reported(h: Harness, collect: Collect) -> None:
    session = h.session()
    errors = collect()
    session.on(ls.ExitSignalWithTx, lambda event: asyncio.sleep(0))
    session.on_error(lambda exc, event: errors.add(exc))
    session.connect()
    h.server.send(exit_signal(1))
    (error,) = errors.wait_count(1)
    assert isinstance(error, TypeError)
    assert "returned an awaitable" in str(error)


# -- 3. lifecycle events run one at a time, in order -------------------------------------------


def test_a_slow_disconnected_handler_finishes_before_the_next_connected_one(h: Harness, collect: Collect) -> None:
    session = h.session(backoff=FAST)
    order = collect()
    gate = h.gate()
    hellos = collect()

    @session.on("disconnected")
    def on_disconnected(event: ls.Event[ls.Disconnected]) -> None:
        gate.wait(WAIT)
        order.add("disconnected")

    session.on("connected", lambda event: order.add(("connected", event.message.reconnect)))
    session.on(ls.HelloOk, hellos.add)
    session.connect()
    order.wait_count(1)
    h.server.drop()
    hellos.wait_count(2)  # the reconnect's hello_ok ran: its "connected" event is queued by now
    assert order.snapshot() == [("connected", False)]
    gate.set()
    assert order.wait_count(3) == [("connected", False), "disconnected", ("connected", True)]


# -- 4. the intent keeps only what the server accepted -----------------------------------------


def test_a_rejected_wallet_update_is_rolled_back_and_does_not_poison_the_reconnect(
    h: Harness, collect: Collect
) -> None:
    h.server.unregistered = {OTHER}
    h.server.answer_pings = True
    session = h.session(backoff=FAST)
    errors, connected = collect(), collect()
    session.on_error(lambda exc, event: errors.add(exc))
    session.on("connected", connected.add)
    session.connect()
    assert session.update_wallets([WALLET, OTHER]) is True  # written; the server says no later
    (rejected,) = errors.wait_count(1)
    assert isinstance(rejected, ls.CommandRejectedError)
    assert rejected.code == "wallet_not_registered"
    assert isinstance(rejected.command, ls.proto.UpdateWallets)
    assert session.stats().commands_rejected == 1

    h.server.drop()
    connected.wait_count(2)
    configures = h.server.frames("configure")
    assert [d["wallet_pubkeys"] for _, d in configures] == [[WALLET], [WALLET]]
    assert session.connected
    assert not session.closed


def test_an_accepted_update_is_not_rolled_back_by_a_later_error(h: Harness, collect: Collect) -> None:
    h.server.answer_pings = True
    session = h.session(backoff=FAST)
    pongs, errors, connected = collect(), collect(), collect()
    session.on(ls.Pong, pongs.add)
    session.on(ls.ErrorMessage, errors.add)
    session.on("connected", connected.add)
    session.connect()
    session.update_wallets([WALLET, OTHER])
    pongs.wait_count(1)  # the barrier's pong: accepted
    h.server.send(ls.proto.encode_server(ls.ErrorMessage(code="capacity_exceeded", message="positions")))
    errors.wait_count(1)
    h.server.drop()
    connected.wait_count(2)
    assert h.server.frames("configure")[1][1]["wallet_pubkeys"] == [WALLET, OTHER]
    assert session.stats().commands_rejected == 0


def test_a_change_made_offline_and_refused_by_the_handshake_is_rolled_back(h: Harness, collect: Collect) -> None:
    session = h.session(backoff=FAST)
    errors, connected, disconnected = collect(), collect(), collect()
    session.on_error(lambda exc, event: errors.add(exc))
    session.on("connected", connected.add)
    session.on("disconnected", disconnected.add)
    session.connect()
    h.server.reject_status = 503
    h.server.unregistered = {OTHER}
    h.server.drop()
    disconnected.wait_count(1)
    assert session.update_wallets([OTHER]) is False  # kept for the next connection
    after = h.server.attempts
    h.server.wait_until(lambda: h.server.attempts >= after + 2)  # the next configure carries it
    h.server.reject_status = None
    connected.wait_count(2)
    rejected = [e for e in errors.snapshot() if isinstance(e, ls.CommandRejectedError)]
    assert [e.code for e in rejected] == ["wallet_not_registered"]
    assert [d["wallet_pubkeys"] for _, d in h.server.frames("configure")][-2:] == [[OTHER], [WALLET]]
    assert not session.closed


# -- 5. events(): bounded, fair and closeable ---------------------------------------------------


def test_events_serves_high_priority_first_and_conflates_and_bounds_the_rest(h: Harness) -> None:
    session = h.session(trade_tick_backlog=5)
    seen = marker_seen(session)
    events = session.events()
    session.connect()
    frames = [pnl(p, seq) for seq in range(1, 51) for p in (1, 2, 3)]
    frames += [liquidity(1, seq) for seq in range(1, 11)] + [tick(4, seq) for seq in range(1, 21)]
    h.server.send_many([*frames, exit_signal(9), balance()])
    assert seen.wait(WAIT)

    drained: List[ls.Event[Any]] = []
    while (event := events.get(timeout=0)) is not None:
        drained.append(event)
    names = [e.type for e in drained]
    assert names[:4] == ["connected", "hello_ok", "exit_signal_with_tx", "balance_update"]
    low = drained[4:]
    assert [(e.type, e.message.position_id) for e in low[:4]] == [
        ("pnl_update", 1),
        ("pnl_update", 2),
        ("pnl_update", 3),
        ("liquidity_snapshot", 1),
    ]
    assert [e.message.profit_units for e in low[:3]] == [50, 50, 50]  # the newest of each
    assert [e.message.time_ms for e in low[4:]] == [16, 17, 18, 19, 20]  # the newest five ticks
    stats = session.stats()
    assert stats.iterator_conflated == 147 + 9
    assert stats.iterator_dropped == 15
    assert stats.queue_depths["events_iterators"] == 0
    events.close()


def test_an_abandoned_events_loop_detaches(h: Harness) -> None:
    session = h.session()
    seen = marker_seen(session)
    session.connect()
    loop, scoped = session.events(), session.events()
    h.server.send(pnl(1, 0))
    for _event in loop:
        break
    del loop  # a loop left with break: the iterator is garbage now
    gc.collect()
    with scoped as events:
        next(events)
    assert events.closed
    h.server.send_many([pnl(1, seq) for seq in range(100)] + [tick(1, seq) for seq in range(100)] + [balance()])
    assert seen.wait(WAIT)
    assert session.stats().queue_depths["events_iterators"] == 0  # nobody buffers for them
    with pytest.raises(ls.SessionClosedError):
        events.get(timeout=0)


def test_an_idle_timeout_is_distinguishable_from_the_session_closing(h: Harness) -> None:
    session = h.session()
    session.connect()
    idle = session.events(timeout=0.01)
    assert [e.type for e in idle] == []
    assert idle.timed_out
    assert not session.closed
    waiting = session.events()
    assert waiting.get(timeout=0) is None  # nothing now; the iterator stays usable
    session.close()
    assert [e.type for e in waiting] == ["disconnected", "closed"]
    assert not waiting.timed_out
    assert waiting.closed
    assert session.closed
    with pytest.raises(ls.SessionClosedError):
        waiting.get()


# -- 6. half-open links: detected within 15 s, no command lost ----------------------------------


def _simulate_clock(settings: Keepalive, answer: bool, until: float) -> List[tuple]:
    """Drive a keepalive clock through ``until`` seconds of an idle (answered or silent) link."""
    clock, now, actions = settings.start(0.0), 0.0, []
    while now < until:
        now = clock.next_wakeup()
        action = clock.due(now)
        if action is not None:
            actions.append((round(now, 3), action))
        if action == "dead":
            break
        if action in ("ping", "app_ping") and answer:
            clock.received(now + 0.001)
    return actions


def test_default_keepalive_declares_a_silent_link_dead_within_15_s() -> None:
    settings = Keepalive(10.0, 4.0, 30.0)
    connection = ls.StreamConnection(
        KEY, ls.proto.Configure(wallet_pubkeys=(WALLET,), strategy=STRATEGY), on_message=print
    )
    assert connection._keepalive == settings  # the defaults
    assert _simulate_clock(settings, answer=False, until=60) == [(10.0, "ping"), (14.0, "dead")]


def test_default_keepalive_wakes_an_idle_link_at_most_once_per_5_s() -> None:
    actions = _simulate_clock(Keepalive(10.0, 4.0, 30.0), answer=True, until=600)
    probes = [a for a in actions if a[1] in ("ping", "app_ping")]
    assert len(probes) <= 600 / 10  # each probe and its answer: two wake-ups per 10 s
    assert len(actions) == len(probes)  # no other wake-up
    app_pings = [t for t, a in actions if a == "app_ping"]
    assert app_pings
    assert max(b - a for a, b in zip([0.0, *app_pings], app_pings)) <= 30.01


def test_a_command_written_into_a_silent_link_is_sent_again_after_the_reconnect(h: Harness) -> None:
    h.server.answer_pings = True
    # no keepalive traffic: a late pong must not vouch for the commands written into the silence
    session = h.session(backoff=FAST, ping_interval=60, app_ping_interval=None)
    session.connect()
    h.server.send(opened(5, ACCOUNT))
    assert session.close_position(7) is True  # the server reads it, then sends a frame after it
    session.ping()
    h.server.wait_frames("ping")
    marker = marker_seen(session)
    h.server.send(balance())
    assert marker.wait(WAIT)
    h.server.go_silent()
    assert session.close_position(ACCOUNT) is True  # into the silence: returned True, then lost
    assert session.request_exit_signal(8, slippage_bps=500) is True
    h.server.drop()  # the silent link finally dies (keepalive detection is tested on its own)
    h.server.wait_until(lambda: len([n for n, _ in h.server.frames() if n == 1]) >= 3)
    second = [d for n, d in h.server.frames() if n == 1]
    assert [d["type"] for d in second] == ["configure", "close_position", "request_exit_signal"]
    assert second[1] == {"type": "close_position", "token_account": ACCOUNT}
    assert second[2] == {"type": "request_exit_signal", "position_id": 8, "slippage_bps": 500}
    assert [d for _, d in h.server.frames("close_position")].count({"type": "close_position", "position_id": 7}) == 1


def test_the_first_reconnect_after_a_healthy_connection_is_immediate(h: Harness, collect: Collect) -> None:
    session = h.session(backoff=ls.Backoff(initial=5.0, maximum=5.0, healthy_after=0.0))
    attempts, connected = collect(), collect()
    session.on("reconnecting", attempts.add)
    session.on("connected", connected.add)
    session.connect()
    h.server.drop()
    connected.wait_count(2)  # with a 0-5 s jitter on the first attempt this would rarely be quick
    (first,) = attempts.snapshot()
    assert (first.message.attempt, first.message.delay) == (1, 0.0)


def test_a_frame_already_waiting_is_not_mistaken_for_silence() -> None:
    from lasersell_sync.stream.transport.wire import readable as _data_waiting

    a, b = socket.socketpair()
    try:
        assert not _data_waiting(a)
        b.sendall(b"\x81\x00")
        assert _data_waiting(a)
    finally:
        a.close()
        b.close()
    assert not _data_waiting(None)


# -- 7. inputs are checked before anything is sent -----------------------------------------------


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"tip_lamports": -1}, "tip_lamports"),
        ({"tip_lamports": 1.5}, "tip_lamports"),
        ({"send_mode": "bogus"}, "send_mode"),
        ({"mirror_config": {"cooldown_sec": 5}}, "mirror_config"),
    ],
)
def test_session_settings_are_checked_at_construction(server: ScriptedServer, options: dict, field: str) -> None:
    with pytest.raises((ValueError, TypeError), match=field):
        ls.StreamSession(KEY, [WALLET], STRATEGY, endpoint=server.url, **options)
    assert server.attempts == 0


def test_a_ladder_level_of_the_wrong_type_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"strategy\.take_profit_levels\[0\] must be a TakeProfitLevel"):
        ls.StrategyConfig(target_profit_pct=0, stop_loss_pct=10, take_profit_levels=({"profit_pct": 5},))  # type: ignore[arg-type]


def test_a_stop_loss_above_100_percent_is_warned_about() -> None:
    with pytest.warns(ls.StrategyWarning, match="stop_loss_pct=150 can never trigger") as caught:
        ls.StrategyConfig(target_profit_pct=10, stop_loss_pct=150)
    assert caught[0].filename == __file__  # pointed at the line that built it


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), "5"])
def test_connect_refuses_a_timeout_that_is_not_positive(server: ScriptedServer, timeout: Any) -> None:
    session = ls.StreamSession(KEY, [WALLET], STRATEGY, endpoint=server.url)
    with pytest.raises(ValueError, match="timeout must be a number of seconds > 0"):
        session.connect(timeout=timeout)
    assert server.attempts == 0
    session.close()


# -- 8. smaller defects ----------------------------------------------------------------------------


def test_each_unknown_message_type_is_logged_once_and_still_delivered(
    h: Harness, caplog: pytest.LogCaptureFixture, collect: Collect
) -> None:
    caplog.set_level(logging.WARNING, logger="lasersell_sync")
    session = h.session()
    unknown = collect()
    session.on("unknown", unknown.add)
    session.connect()
    h.server.send_many(['{"type":"new_thing","a":1}', '{"type":"new_thing","a":2}', '{"type":"other"}'])
    assert [e.message.type for e in unknown.wait_count(3)] == ["new_thing", "new_thing", "other"]
    warned = [r.getMessage() for r in caplog.records if "unknown type" in r.getMessage()]
    assert len(warned) == 2
    assert "'new_thing'" in warned[0]
    assert "'other'" in warned[1]


@pytest.mark.parametrize(("wire", "canonical"), [("pumpfun", "pump_fun"), ("pumpswap", "pump_swap")])
def test_unseparated_market_type_spellings_decode_to_the_wire_values(wire: str, canonical: str) -> None:
    context = ls.proto.from_wire(ls.proto.MarketContext, {"market_type": wire})
    assert context.market_type == canonical
    assert ls.proto.to_wire(context) == {"market_type": canonical}


def test_close_reports_a_handler_still_running(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="lasersell_sync")
    session = h.session()
    gate, started = h.gate(), threading.Event()

    @session.on(ls.ExitSignalWithTx)
    def stuck(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        started.set()
        gate.wait(WAIT)

    session.connect()
    h.server.send(exit_signal(1))
    assert started.wait(WAIT)
    assert session.close(timeout=0.01) is False
    message = next(r.getMessage() for r in caplog.records if "still running" in r.getMessage())
    assert "lasersell-worker-" in message
    gate.set()


def test_close_returns_true_when_everything_stopped(h: Harness) -> None:
    session = h.session()
    session.connect()
    assert session.close() is True
    assert session.close() is True  # idempotent


def test_configure_only_settings_are_checked_on_the_transport_too(server: ScriptedServer) -> None:
    connection = ls.StreamConnection(
        KEY, ls.proto.Configure(wallet_pubkeys=(WALLET,), strategy=STRATEGY), on_message=print
    )
    with pytest.raises(ValueError, match="send_mode"):
        connection.update_intent(send_mode="bogus")
    with pytest.raises(ValueError, match="tip_lamports"):
        connection.update_intent(tip_lamports=-5)
    assert connection.update_intent(send_mode="helius_sender").send_mode == "helius_sender"
