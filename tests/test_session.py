"""StreamSession against a real WebSocket server: positions, commands, deadlines, lifecycle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, List, Tuple

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

import lasersell_sync as ls
from lasersell_sync.backoff import Backoff
from tests.support import WAIT, Collect, Collector
from tests.wsserver import ScriptedServer

W1, W2 = "1" * 32, "So11111111111111111111111111111111111111112"
TA5, MINTX = "LbUiWL3xVV8hTFYBVdbTNrpDo41NKS6o3LHHuDzjfcY", "QWmroo4YnnMqYW3cnxWkFdaTxGD3P7vMSzwMHGbUzwF"
STRATEGY = ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=10)
FAST = Backoff(initial=0.01, maximum=0.04)


def opened(position_id: int, account: str, **extra: Any) -> str:
    fields: Any = {
        "position_id": position_id,
        "wallet_pubkey": W1,
        "mint": "MINT" + account,
        "token_account": account,
        "tokens": 1000,
        "entry_quote_units": 10**9,
        "slot": 1,
        **extra,
    }
    return ls.proto.encode_server(ls.PositionOpened(**fields))


def closed(position_id: int, account: str) -> str:
    return ls.proto.encode_server(
        ls.PositionClosed(
            position_id=position_id,
            wallet_pubkey=W1,
            mint="MINT" + account,
            token_account=account,
            reason="manual",
            slot=2,
        )
    )


def snapshot(position_id: int) -> str:
    bands = tuple(
        ls.proto.SlippageBand(slippage_bps=bps, max_tokens=bps * 10, coverage_pct=bps / 10)
        for bps in (100, 200, 500, 1000)
    )
    return ls.proto.encode_server(
        ls.LiquiditySnapshot(position_id=position_id, bands=bands, liquidity_trend="draining", server_time_ms=1)
    )


@pytest.fixture
def make(server: ScriptedServer) -> Iterator[Callable[..., ls.StreamSession]]:
    made: List[ls.StreamSession] = []

    def factory(**options: Any) -> ls.StreamSession:
        options.setdefault("endpoint", server.url)
        options.setdefault("backoff", FAST)
        session = ls.StreamSession(
            "key-123", options.pop("wallets", [W1]), options.pop("strategy", STRATEGY), **options
        )
        made.append(session)
        return session

    yield factory
    for session in made:
        session.close()


Connect = Callable[..., Tuple[ls.StreamSession, Collector]]


@pytest.fixture
def connected(make: Callable[..., ls.StreamSession], collect: Collect) -> Connect:
    """Makes a connected session, with a collector of every event it dispatches."""

    def factory(**options: Any) -> Tuple[ls.StreamSession, Collector]:
        session = make(**options)
        seen = collect("events")
        session.on_any(seen)
        session.connect(timeout=30)
        return session, seen

    return factory


def test_positions_are_tracked_and_attached_to_events(server: ScriptedServer, connected: Connect) -> None:
    session, seen = connected()
    server.send_many([opened(1, "TA1", token_symbol="AAA"), opened(2, "TA2"), snapshot(1)])
    server.send(ls.proto.encode_server(ls.PnlUpdate(position_id=1, profit_units=5, proceeds_units=6, server_time_ms=7)))
    seen.wait(lambda events: any(e.type == "pnl_update" for e in events))
    (pnl,) = seen.of("pnl_update")
    assert pnl.handle is not None
    assert (pnl.handle.token_account, pnl.handle.token_symbol) == ("TA1", "AAA")
    assert {h.token_account for h in session.positions()} == {"TA1", "TA2"}
    assert session.position(2) == session.position("TA2")
    assert session.positions_for_wallet_mint(W1, "MINTTA1")[0].position_id == 1
    assert session.liquidity_trend(1) == "draining"
    assert session.slippage_bands("TA1") is not None
    # the widest band that does not exceed the slippage asked for (not only an exact match)
    assert session.max_sell_at_slippage(1, 300) == 2000
    assert session.max_sell_at_slippage(1, 1000) == 10000
    assert session.max_sell_at_slippage(1, 50) is None
    assert session.limits is not None
    assert session.limits.max_positions_per_session == 500


def test_position_closed_removes_the_handle_and_its_liquidity(server: ScriptedServer, connected: Connect) -> None:
    session, seen = connected()
    server.send_many([opened(1, "TA1"), snapshot(1), closed(1, "TA1")])
    seen.wait(lambda events: any(e.type == "position_closed" for e in events))
    (event,) = seen.of("position_closed")
    assert event.handle is not None
    assert event.handle.position_id == 1
    assert session.positions() == []
    assert session.liquidity_trend(1) is None


def test_reannounced_token_account_refreshes_the_handle_and_id(server: ScriptedServer, connected: Connect) -> None:
    session, seen = connected()
    server.send(opened(1, "TA1"))
    server.drop()
    seen.wait(lambda events: any(e.type == "connected" and e.message.reconnect for e in events))
    server.send(opened(9, "TA1", tokens=500))
    seen.wait(lambda events: len([e for e in events if e.type == "position_opened"]) == 2)
    (handle,) = session.positions()
    assert (handle.position_id, handle.tokens) == (9, 500)
    assert session.position(1) is None
    assert session.position(9) == handle


def test_commands_are_validated_and_sent_with_one_selector(server: ScriptedServer, connected: Connect) -> None:
    session, seen = connected()
    server.send(opened(5, TA5))
    seen.wait(lambda events: any(e.type == "position_opened" for e in events))
    handle = session.position(5)
    assert session.close_position(handle)
    assert session.close_position(5)  # a tracked position goes out by its token account
    assert session.close_position(6)  # an unknown id goes out as given
    assert session.request_exit_signal(TA5, slippage_bps=900)
    assert session.update_position_strategy(5, ls.StrategyConfig(target_profit_pct=1, stop_loss_pct=1))
    assert session.report_mirror_buy_result(MINTX, False)
    assert session.update_watch_wallets([ls.WatchWalletEntry(pubkey=W2)])
    assert session.ping()
    server.wait_frames("ping")
    sent = [d for _, d in server.frames() if d["type"] != "configure"]
    assert sent[:7] == [
        {"type": "close_position", "token_account": TA5},
        {"type": "close_position", "token_account": TA5},
        {"type": "close_position", "position_id": 6},
        {"type": "request_exit_signal", "token_account": TA5, "slippage_bps": 900},
        {
            "type": "update_position_strategy",
            "position_id": 5,
            "strategy": ls.proto.to_wire(ls.StrategyConfig(target_profit_pct=1, stop_loss_pct=1)),
        },
        {"type": "mirror_buy_result", "mint": MINTX, "success": False},
        {"type": "update_watch_wallets", "watch_wallets": [{"pubkey": W2, "mirror_sell": False}]},
    ]
    for bad in (True, -1, "", 1.5, None, "garbage"):
        with pytest.raises(ValueError, match="position"):
            session.close_position(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mint"):
        session.report_mirror_buy_result("not a mint", True)
    with pytest.raises(ValueError, match=r"slippage_bps must be within 0\.\.10000"):
        session.request_exit_signal(5, slippage_bps=10_001)
    with pytest.raises(ValueError, match="not a valid Solana public key"):
        session.update_wallets(["not-a-key"])
    with pytest.raises(ValueError, match="at least one wallet"):
        session.update_wallets([])
    with pytest.raises(ValueError, match="no tracked position"):
        session.update_position_strategy(77, STRATEGY)
    with pytest.raises(ls.InvalidStrategyError, match="at least one"):
        session.update_strategy(ls.StrategyConfig(target_profit_pct=0, stop_loss_pct=0))
    with pytest.raises(ValueError, match="success must be a bool"):
        session.report_mirror_buy_result(MINTX, 1)  # type: ignore[arg-type]


def test_constructor_validates_before_connecting(make: Any) -> None:
    with pytest.raises(ls.InvalidStrategyError, match="at least one"):
        make(strategy=ls.StrategyConfig(target_profit_pct=0, stop_loss_pct=0))
    make(strategy=ls.StrategyConfig(target_profit_pct=0, stop_loss_pct=0), deadline_timeout_sec=60)
    with pytest.raises(ValueError, match="single string"):
        make(wallets=W1)
    with pytest.raises(ls.InvalidStrategyError, match="stop_loss_pct must be >= 0"):
        make(strategy=ls.StrategyConfig(target_profit_pct=5, stop_loss_pct=-1))


def test_position_override_is_reapplied_after_reconnect(server: ScriptedServer, connected: Connect) -> None:
    session, seen = connected()
    server.send(opened(1, "TA1"))
    seen.wait(lambda events: any(e.type == "position_opened" for e in events))
    override = ls.StrategyConfig(target_profit_pct=99, stop_loss_pct=3)
    session.update_position_strategy("TA1", override)
    server.wait_frames("update_position_strategy")
    server.drop()
    seen.wait(lambda events: any(e.type == "connected" and e.message.reconnect for e in events))
    server.send(opened(42, "TA1"))
    frames = server.wait_frames("update_position_strategy", 2)
    assert [(n, d["position_id"]) for n, d in frames] == [(0, 1), (1, 42)]
    assert frames[1][1]["strategy"]["target_profit_pct"] == 99.0


def test_deadline_fires_once_per_position(server: ScriptedServer, connected: Connect) -> None:
    session, seen = connected(deadline_timeout_sec=1)
    sent_at = time.monotonic()
    server.send(opened(3, "TA3"))
    frames = server.wait_frames("request_exit_signal", 1, timeout=WAIT)
    assert time.monotonic() - sent_at >= 0.9  # not before the deadline
    assert frames[0][1] == {"type": "request_exit_signal", "token_account": "TA3"}
    assert session.stats().deadline_timers == 0
    server.send(ls.proto.encode_server(ls.Pong(server_time_ms=1)))  # a later frame: the timer did not re-arm
    seen.wait(lambda events: any(e.type == "pong" for e in events))
    assert len(server.frames("request_exit_signal")) == 1


def test_update_strategy_reschedules_deadlines_from_the_open_time(server: ScriptedServer, connected: Connect) -> None:
    session, seen = connected(deadline_timeout_sec=3600)
    server.send_many([opened(1, "TA1"), opened(2, "TA2")])
    seen.wait(lambda events: len([e for e in events if e.type == "position_opened"]) == 2)
    assert session.stats().deadline_timers == 2
    session.update_strategy(STRATEGY, deadline_timeout_sec=0)  # disable
    assert session.stats().deadline_timers == 0
    session.update_strategy(STRATEGY, deadline_timeout_sec=1)  # already past for neither; fires at ~1 s
    frames = server.wait_frames("request_exit_signal", 2, timeout=WAIT)
    assert {d["token_account"] for _, d in frames} == {"TA1", "TA2"}


def test_deadline_uses_the_servers_open_time(server: ScriptedServer, connected: Connect) -> None:
    connected(deadline_timeout_sec=3600)
    opened_ms = 1706000000000 - 7_200_000  # server clock in hello_ok is 1706000000000: two hours old
    server.send(opened(1, "TA1", opened_at_ms=opened_ms))
    frames = server.wait_frames("request_exit_signal", 1, timeout=WAIT)  # already past due: immediate
    assert frames[0][1]["token_account"] == "TA1"


def test_close_cancels_deadlines_and_leaves_no_threads(server: ScriptedServer, connected: Connect) -> None:
    session, seen = connected(deadline_timeout_sec=3600)
    server.send(opened(1, "TA1"))
    seen.wait(lambda events: any(e.type == "position_opened" for e in events))
    assert session.stats().deadline_timers == 1
    session.close()
    assert session.stats().deadline_timers == 0
    assert not [t.name for t in threading.enumerate() if t.name.startswith("lasersell-")]
    with pytest.raises(ls.SessionClosedError):
        session.close_position(1)


def test_context_manager_connects_and_closes(server: ScriptedServer) -> None:
    with ls.StreamSession("k", [W1], STRATEGY, endpoint=server.url) as session:
        assert session.connected
        assert len(server.frames("configure")) == 1
    assert not session.connected
    assert not [t.name for t in threading.enumerate() if t.name.startswith("lasersell-")]


def test_with_after_connect_keeps_the_connection_and_closes_it(server: ScriptedServer) -> None:
    session = ls.StreamSession("k", [W1], STRATEGY, endpoint=server.url)
    session.connect(timeout=30)
    with session:  # a habit from other libraries: connect() first, then with
        assert session.connected
    assert session.closed
    assert len(server.frames("configure")) == 1  # the one connection, not a second
    assert not [t.name for t in threading.enumerate() if t.name.startswith("lasersell-")]


def test_connect_inside_with_says_that_with_connects(server: ScriptedServer) -> None:
    with ls.StreamSession("k", [W1], STRATEGY, endpoint=server.url) as session:
        with pytest.raises(RuntimeError, match="`with` connects too, so use connect\\(\\) or `with`, not both"):
            session.connect()
        assert session.connected  # the mistake did not cost the connection


def test_a_with_that_cannot_connect_closes_the_session() -> None:
    session = ls.StreamSession("k", [W1], STRATEGY, endpoint="ws://127.0.0.1:1/v1/ws", connect_timeout=5)
    with pytest.raises(ls.ConnectError), session:
        raise AssertionError("the body must not run")
    assert session.closed  # nothing is left to retry in the background
    with pytest.raises(ls.SessionClosedError):
        session.connect()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            ([W1], "key-123", STRATEGY),
            "api_key must be a string, got list: StreamSession takes (api_key, wallets, strategy), in that order",
        ),
        (
            ("key-123", STRATEGY, [W1]),
            "wallets must be a list of public keys, got a StrategyConfig: StreamSession takes",
        ),
        ((W1, "key-123", STRATEGY), "wallets must be a list of public keys, not a single string: StreamSession takes"),
        (
            ("key-123", [W1], {"target_profit_pct": 5}),
            "strategy must be a StrategyConfig, got dict: StreamSession takes",
        ),
    ],
)
def test_arguments_in_the_wrong_order_name_the_order(arguments: Tuple[Any, Any, Any], expected: str) -> None:
    with pytest.raises((TypeError, ValueError)) as info:
        ls.StreamSession(*arguments)
    assert str(info.value).startswith(expected)
    assert "key-123" not in str(info.value)  # an API key in the wrong place is still never shown


def test_wallets_may_be_pubkeys_or_keypairs(server: ScriptedServer) -> None:
    pair = Keypair()
    session = ls.StreamSession("k", [Pubkey.from_string(W2), pair, W1], STRATEGY, endpoint=server.url)
    with session:
        ((_, configure),) = server.frames("configure")
        assert configure["wallet_pubkeys"] == [W2, str(pair.pubkey()), W1]  # the public half only
        assert session.update_wallets([pair.pubkey()]) is True
        ((_, update),) = server.wait_frames("update_wallets")
    assert update["wallet_pubkeys"] == [str(pair.pubkey())]


@pytest.mark.parametrize(
    ("wallets", "expected"),
    [
        ([object()], "wallets[0] must be a base58 public key string, got object"),
        ([W1, None], "wallets[1] must be a base58 public key string, got None"),
        (Keypair(), "wallets must be a list of public keys, not a single Keypair: for one wallet, pass [wallet]"),
        (Pubkey.default(), "wallets must be a list of public keys, not a single Pubkey: for one wallet, pass [wallet]"),
        (5, "wallets must be a list of public keys, got int"),
    ],
)
def test_a_wallet_of_the_wrong_kind_is_one_line_naming_its_type(wallets: Any, expected: str) -> None:
    with pytest.raises(ValueError, match="wallets") as info:
        ls.StreamSession("k", wallets, STRATEGY)
    assert str(info.value) == expected


def test_a_secret_key_given_as_a_wallet_is_never_quoted() -> None:
    secret = str(Keypair())  # base58 of the 64-byte secret, as Phantom exports it
    with pytest.raises(ValueError, match="not a valid Solana public key") as info:
        ls.StreamSession("k", [secret], STRATEGY)
    message = str(info.value)
    assert secret not in message
    assert secret[:12] not in message
    assert message == (
        f"wallets[0] is not a valid Solana public key: a string of {len(secret)} characters (a public key has "
        "32 to 44); a base58 secret key is that long: never pass one here"
    )


def test_a_mistyped_address_is_quoted_so_it_can_be_found() -> None:
    with pytest.raises(
        ValueError,
        match=r"wallets\[0\] is not a valid Solana public key: 'So111111111111111111111111111111111111111122'",
    ):
        ls.StreamSession("k", ["So111111111111111111111111111111111111111122"], STRATEGY)


def test_stats_count_what_happened(server: ScriptedServer, connected: Connect) -> None:
    session, seen = connected()
    errors: List[BaseException] = []
    session.on_error(lambda exc, event: seen(ls.Event("error-report", exc, None, 0.0)))
    server.send_many([opened(1, "TA1"), "garbage", ls.proto.encode_server(ls.Pong(server_time_ms=1))])
    seen.wait(lambda events: {"pong", "error-report"} <= {e.type for e in events})
    stats = session.stats()
    assert not errors
    assert stats.frames_received == 4  # hello_ok (read by the handshake) and three more
    assert stats.decode_errors == 1
    assert stats.events_dispatched["position_opened"] == 1
    assert stats.events_dispatched["hello_ok"] == 1
    assert stats.events_dispatched["connected"] == 1
    assert stats.handler_errors == 0
    assert stats.queue_depths == {"high": 0, "low": 0, "events_iterators": 0}


BOT = """
import signal
import sys
import lasersell_sync as ls
# Ctrl-C raises KeyboardInterrupt, as in a terminal, even when the runner started the tests as a
# background job (whose children inherit an ignored SIGINT)
signal.signal(signal.SIGINT, signal.default_int_handler)
session = ls.StreamSession("k", ["1" * 32], ls.StrategyConfig(target_profit_pct=5, stop_loss_pct=1), endpoint=sys.argv[1])
session.on("closed", lambda event: print("closed-event", flush=True))
session.connect()


def ready_once_waiting(frame, event, arg):
    # "ready" as run_forever's Event.wait, holding its lock, calls Condition.wait: Ctrl-C can then
    # only land in that wait, never in connect() nor between two statements (the test would race
    # the bot; a KeyboardInterrupt in connect() is a separate matter, not what this test is about)
    if event == "call" and frame.f_code.co_name == "wait" and frame.f_back is not None:
        caller = frame.f_back.f_back
        if frame.f_back.f_code.co_name == "wait" and caller is not None and caller.f_code.co_name == "run_forever":
            sys.setprofile(None)
            print("ready", flush=True)


sys.setprofile(ready_once_waiting)
session.run_forever()
print("exited cleanly", flush=True)
"""


def test_ctrl_c_closes_run_forever_gracefully(server: ScriptedServer, tmp_path: Path) -> None:
    script = tmp_path / "bot.py"
    script.write_text(BOT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen(
        [sys.executable, str(script), server.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "closed-event" in out
    assert "exited cleanly" in out
    assert "Traceback" not in err
    server.wait_closed()
    assert server.connection().close_code == 1000


def test_run_forever_raises_the_fatal_error(server: ScriptedServer, connected: Connect) -> None:
    session, _ = connected()
    server.reject_status = 401
    server.drop()
    with pytest.raises(ls.AuthenticationError):
        session.run_forever()


def test_register_and_connect_adds_the_proved_wallets(server: ScriptedServer, make: Any) -> None:
    from solders.keypair import Keypair

    from tests.httpserver import ScriptedHttp, reply

    http = ScriptedHttp()
    try:
        http.defaults["/v1/wallets/register"] = reply(200, {"registered": True})
        keypair = Keypair()
        session = make()
        with ls.ExitApiClient("key-123", base_url=http.url) as api:
            session.register_and_connect([ls.prove_ownership(keypair)], exit_api=api)
        ((_, configure),) = server.frames("configure")
        assert configure["wallet_pubkeys"] == [W1, str(keypair.pubkey())]
        assert http.requests[0].json()["wallet_pubkey"] == str(keypair.pubkey())

        http.defaults["/v1/wallets/register"] = reply(403, {"error": "signature verification failed"})
        with ls.ExitApiClient("k", base_url=http.url) as api, pytest.raises(ls.ExitApiError, match="verification"):
            make().register_and_connect([ls.prove_ownership(Keypair())], exit_api=api)
        assert len(server.frames("configure")) == 1  # nothing connected after a failed registration
    finally:
        http.stop()


CONNECT_BOT = """
import os
import signal
import sys
import lasersell_sync as ls
signal.signal(signal.SIGINT, signal.default_int_handler)
session = ls.StreamSession("k", ["1" * 32], ls.StrategyConfig(target_profit_pct=5, stop_loss_pct=1), endpoint=sys.argv[1])
# Ctrl-C while connect() is still announcing the connection
session.on("connected", lambda event: os.kill(os.getpid(), signal.SIGINT))
try:
    session.connect()
    session.run_forever()
except KeyboardInterrupt:
    print("interrupted", flush=True)
finally:
    print("closed" if session.close() else "close gave up", flush=True)
"""


@pytest.mark.parametrize("attempt", range(5))
def test_ctrl_c_during_connect_never_hangs_close(server: ScriptedServer, tmp_path: Path, attempt: int) -> None:
    """The connection's callbacks run on the reader thread, so Ctrl-C cannot strand a lock."""
    script = tmp_path / "bot.py"
    script.write_text(CONNECT_BOT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen(
        [sys.executable, str(script), server.url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        out, err = proc.communicate(timeout=30)  # a hang fails here, at the bound
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.strip().splitlines()[-1] == "closed", (out, err)
