"""The transport against a real WebSocket server on 127.0.0.1 (tests/wsserver.py)."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from typing import Any, Callable, Iterator, List, Optional

import pytest

import lasersell_sync as ls
from lasersell_sync.backoff import Backoff, exponential_delay
from lasersell_sync.stream import (
    BadFrame,
    Closed,
    Connected,
    Disconnected,
    Reconnecting,
    StreamConnection,
    TransportEvent,
)
from tests.support import Collect
from tests.wsserver import ScriptedServer

KEY = "sk-test-SECRET-0123456789"
WALLET = "1" * 32
CONFIGURE = ls.proto.Configure(
    wallet_pubkeys=(WALLET,), strategy=ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=10)
)
FAST = Backoff(initial=0.01, maximum=0.04)
PNL = '{"type":"pnl_update","position_id":%d,"profit_units":1,"proceeds_units":2,"server_time_ms":3}'


def reconnected(events: List[Any]) -> List[Connected]:
    """The ``Connected`` events of reconnects (a predicate for ``rec.events.wait``)."""
    return [e for e in events if isinstance(e, Connected) and e.reconnect]


class TransportLog:
    """What the transport reports: its messages and its events, each on a collector to wait on."""

    def __init__(self, collect: Collect) -> None:
        self.messages = collect("messages")
        self.events = collect("transport events")
        self.on_message_hook: Optional[Callable[[Any], None]] = None

    def on_message(self, message: Any, received_at: float) -> None:
        assert isinstance(received_at, float)
        self.messages.add(message)
        if self.on_message_hook is not None:
            self.on_message_hook(message)

    def on_event(self, event: TransportEvent) -> None:
        self.events.add(event)

    def of(self, kind: type) -> List[Any]:
        """The events of one kind so far."""
        return self.events.of(kind)


@pytest.fixture
def rec(collect: Collect) -> TransportLog:
    return TransportLog(collect)


@pytest.fixture
def make(server: ScriptedServer, rec: TransportLog) -> Iterator[Callable[..., StreamConnection]]:
    made: List[StreamConnection] = []

    def factory(**options: Any) -> StreamConnection:
        options.setdefault("endpoint", server.url)
        options.setdefault("backoff", FAST)
        options.setdefault("connect_timeout", 30.0)  # a stalled handshake must not add an attempt
        conn = StreamConnection(KEY, CONFIGURE, on_message=rec.on_message, on_event=rec.on_event, **options)
        made.append(conn)
        return conn

    yield factory
    for conn in made:
        conn.close()


def test_handshake_configure_first(server: ScriptedServer, rec: TransportLog, make: Any) -> None:
    conn = make()
    hello = conn.connect()
    assert hello.session_id == 1
    assert server.api_keys == [KEY]
    ((_number, configure),) = server.frames("configure")
    assert configure == json.loads(ls.proto.encode_client(CONFIGURE))
    assert server.received[0][1] == ls.proto.encode_client(CONFIGURE)  # byte-exact compact encoding
    assert rec.messages.snapshot()[0] == hello
    assert rec.of(Connected) == [Connected(hello=hello, reconnect=False)]
    assert conn.connected
    assert conn.hello == hello


def test_handshake_hello_first(server: ScriptedServer, rec: TransportLog, make: Any) -> None:
    server.hello_first = True
    hello = make().connect()
    assert hello.session_id == 1
    assert len(server.wait_frames("configure")) == 1
    assert rec.messages.snapshot() == [hello]


def test_messages_before_hello_ok_are_delivered_after_it_in_order(
    server: ScriptedServer, rec: TransportLog, make: Any
) -> None:
    server.early_frames = [PNL % 1, "not json", PNL % 2]
    make().connect()
    messages = rec.messages.snapshot()
    types = [type(m).__name__ for m in messages]
    assert types == ["HelloOk", "PnlUpdate", "PnlUpdate"]
    assert [m.position_id for m in messages[1:]] == [1, 2]
    assert len(rec.of(BadFrame)) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_auth_rejection_fails_fast_without_retry(server: ScriptedServer, make: Any, status: int) -> None:
    server.reject_status = status
    conn = make()
    with pytest.raises(ls.AuthenticationError) as info:
        conn.connect()
    assert info.value.status == status
    assert KEY not in str(info.value)
    assert server.attempts == 1
    assert not conn.connected


def test_handshake_error_becomes_stream_server_error(server: ScriptedServer, make: Any) -> None:
    server.handshake_error = ("wallet_not_registered", "wallet 111 is not registered")
    with pytest.raises(ls.StreamServerError) as info:
        make().connect()
    assert info.value.code == "wallet_not_registered"
    assert info.value.server_message == "wallet 111 is not registered"
    assert isinstance(info.value, ls.ConnectError)


def test_auth_error_frame_is_an_authentication_error(server: ScriptedServer, make: Any) -> None:
    server.handshake_error = ("unauthorized", "bad key")
    with pytest.raises(ls.AuthenticationError, match="unauthorized"):
        make().connect()


def test_no_hello_ok_times_out(server: ScriptedServer, make: Any) -> None:
    server.silent_handshake = True
    with pytest.raises(ls.ConnectError, match="no hello_ok within"):
        make().connect(timeout=0.3)


def test_refused_connection_is_a_connect_error(make: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ls.ConnectError) as info:
        make(endpoint=f"ws://127.0.0.1:{port}/v1/ws").connect()
    assert not isinstance(info.value, ls.AuthenticationError)


def test_reconnect_sends_current_intent_and_replays_queued_actions_once_in_order(
    server: ScriptedServer, rec: TransportLog, make: Any
) -> None:
    conn = make()
    conn.connect()
    new_strategy = ls.StrategyConfig(target_profit_pct=80, stop_loss_pct=5, trailing_stop_pct=3)
    assert conn.send(ls.proto.UpdateWallets(wallet_pubkeys=(WALLET, "2" * 32)))
    assert conn.send(ls.proto.UpdateStrategy(strategy=new_strategy))
    server.wait_frames("update_strategy")

    server.reject_status = 503  # reconnects fail until the test lets them through
    server.drop()
    rec.events.wait_of(Reconnecting, 2)
    assert conn.send(ls.proto.ClosePosition(position_id=7)) is False  # kept, not lost
    assert conn.send(ls.proto.RequestExitSignal(token_account="ATA", slippage_bps=900)) is False
    assert conn.send(ls.proto.Ping(client_time_ms=1)) is False  # pings are not kept
    server.reject_status = None
    rec.events.wait(reconnected)
    assert conn.send(ls.proto.ClosePosition(position_id=8))

    frames = server.wait_frames("close_position", 2)
    second = [d for n, d in server.frames() if n == 1]
    assert [d["type"] for d in second] == [
        "configure",
        "close_position",
        "request_exit_signal",
        "close_position",
    ]
    assert second[0]["wallet_pubkeys"] == [WALLET, "2" * 32]
    assert second[0]["strategy"]["target_profit_pct"] == 80.0
    assert second[0]["strategy"]["trailing_stop_pct"] == 3.0
    assert [d["position_id"] for _, d in frames] == [7, 8]
    # the user's ping was not kept; the only pings are the barriers that follow intent updates
    pings = server.frames("ping")
    assert all(n == 0 and d["client_time_ms"] != 1 for n, d in pings), pings
    assert conn.stats().reconnects == 1


def test_intent_updates_while_disconnected_go_into_the_next_configure(
    server: ScriptedServer, rec: TransportLog, make: Any
) -> None:
    conn = make()
    conn.connect()
    server.reject_status = 503
    server.drop()
    rec.events.wait_of(Reconnecting)
    conn.send(ls.proto.UpdateWallets(wallet_pubkeys=("3" * 32,)))
    conn.update_intent(send_mode="helius_sender", tip_lamports=1000)
    # an attempt that starts after the one in flight during the update builds its configure anew
    after = server.attempts
    server.wait_until(lambda: server.attempts >= after + 2)
    server.reject_status = None
    rec.events.wait(reconnected)
    second = [d for n, d in server.frames() if n == 1]
    assert second[0]["type"] == "configure"
    assert second[0]["wallet_pubkeys"] == ["3" * 32]
    assert (second[0]["send_mode"], second[0]["tip_lamports"]) == ("helius_sender", 1000)


def test_reconnect_applies_configure_only_settings(server: ScriptedServer, rec: TransportLog, make: Any) -> None:
    conn = make()
    conn.connect()
    conn.update_intent(mirror_config=ls.MirrorConfig(cooldown_sec=60))
    conn.reconnect()
    rec.events.wait(reconnected)
    configures = server.frames("configure")
    assert "mirror_config" not in configures[0][1]
    assert configures[1][1]["mirror_config"]["cooldown_sec"] == 60


def test_half_open_connection_is_detected_and_replaced(server: ScriptedServer, rec: TransportLog, make: Any) -> None:
    # Short keepalive settings, so the silence is found quickly. A stalled runner may also make
    # a healthy connection miss a probe: that only adds a reconnect, which nothing below rules out.
    conn = make(ping_interval=0.2, ping_timeout=0.2, app_ping_interval=None)
    conn.connect()
    server.go_silent()
    disconnected = rec.events.wait_of(Disconnected)[0]  # the first; later ones may be spurious
    assert "nothing received for 0.2 s after a ping" in disconnected.reason
    assert disconnected.will_reconnect
    # replaced: the latest event is a reconnect's Connected and the connection is live (each
    # change of either is followed by an event, so this waits on a condition, not a moment)
    rec.events.wait(lambda events: bool(reconnected(events[-1:])) and conn.connected)
    assert server.attempts >= 2
    assert conn.connected


def test_pings_answered_keep_a_quiet_connection_up(server: ScriptedServer, rec: TransportLog, make: Any) -> None:
    # With the application ping as frequent as the probe, every probe is an application ping the
    # server answers with a pong. The ping timeout is seconds: a stall can delay a pong, not fail
    # the test; and a dead link would still be noticed, so each pong below is a probe answered.
    server.answer_pings = True
    conn = make(ping_interval=0.05, ping_timeout=10.0, app_ping_interval=0.05)
    conn.connect()
    cycles = 3
    pings = server.wait_frames("ping", cycles)  # application pings go out on their own
    pongs = rec.messages.wait(lambda messages: len([m for m in messages if isinstance(m, ls.Pong)]) >= cycles)
    assert all(number == 0 for number, _ in pings)  # all of them on the first connection
    assert len([m for m in pongs if isinstance(m, ls.Pong)]) >= cycles
    assert not rec.of(Disconnected)
    assert not rec.of(Reconnecting)
    assert conn.connected
    assert conn.stats().reconnects == 0


def test_accept_and_drop_storm_follows_backoff_then_recovers(
    server: ScriptedServer, rec: TransportLog, make: Any
) -> None:
    backoff = Backoff(initial=0.01, maximum=0.04)
    conn = make(backoff=backoff)
    conn.connect()
    server.drop_next = 5
    server.drop()
    rec.events.wait(reconnected)
    attempts = rec.of(Reconnecting)
    assert [a.attempt for a in attempts] == [1, 2, 3, 4, 5, 6]
    for event in attempts:
        assert 0 <= event.delay <= exponential_delay(event.attempt, backoff.initial, backoff.maximum)
    assert server.attempts == 7  # the first connect, five dropped, one that stuck
    assert conn.connected


def test_attempt_cap_ends_the_session(server: ScriptedServer, rec: TransportLog, make: Any) -> None:
    conn = make(backoff=Backoff(initial=0.0, maximum=0.0, max_attempts=3))
    conn.connect()
    server.reject_status = 503
    server.drop()
    rec.events.wait_of(Closed)
    (closed,) = rec.of(Closed)
    assert isinstance(closed.error, ls.ConnectError)
    assert "after 3 attempts" in str(closed.error)
    assert server.attempts == 4
    with pytest.raises(ls.SessionClosedError):
        conn.send(ls.proto.ClosePosition(position_id=1))


@pytest.mark.parametrize(
    ("setup", "error_type"),
    [
        (lambda s: setattr(s, "reject_status", 401), ls.AuthenticationError),
        (lambda s: setattr(s, "handshake_error", ("wallet_not_registered", "no")), ls.StreamServerError),
    ],
)
def test_fatal_errors_on_reconnect_are_not_retried(
    server: ScriptedServer, rec: TransportLog, make: Any, setup: Any, error_type: type
) -> None:
    conn = make()
    conn.connect()
    setup(server)
    server.drop()
    rec.events.wait_of(Closed)
    assert isinstance(rec.of(Closed)[0].error, error_type)
    assert len(rec.of(Reconnecting)) == 1
    assert rec.of(Disconnected)[-1].will_reconnect is False
    assert not conn.connected


def test_server_close_frame_is_transient(server: ScriptedServer, rec: TransportLog, make: Any) -> None:
    make().connect()
    server.close(1011, "restarting")
    rec.events.wait(reconnected)
    assert "code 1011: restarting" in rec.of(Disconnected)[0].reason


def test_garbage_frames_are_reported_and_the_stream_goes_on(
    server: ScriptedServer, rec: TransportLog, make: Any
) -> None:
    conn = make(max_frame_bytes=1024)
    conn.connect()
    garbage: List[Any] = [
        "not json",
        "[1,2]",
        '{"no_type":1}',
        '{"type":7}',
        '{"type":"pnl_update","position_id":"7"}',
        '{"type":"trade_tick","position_id":1,"time_ms":1,"side":"buy","token_amount":true}',
        '{"type":"pong","server_time_ms":NaN}',
        "x" * 5000,  # oversize
    ]
    for index, frame in enumerate(garbage):
        server.send(frame)
        server.send(PNL % index)
    server.send(b"\xff\xfe{}", text=True)  # invalid UTF-8 in a text frame
    server.send(b"\x00\x01binary")  # a binary frame
    server.send(PNL % 99)
    messages = rec.messages.wait(lambda ms: any(getattr(m, "position_id", None) == 99 for m in ms))
    assert [m.position_id for m in messages[1:]] == [*range(len(garbage)), 99]
    assert len(rec.of(BadFrame)) == len(garbage) + 2
    assert all(isinstance(e.error, ls.ProtocolError) for e in rec.of(BadFrame))
    assert "exceeds the 1024-byte limit" in str(rec.of(BadFrame)[-3].error)
    assert not rec.of(Disconnected)
    assert conn.stats().bad_frames == len(garbage) + 2


def test_concurrent_sends_never_interleave(server: ScriptedServer, make: Any) -> None:
    conn = make()
    conn.connect()
    threads, per_thread = 8, 150

    def sender(worker: int) -> None:
        for seq in range(per_thread):
            conn.send(ls.proto.MirrorBuyResult(mint=f"{worker}:{seq}:" + "m" * (seq % 50), success=True))

    workers = [threading.Thread(target=sender, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    frames = server.wait_frames("mirror_buy_result", threads * per_thread)
    by_worker: dict = {}
    for _, frame in frames:
        worker, seq, _ = frame["mint"].split(":")
        by_worker.setdefault(worker, []).append(int(seq))
    assert {k: v for k, v in by_worker.items()} == {str(n): list(range(per_thread)) for n in range(threads)}


def test_close_is_idempotent_and_stops_everything(server: ScriptedServer, rec: TransportLog, make: Any) -> None:
    conn = make()
    conn.connect()
    conn.close()
    conn.close()
    assert len(rec.of(Closed)) == 1
    assert rec.of(Closed)[0].error is None
    assert rec.of(Disconnected)[-1].will_reconnect is False
    with pytest.raises(ls.SessionClosedError):
        conn.send(ls.proto.ClosePosition(position_id=1))
    with pytest.raises(ls.SessionClosedError):
        conn.connect()
    assert not any(t.name == "lasersell-reader" for t in threading.enumerate())


def test_close_from_the_reader_thread_does_not_deadlock(server: ScriptedServer, rec: TransportLog, make: Any) -> None:
    conn = make()
    rec.on_message_hook = lambda message: conn.close() if isinstance(message, ls.PnlUpdate) else None
    conn.connect()
    server.send(PNL % 1)
    rec.events.wait_of(Closed)
    reader = [t for t in threading.enumerate() if t.name == "lasersell-reader"]
    for thread in reader:
        thread.join(5)
    assert not any(t.is_alive() for t in reader)


def test_close_before_connect_reports_closed_once(rec: TransportLog, make: Any) -> None:
    conn = make()
    conn.close()
    conn.close()
    assert len(rec.of(Closed)) == 1


def test_api_key_never_appears_in_logs_reprs_or_errors(
    server: ScriptedServer, rec: TransportLog, make: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lasersell_sync")
    caplog.set_level(logging.DEBUG, logger="websocket")
    conn = make()
    conn.connect()
    server.send(PNL % 1)
    server.drop()
    rec.events.wait(reconnected)
    server.reject_status = 401
    server.drop()
    rec.events.wait_of(Closed)
    texts = [caplog.text, repr(conn), str(rec.of(Closed)[0].error), repr(rec.events.snapshot())]
    assert all(KEY not in text for text in texts)
    assert "<redacted>" in repr(conn)
    assert "disconnected from" in caplog.text  # the logs did say something


def test_bad_options_are_rejected() -> None:
    def build(**options: Any) -> StreamConnection:
        return StreamConnection(KEY, CONFIGURE, on_message=lambda m, t: None, **options)

    with pytest.raises(ValueError, match="ws:// or wss://"):
        build(endpoint="http://example.invalid")
    with pytest.raises(ValueError, match="non-empty"):
        StreamConnection(" ", CONFIGURE, on_message=lambda m, t: None)
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    with pytest.raises(ValueError, match="must verify certificates"):
        build(ssl_context=insecure)
    assert build(endpoint=" wss://stream.example/v1/ws \n").endpoint == "wss://stream.example/v1/ws"
    assert build().endpoint == "wss://stream.lasersell.io/v1/ws"
    with pytest.raises(TypeError, match="configure"):
        build().send(CONFIGURE)  # type: ignore[arg-type]


@pytest.fixture
def tls_server(local_tls: Any) -> Iterator[Any]:
    srv = ScriptedServer(ssl_context=local_tls.context)
    yield srv, local_tls.bundle, local_tls.ca
    srv.stop()


def test_tls_verification_cannot_be_skipped(tls_server: Any, rec: TransportLog) -> None:
    server, bundle, ca = tls_server
    untrusted = StreamConnection(KEY, CONFIGURE, on_message=rec.on_message, endpoint=server.url)
    with pytest.raises(ls.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        untrusted.connect(timeout=30)
    untrusted.close()

    with_bundle = StreamConnection(KEY, CONFIGURE, on_message=rec.on_message, endpoint=server.url, ca_bundle=bundle)
    assert with_bundle.connect(timeout=30).session_id == 1
    with_bundle.close()

    context = ssl.create_default_context()
    ca.configure_trust(context)
    with_context = StreamConnection(KEY, CONFIGURE, on_message=rec.on_message, endpoint=server.url, ssl_context=context)
    assert with_context.connect(timeout=30).session_id == 2
    with_context.close()
    assert server.api_keys == [KEY, KEY]  # the untrusted attempt never got past TLS


@pytest.mark.parametrize(("healthy_after", "attempts"), [(0.0, [1, 1]), (60.0, [1, 2])])
def test_backoff_resets_after_a_healthy_connection(
    server: ScriptedServer, rec: TransportLog, make: Any, healthy_after: float, attempts: List[int]
) -> None:
    make(backoff=Backoff(initial=0.01, maximum=0.04, healthy_after=healthy_after)).connect()
    for reconnects in (1, 2):
        server.drop()
        rec.events.wait(lambda events, n=reconnects: len(reconnected(events)) >= n)
    assert [e.attempt for e in rec.of(Reconnecting)] == attempts


def test_close_sends_a_normal_close_frame(server: ScriptedServer, make: Any) -> None:
    conn = make()
    conn.connect()
    server_side = server.connection()
    conn.close()
    server.wait_closed()
    assert server_side.close_code == 1000
    assert server_side.close_reason == "client closing"
