"""Warm send targets: each target's pooled connection is kept alive, and a dropped one is replaced.

Against the simulator's RPC (``getHealth``, Helius Sender's ``GET /ping``) and small real
servers on 127.0.0.1: one that records which TCP connection every request came on, one that
refuses every connection, one that closes a keep-alive connection just as a request arrives.
"""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import ssl
import threading
from typing import Any, Iterator, List, Optional, Tuple

import pytest
from solders.keypair import Keypair

import lasersell_sync as ls
from lasersell_sync.simulator import Simulator
from lasersell_sync.tx.targets import GET_HEALTH

WAIT = 15.0
HOLD = ls.StrategyConfig(target_profit_pct=100_000, stop_loss_pct=0)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True


class RecordingRpc:
    """A JSON-RPC server answering every call with ``ok``; it records (client port, method) pairs.

    ``drop_next_request_on_connection`` closes the connection when its next request arrives,
    without an answer: a keep-alive connection that the server timed out at that very moment.
    """

    def __init__(self, tls: Optional[ssl.SSLContext] = None) -> None:
        self.calls: List[Tuple[int, str]] = []
        self.cond = threading.Condition()
        self.drop_next = False
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                port = self.client_address[1]
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    length = 0
                    while True:
                        header = self.rfile.readline().strip()
                        if not header:
                            break
                        name, _, value = header.decode().partition(":")
                        if name.lower() == "content-length":
                            length = int(value)
                    body = json.loads(self.rfile.read(length) or b"{}")
                    with owner.cond:
                        drop, owner.drop_next = owner.drop_next, False
                        owner.calls.append((port, body.get("method", "?") if not drop else "dropped"))
                        owner.cond.notify_all()
                    if drop:
                        return
                    payload = json.dumps({"jsonrpc": "2.0", "id": 1, "result": "ok"}).encode()
                    self.wfile.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                        + str(len(payload)).encode()
                        + b"\r\n\r\n"
                        + payload
                    )

        self.server = _Server(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/rpc"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), name="test-rpc")
        self.thread.start()

    def wait(self, count: int) -> List[Tuple[int, str]]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.calls) >= count, WAIT), self.calls
            return list(self.calls)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def rpc() -> Iterator[RecordingRpc]:
    server = RecordingRpc()
    yield server
    server.stop()


def test_each_target_warms_with_its_cheapest_documented_call() -> None:
    rpc = ls.SendTargetRpc(url="https://rpc.example/?api-key=k")
    assert rpc.warm_call() == ("POST", "https://rpc.example/?api-key=k", GET_HEALTH)
    sender = ls.SendTargetHeliusSender(url="https://sender.helius-rpc.com/fast?api-key=k")
    assert sender.warm_call() == ("GET", "https://sender.helius-rpc.com/ping?api-key=k", None)
    astralane = ls.SendTargetAstralane(api_key="astralane-key", region="ny")
    assert astralane.warm_call() == ("POST", "https://ny.gateway.astralane.io/iris", GET_HEALTH)
    assert astralane.headers() == {"x-api-key": "astralane-key"}
    assert GET_HEALTH["method"] == "getHealth"


@pytest.fixture
def tls_rpc(local_tls: Any) -> Iterator[Tuple[RecordingRpc, str]]:
    server = RecordingRpc(tls=local_tls.context)
    yield server, str(local_tls.bundle)
    server.stop()


def test_over_tls_a_warm_up_and_the_next_send_share_one_connection(tls_rpc: Any) -> None:
    rpc, bundle = tls_rpc
    with ls.TxSender(timeout=5.0, verify=bundle) as sender:
        target = ls.SendTargetRpc(url=rpc.url)
        assert sender.warm(target) == 200
        assert sender.send_b64(target, "AAAA") == "ok"
    calls = rpc.wait(2)
    assert [method for _, method in calls] == ["getHealth", "sendTransaction"]
    assert calls[0][0] == calls[1][0]  # one TLS connection: the send paid no handshake


def test_a_warm_up_and_the_next_send_share_one_connection(rpc: RecordingRpc) -> None:
    with ls.TxSender(timeout=5.0) as sender:
        target = ls.SendTargetRpc(url=rpc.url)
        assert sender.warm(target) == 200
        assert sender.warm(target) == 200
        assert sender.send_b64(target, "AAAA") == "ok"
    calls = rpc.wait(3)
    assert [method for _, method in calls] == ["getHealth", "getHealth", "sendTransaction"]
    assert len({port for port, _ in calls}) == 1  # one TCP connection, kept warm


def test_a_connection_dropped_as_a_request_arrives_is_replaced_at_once(rpc: RecordingRpc) -> None:
    with ls.TxSender(timeout=5.0) as sender:
        target = ls.SendTargetRpc(url=rpc.url)
        assert sender.warm(target) == 200
        rpc.drop_next = True  # the server times the idle connection out just as the send arrives
        assert sender.send_b64(target, "AAAA") == "ok"
    calls = rpc.wait(3)
    assert [method for _, method in calls] == ["getHealth", "dropped", "sendTransaction"]
    assert calls[0][0] == calls[1][0] != calls[2][0]  # the send went again, on a new connection


def test_auto_exit_warms_every_target_and_reports_a_cold_one_once(caplog: pytest.LogCaptureFixture) -> None:
    refusing = socket.socket()
    refusing.bind(("127.0.0.1", 0))  # bound, not listening: every connection is refused
    dead = f"http://127.0.0.1:{refusing.getsockname()[1]}/rpc"
    with Simulator(seed=3, scenario="sideways", speed=50, max_positions=1) as sim:
        targets = [ls.SendTargetRpc(url=sim.rpc_url), ls.SendTargetRpc(url=dead)]
        session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], HOLD, endpoint=sim.stream_url)
        caplog.set_level(logging.WARNING, logger="lasersell_sync.stream.exits.io")
        executor = session.auto_exit(sim.wallet, targets, confirm_rpc=sim.rpc_url, keep_warm=0.02)
        try:
            assert sim.wait_for(lambda: sim.rpc_calls("getHealth") >= 3, WAIT)
            # the dead target failed as many times: a condition on the counter, re-read per warm-up
            assert sim.wait_for(lambda: executor.stats().warm_failures >= 3, WAIT)
        finally:
            session.close()
            refusing.close()
    cold = [r for r in caplog.records if "did not answer its warm-up" in r.getMessage()]
    assert len(cold) == 1  # reported once, not on every tick
    assert executor.keep_warm == 0.02


def test_helius_sender_is_warmed_with_its_ping() -> None:
    with Simulator(seed=3, scenario="sideways", speed=50, max_positions=1) as sim:
        session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], HOLD, endpoint=sim.stream_url)
        sender = ls.SendTargetHeliusSender(url=sim.rpc_url_for("sender"))
        session.auto_exit(sim.wallet, [sender], confirm_rpc=sim.rpc_url, keep_warm=0.02)
        try:
            assert sim.wait_for(lambda: sim.rpc_calls("ping") >= 2, WAIT)
        finally:
            session.close()
        assert sim.rpc_calls("getHealth") == 0


def test_a_hung_warm_up_never_delays_a_sell() -> None:
    with Simulator(seed=3, scenario="sideways", speed=50, max_positions=1) as sim:
        sim.faults.hang_rpc("getHealth")
        session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], HOLD, endpoint=sim.stream_url)
        landed: List[ls.ExitLanded] = []
        done = threading.Event()
        opened: List[ls.PositionOpened] = []
        got = threading.Event()
        session.on(ls.PositionOpened, lambda e: (opened.append(e.message), got.set()))
        session.on(ls.ExitLanded, lambda e: (landed.append(e.message), done.set()))
        sender = ls.TxSender(timeout=30.0, poll_interval=0.02)
        session.auto_exit(sim.wallet, ls.SendTargetRpc(url=sim.rpc_url), sender=sender, keep_warm=0.02)
        try:
            session.connect()
            assert sim.wait_for(lambda: sim.faults.hung_rpc_requests >= 1, WAIT)  # a warm-up hangs
            assert got.wait(WAIT)
            session.request_exit_signal(opened[0].token_account)
            assert done.wait(WAIT)  # sold, while the warm-up still hangs
            still_hung = sim.faults.hung_rpc_requests
        finally:
            session.close(timeout=1.0)
    assert still_hung == 1  # one warm-up at a time: the next ticks skip the busy target
    assert len(landed) == 1


def test_keep_warm_none_sends_no_warm_up() -> None:
    with Simulator(seed=3, scenario="sideways", speed=50, max_positions=1) as sim:
        session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], HOLD, endpoint=sim.stream_url)
        opened: List[ls.PositionOpened] = []
        got, done = threading.Event(), threading.Event()
        session.on(ls.PositionOpened, lambda e: (opened.append(e.message), got.set()))
        session.on(ls.ExitLanded, lambda e: done.set())
        executor = session.auto_exit(sim.wallet, ls.SendTargetRpc(url=sim.rpc_url), keep_warm=None)
        try:
            session.connect()
            assert got.wait(WAIT)
            session.request_exit_signal(opened[0].token_account)
            assert done.wait(WAIT)
        finally:
            session.close()
        assert executor.keep_warm is None
        assert sim.rpc_calls("getHealth") == 0


@pytest.mark.parametrize("value", [0, -1.0, float("inf"), "25", True])
def test_keep_warm_must_be_a_positive_number_of_seconds(value: Optional[Any]) -> None:
    owner = Keypair()
    session = ls.StreamSession("k", [owner.pubkey()], HOLD, endpoint="ws://127.0.0.1:9/v1/ws")
    try:
        with pytest.raises(ValueError, match="keep_warm"):
            session.auto_exit(owner, ls.SendTargetRpc(url="http://127.0.0.1:9/rpc"), keep_warm=value)
    finally:
        session.close()
