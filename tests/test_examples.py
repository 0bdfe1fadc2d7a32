"""The examples run end to end against local servers (REST, JSON-RPC and the stream)."""

from __future__ import annotations

import base64
import importlib
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from tests.httpserver import Recorded, Reply, ScriptedHttp, reply
from tests.test_tx import unsigned_for
from tests.wsserver import ScriptedServer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MINT = str(Pubkey.new_unique())


def example(name: str) -> ModuleType:
    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.fixture
def keypair_file(tmp_path: Path) -> tuple:
    keypair = Keypair()
    path = tmp_path / "id.json"
    path.write_text(json.dumps(list(bytes(keypair))))
    return keypair, str(path)


def test_build_sell(http: ScriptedHttp, capsys: pytest.CaptureFixture[str]) -> None:
    http.queue("/v1/sell", reply(200, {"status": "ok", "tx": "AQAB"}))
    assert (
        example("build_sell").main(
            ["--api-key", "k", "--api-url", http.url, "--mint", MINT, "--wallet", MINT, "--amount", "5"]
        )
        == 0
    )
    assert http.requests[0].json()["amount_tokens"] == 5
    assert capsys.readouterr().out.strip().endswith("AQAB")


def test_build_buy(http: ScriptedHttp, capsys: pytest.CaptureFixture[str]) -> None:
    http.queue("/v1/buy", reply(200, {"tx": "AQAC"}))
    assert (
        example("build_buy").main(
            ["--api-key", "k", "--api-url", http.url, "--mint", MINT, "--wallet", MINT, "--amount-sol", "0.1"]
        )
        == 0
    )
    assert http.requests[0].json()["amount"] == 0.1
    assert capsys.readouterr().out.strip().endswith("AQAC")


def test_build_and_send_sell(http: ScriptedHttp, keypair_file: tuple, capsys: pytest.CaptureFixture[str]) -> None:
    keypair, path = keypair_file
    http.queue("/v1/sell", reply(200, {"status": "ok", "tx": unsigned_for(keypair)}))

    def rpc(request: Recorded) -> Reply:
        tx = VersionedTransaction.from_bytes(base64.b64decode(request.json()["params"][0]))
        assert all(tx.verify_with_results())
        return reply(200, {"jsonrpc": "2.0", "id": 1, "result": str(tx.signatures[0])})

    http.handlers["/rpc"] = rpc
    args = [
        "--api-key",
        "k",
        "--api-url",
        http.url,
        "--rpc-url",
        http.url + "/rpc",
        "--keypair",
        path,
        "--mint",
        MINT,
        "--amount",
        "7",
    ]
    assert example("build_and_send_sell").main(args) == 0
    assert http.paths() == ["/v1/sell", "/rpc"]
    assert http.requests[0].json()["user_pubkey"] == str(keypair.pubkey())
    assert capsys.readouterr().out.startswith("sent: ")


def test_connect_and_register(http: ScriptedHttp, keypair_file: tuple, capsys: pytest.CaptureFixture[str]) -> None:
    keypair, path = keypair_file

    def register(request: Recorded) -> Reply:
        body = request.json()
        assert Signature.from_string(body["signature"]).verify(keypair.pubkey(), body["message"].encode())
        return reply(200, {"wallet_pubkey": body["wallet_pubkey"], "registered": True})

    http.handlers["/v1/wallets/register"] = register
    stream = ScriptedServer()
    try:
        args = ["--api-key", "k", "--api-url", http.url, "--stream-url", stream.url, "--keypair", path, "--events", "2"]
        assert example("connect_and_register").main(args) == 0
        ((_, configure),) = stream.frames("configure")
        assert configure["wallet_pubkeys"] == [str(keypair.pubkey())]
    finally:
        stream.stop()
    out = capsys.readouterr().out
    assert "connected as session 1" in out
    assert "hello_ok" in out


def test_auto_sell_runs_against_the_simulator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LASERSELL_API_KEY", raising=False)
    assert example("auto_sell").main(["--seconds", "10", "--positions", "2", "--scenario", "pump", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "using the embedded simulator" in out
    assert out.count("closed   #") >= 2
    assert "PnL %" in out
    assert "target_profit" in out.split("PnL %")[1]  # the summary lists the exits


def test_simulate_command_serves_until_interrupted(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess

    wallet_file = tmp_path / "wallet.json"
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES.parent)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lasersell_sync",
            "simulate",
            "--port",
            "0",
            "--http-port",
            "0",
            "--wallet-out",
            str(wallet_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(6)]
        assert lines[0].startswith("stream:  ws://127.0.0.1:")
        stream_url = lines[0].split()[1]
        wallet = lines[4].split()[1]
        import lasersell_sync as ls

        keypair = ls.load_keypair(wallet_file)
        assert str(keypair.pubkey()) == wallet
        strategy = ls.StrategyConfig(target_profit_pct=10, stop_loss_pct=10)
        with ls.StreamSession("any-key", [wallet], strategy, endpoint=stream_url) as session:
            assert session.connected
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("name", "args", "expect"),
    [
        ("build_sell", [], "unsigned sell transaction"),
        ("build_buy", [], "unsigned buy transaction"),
        ("build_and_send_sell", [], "sent: "),
        ("connect_and_register", ["--events", "2"], "connected as session 1"),
        ("copy_trading", ["--seconds", "10", "--mirrors", "1"], "mirrored position #"),
        ("exit_ladder", ["--seconds", "10"], "level 0: selling"),
        ("events_loop", ["--seconds", "3"], "closed #"),
    ],
)
def test_every_example_runs_against_the_simulator(
    name: str, args: list, expect: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LASERSELL_API_KEY", raising=False)
    monkeypatch.delenv("LASERSELL_KEYPAIR", raising=False)
    assert example(name).main(args) == 0
    out = capsys.readouterr().out
    assert "using the embedded simulator" in out
    assert expect in out
