"""The embedded simulator end to end: a real session, real signatures, the loop closed."""

from __future__ import annotations

import json
import math
import socket
import threading
from typing import Any, Iterator, List, Optional

import pytest
from solders.keypair import Keypair
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close
from websockets.sync.client import ClientConnection, connect

import lasersell_sync as ls
from lasersell_sync.proto.strategy_rules import unchecked
from lasersell_sync.simulator import Simulator
from lasersell_sync.stream.recording import read_recording

STRATEGY = ls.StrategyConfig(target_profit_pct=30, stop_loss_pct=10)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=3, scenario="pump", speed=20) as simulator:
        yield simulator


class Closed:
    def __init__(self, count: int) -> None:
        self.count = count
        self.events: List[ls.PositionClosed] = []
        self.done = threading.Event()

    def __call__(self, event: ls.Event[ls.PositionClosed]) -> None:
        self.events.append(event.message)
        if len(self.events) >= self.count:
            self.done.set()


def test_full_loop_connect_signal_sign_send_close(sim: Simulator) -> None:
    closed = Closed(3)
    signatures: List[str] = []
    session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], STRATEGY, endpoint=sim.stream_url)
    sender = ls.TxSender()

    @session.on(ls.ExitSignalWithTx)
    def on_exit(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        signed = ls.sign_unsigned_tx(event.message.unsigned_tx_b64, sim.wallet)
        signatures.append(sender.send(ls.SendTargetRpc(url=sim.rpc_url), signed))

    session.on(ls.PositionClosed, closed)
    with session, sender:  # handlers first, then connect: no event can be missed
        assert closed.done.wait(10)
    assert [e.reason for e in closed.events] == ["target_profit"] * 3
    assert len(signatures) >= 3
    assert sim.engine is not None
    assert all(p.realized_quote > p.entry_quote for p in sim.engine.closed)


def test_same_seed_same_stream(sim: Simulator) -> None:
    """Every frame, read at the transport (the session conflates pnl updates by design)."""

    def first_frames(simulator: Simulator) -> List[str]:
        frames: List[str] = []
        got = threading.Event()

        def record(message: Any, received_at: float) -> None:
            frames.append(ls.proto.encode_server(message))
            if len(frames) >= 60:
                got.set()

        configure = ls.proto.Configure(wallet_pubkeys=(simulator.wallet_pubkey,), strategy=STRATEGY)
        with ls.StreamConnection(simulator.api_key, configure, on_message=record, endpoint=simulator.stream_url):
            assert got.wait(10)
        return frames[:60]

    with Simulator(seed=3, scenario="pump", speed=20) as twin:
        expected = first_frames(twin)
    assert first_frames(sim) == expected
    assert any('"exit_signal_with_tx"' in frame for frame in expected)


def test_exit_api_and_registration_against_the_simulator() -> None:
    stranger = Keypair()
    with Simulator(seed=4, scenario="grind", require_registration=True) as sim:
        session = ls.StreamSession(sim.api_key, [str(stranger.pubkey())], STRATEGY, endpoint=sim.stream_url)
        with pytest.raises(ls.StreamServerError) as info:
            session.connect()
        assert info.value.code == "wallet_not_registered"
        session.close()
        with ls.ExitApiClient(sim.api_key, base_url=sim.api_url) as api:
            forged = ls.proto.WalletProof(
                wallet_pubkey=str(stranger.pubkey()), signature=str(Keypair().sign_message(b"x")), message="x:y:1"
            )
            with pytest.raises(ls.ExitApiError) as bad:
                api.register_wallet(forged)
            assert bad.value.status == 400
            session = ls.StreamSession(sim.api_key, [str(stranger.pubkey())], STRATEGY, endpoint=sim.stream_url)
            hello = session.register_and_connect([ls.prove_ownership(stranger)], exit_api=api)
            assert hello.session_id == 2
            session.close()


def test_invalid_client_messages_get_error_messages(sim: Simulator) -> None:
    errors: List[ls.ErrorMessage] = []
    got = threading.Event()
    with ls.StreamConnection(
        sim.api_key,
        ls.proto.Configure(wallet_pubkeys=(sim.wallet_pubkey,), strategy=STRATEGY),
        on_message=lambda m, t: (errors.append(m), got.set()) if isinstance(m, ls.ErrorMessage) else None,
        endpoint=sim.stream_url,
    ) as conn:
        with unchecked():  # as a client that does not check its strategies would send it
            bad = ls.StrategyConfig(target_profit_pct=-5, stop_loss_pct=1)
        conn.send(ls.proto.UpdateStrategy(strategy=bad))
        assert got.wait(5)
    assert errors[0].code == "invalid_strategy"


def test_missing_api_key_is_refused() -> None:
    with Simulator(seed=1) as sim:
        sim.faults.reject_auth = True
        with pytest.raises(ls.AuthenticationError):
            ls.StreamSession("key", [sim.wallet_pubkey], STRATEGY, endpoint=sim.stream_url).connect()


def test_dropped_connections_recover_and_positions_are_reannounced(sim: Simulator) -> None:
    reannounced = threading.Event()
    first = threading.Event()
    opened: List[int] = []

    def on_opened(event: ls.Event[ls.PositionOpened]) -> None:
        opened.append(event.message.position_id)
        if opened.count(1) == 2:
            reannounced.set()

    strategy = ls.StrategyConfig(target_profit_pct=0, stop_loss_pct=90)
    session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], strategy, endpoint=sim.stream_url)
    session.on(ls.PositionOpened, on_opened)  # before connecting: position 1 may open at once
    session.on(ls.PnlUpdate, lambda event: first.set())
    with session:
        assert first.wait(5)
        sim.faults.drop_connections()
        assert reannounced.wait(5)  # the same position (same token account) after the reconnect
        (handle,) = [h for h in session.positions() if h.position_id == 1]
        assert session.stats().reconnects == 1
    assert handle.wallet_pubkey == sim.wallet_pubkey


def test_record_and_replay(sim: Simulator, tmp_path: Any) -> None:
    recording = tmp_path / "session.jsonl"
    enough = threading.Event()
    session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], STRATEGY, endpoint=sim.stream_url, record_to=recording)
    session.on(ls.ExitLanded, lambda event: enough.set())
    session.auto_exit(sim.wallet, ls.SendTargetRpc(url=sim.rpc_url))
    with session:
        assert enough.wait(10)
    lines = [json.loads(line) for line in recording.read_text().splitlines()]
    events = [line["event"] for line in lines if "event" in line]
    assert events[0] == "connected"
    assert "exit_submitted" in events
    assert "exit_landed" in events
    landed = next(line for line in lines if line.get("event") == "exit_landed")
    assert landed["fields"]["signature"]
    assert landed["fields"]["latency_ms"] > 0
    assert "closed" in events, events  # sells still in flight may land after it
    recorded = read_recording(recording)  # frames only
    assert len(recorded) == len(lines) - len(events)
    assert recorded[0][1].startswith('{"type":"hello_ok"')
    assert [t for t, _ in recorded] == sorted(t for t, _ in recorded)

    replayed: List[str] = []
    done = threading.Event()

    def collect(message: Any, received_at: float) -> None:
        replayed.append(ls.proto.encode_server(message))
        if len(replayed) == len(recorded):
            done.set()

    configure = ls.proto.Configure(wallet_pubkeys=(sim.wallet_pubkey,), strategy=STRATEGY)
    player = Simulator(replay=recording, replay_speed=100).start()
    try:
        with ls.StreamConnection(player.api_key, configure, on_message=collect, endpoint=player.stream_url):
            assert done.wait(10)
    finally:
        player.stop()
    assert replayed[1:] == [frame for _, frame in recorded[1:]]  # everything after each hello_ok


def test_mirrored_buys_become_watched_positions_through_the_rpc() -> None:
    watched_wallet = str(Keypair().pubkey())
    opened = threading.Event()
    with Simulator(seed=2, scenario="sideways", speed=20) as sim:
        entry = ls.WatchWalletEntry(
            pubkey=watched_wallet,
            auto_buy=ls.AutoBuyConfig(wallet_pubkey=sim.wallet_pubkey, amount_quote_units=50_000_000),
        )
        session = ls.StreamSession(
            sim.api_key,
            [sim.wallet_pubkey],
            STRATEGY,
            endpoint=sim.stream_url,
            watch_wallets=[entry],
            mirror_config=ls.MirrorConfig(cooldown_sec=0),
        )
        sender, target = ls.TxSender(), ls.SendTargetRpc(url=sim.rpc_url)

        @session.on(ls.MirrorBuySignal)
        def mirror(event: ls.Event[ls.MirrorBuySignal]) -> None:
            sender.send(target, ls.sign_unsigned_tx(event.message.unsigned_tx_b64, sim.wallet))

        session.on(ls.PositionOpened, lambda event: opened.set() if event.message.watched else None)
        with session, sender:
            assert opened.wait(10)
            mirrored = [h for h in session.positions() if h.watched]
        assert mirrored
        assert mirrored[0].mirror_source == watched_wallet
        assert mirrored[0].entry_quote_units == 50_000_000


def test_simulator_is_reachable_from_the_package_and_enforces_watch_limits() -> None:
    assert ls.simulator.Simulator is Simulator
    too_many = [ls.WatchWalletEntry(pubkey=str(Keypair().pubkey())) for _ in range(11)]
    with Simulator(seed=1) as sim:
        session = ls.StreamSession(
            sim.api_key, [sim.wallet_pubkey], STRATEGY, endpoint=sim.stream_url, watch_wallets=too_many
        )
        with pytest.raises(ls.StreamServerError) as info:
            session.connect()
        session.close()
    assert info.value.code == "capacity_exceeded"
    assert "max_watch_wallets_per_session" in info.value.server_message


def close_frame_after(client: ClientConnection) -> Optional[Close]:
    """Read frames until the connection ends; the close frame it got, or None (the TCP stream just ended)."""
    try:
        while True:
            client.recv(timeout=10)
    except ConnectionClosed as exc:
        return exc.rcvd


def test_stop_twice_close_and_exit_after_stop_are_harmless() -> None:
    sim = Simulator(seed=1).start()
    sim.stop()
    sim.stop()
    sim.close()
    with pytest.raises(RuntimeError, match="not running"):
        sim.stream_url  # noqa: B018 (the property is the check)
    with Simulator(seed=1) as other:
        other.stop()  # and the with block's exit stops it again
    sim.start()  # a stopped simulator starts again, on fresh ports
    with pytest.raises(RuntimeError, match="already running"):
        sim.start()
    sim.close()


@pytest.mark.parametrize("silent", [False, True])
def test_stop_sends_every_client_a_going_away_close_frame(silent: bool) -> None:
    sim = Simulator(seed=1, speed=20).start()
    try:
        configure = ls.proto.Configure(wallet_pubkeys=(sim.wallet_pubkey,), strategy=STRATEGY)
        with connect(sim.stream_url, additional_headers={"x-api-key": "k"}, open_timeout=10) as client:
            client.send(ls.proto.encode_client(configure))
            assert '"type":"hello_ok"' in str(client.recv(timeout=10))
            if silent:  # a link that stopped reading must still see the close frame
                sim.faults.go_silent()
            sim.stop()
            close = close_frame_after(client)
    finally:
        sim.stop()
    assert close is not None, "the connection ended without a close frame"
    assert close.code == 1001  # going away


@pytest.mark.parametrize("taken", ["stream_port", "http_port"])
def test_a_port_in_use_raises_a_clear_oserror_and_leaves_nothing_running(taken: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        sim = Simulator(seed=1, **{taken: port})
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}"):
            sim.start()
    # the autouse fixture fails the test if the stream's loop thread was left running
    with pytest.raises(RuntimeError, match="not running"):
        sim.api_url  # noqa: B018


@pytest.mark.parametrize(
    "options",
    [{"speed": math.nan}, {"speed": math.inf}, {"speed": 0}, {"replay_speed": 0}, {"replay_speed": -2}],
)
def test_speeds_must_be_positive_and_finite(options: Any) -> None:
    with pytest.raises(ValueError, match="must be a positive number"):
        Simulator(**options)
