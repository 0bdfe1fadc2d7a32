"""The examples run end to end against local servers (REST, JSON-RPC and the stream)."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

import lasersell_sync as ls
from tests.httpserver import Recorded, Reply, ScriptedHttp, reply
from tests.support import example
from tests.txbuild import unsigned_for
from tests.wsserver import ScriptedServer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MINT = str(Pubkey.new_unique())
SETTINGS = ("LASERSELL_API_KEY", "LASERSELL_KEYPAIR_PATH", "LASERSELL_KEYPAIR", "LASERSELL_RPC_URL")
ALL_EXAMPLES = sorted(path.stem for path in EXAMPLES.glob("*.py") if not path.stem.startswith("_"))
# Each example stops as soon as its goal (positions closed, mirrors, events) is reached, so its time
# budget only bounds a run that would fail anyway: long enough for any runner, within pytest's 60 s.
BUDGET = "45"


@pytest.fixture
def keypair_file(tmp_path: Path) -> tuple:
    keypair = Keypair()
    path = tmp_path / "id.json"
    path.write_text(json.dumps(list(bytes(keypair))))
    return keypair, str(path)


@pytest.fixture
def service_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """An API key in the environment (the examples read it from nowhere else): the real-service path."""
    monkeypatch.setenv("LASERSELL_API_KEY", "k")
    return "k"


def test_build_sell(http: ScriptedHttp, service_key: str, capsys: pytest.CaptureFixture[str]) -> None:
    http.queue("/v1/sell", reply(200, {"status": "ok", "tx": "AQAB"}))
    assert example("build_sell").main(["--api-url", http.url, "--mint", MINT, "--wallet", MINT, "--amount", "5"]) == 0
    assert http.requests[0].json()["amount_tokens"] == 5
    assert capsys.readouterr().out.strip().endswith("AQAB")


def test_build_buy(http: ScriptedHttp, service_key: str, capsys: pytest.CaptureFixture[str]) -> None:
    http.queue("/v1/buy", reply(200, {"tx": "AQAC"}))
    assert (
        example("build_buy").main(["--api-url", http.url, "--mint", MINT, "--wallet", MINT, "--amount-sol", "0.1"]) == 0
    )
    assert http.requests[0].json()["amount"] == 0.1
    assert capsys.readouterr().out.strip().endswith("AQAC")


def test_build_and_send_sell(
    http: ScriptedHttp, service_key: str, keypair_file: tuple, capsys: pytest.CaptureFixture[str]
) -> None:
    keypair, path = keypair_file
    http.queue("/v1/sell", reply(200, {"status": "ok", "tx": unsigned_for(keypair)}))

    def rpc(request: Recorded) -> Reply:
        tx = VersionedTransaction.from_bytes(base64.b64decode(request.json()["params"][0]))
        assert all(tx.verify_with_results())
        return reply(200, {"jsonrpc": "2.0", "id": 1, "result": str(tx.signatures[0])})

    http.handlers["/rpc"] = rpc
    args = [
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


def test_connect_and_register(
    http: ScriptedHttp, service_key: str, keypair_file: tuple, capsys: pytest.CaptureFixture[str]
) -> None:
    keypair, path = keypair_file

    def register(request: Recorded) -> Reply:
        body = request.json()
        assert Signature.from_string(body["signature"]).verify(keypair.pubkey(), body["message"].encode())
        return reply(200, {"wallet_pubkey": body["wallet_pubkey"], "registered": True})

    http.handlers["/v1/wallets/register"] = register
    stream = ScriptedServer()
    try:
        args = ["--api-url", http.url, "--stream-url", stream.url, "--keypair", path, "--events", "2"]
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
    for variable in SETTINGS:
        monkeypatch.delenv(variable, raising=False)
    assert (
        example("auto_sell").main(["--seconds", BUDGET, "--positions", "2", "--scenario", "pump", "--seed", "3"]) == 0
    )
    out = capsys.readouterr().out
    assert "using the embedded simulator" in out
    assert out.count("closed   #") >= 2
    assert "PnL %" in out
    assert "target_profit" in out.split("PnL %")[1]  # the summary lists the exits


@pytest.mark.parametrize(
    ("name", "args", "expect"),
    [
        ("build_sell", [], "unsigned sell transaction"),
        ("build_buy", [], "unsigned buy transaction"),
        ("build_and_send_sell", [], "sent: "),
        ("connect_and_register", ["--events", "2"], "connected as session 1"),
        ("copy_trading", ["--seconds", BUDGET, "--mirrors", "1"], "mirrored position #"),
        ("exit_ladder", ["--seconds", BUDGET], "level 0: selling"),  # stops at the first position sold out
        ("events_loop", ["--seconds", BUDGET, "--positions", "1"], "closed #"),
    ],
)
def test_every_example_runs_against_the_simulator(
    name: str, args: list, expect: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable in SETTINGS:
        monkeypatch.delenv(variable, raising=False)
    assert example(name).main(args) == 0
    out = capsys.readouterr().out
    assert "using the embedded simulator" in out
    assert expect in out


def test_keypair_and_rpc_url_come_from_the_official_environment_variables(
    http: ScriptedHttp, keypair_file: tuple, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keypair, path = keypair_file
    for _ in range(2):
        http.queue("/v1/sell", reply(200, {"status": "ok", "tx": unsigned_for(keypair)}))
        http.queue("/rpc", reply(200, {"jsonrpc": "2.0", "id": 1, "result": "5ig"}))
    monkeypatch.setenv("LASERSELL_API_KEY", "k")
    monkeypatch.setenv("LASERSELL_KEYPAIR_PATH", path)
    monkeypatch.setenv("LASERSELL_KEYPAIR", "/the/old/name/loses")
    monkeypatch.setenv("LASERSELL_RPC_URL", http.url + "/rpc")
    assert example("build_and_send_sell").main(["--api-url", http.url, "--mint", MINT]) == 0
    monkeypatch.delenv("LASERSELL_KEYPAIR_PATH")
    monkeypatch.setenv("LASERSELL_KEYPAIR", path)  # the examples' old name still works on its own
    assert example("build_and_send_sell").main(["--api-url", http.url, "--mint", MINT]) == 0
    assert http.paths() == ["/v1/sell", "/rpc"] * 2
    assert {request.json().get("user_pubkey") for request in http.requests[::2]} == {str(keypair.pubkey())}
    sent = [VersionedTransaction.from_bytes(base64.b64decode(r.json()["params"][0])) for r in http.requests[1::2]]
    assert capsys.readouterr().out == "".join(f"sent: {tx.signatures[0]}\n" for tx in sent)


def test_auto_sell_takes_the_real_service_settings_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lasersell_sync.simulator import Simulator

    with Simulator(seed=3, scenario="pump", speed=20) as sim:  # stands in for the service
        wallet_file = tmp_path / "wallet.json"
        wallet_file.write_text(json.dumps(list(bytes(sim.wallet))))
        monkeypatch.setenv("LASERSELL_API_KEY", sim.api_key)
        monkeypatch.setenv("LASERSELL_KEYPAIR_PATH", str(wallet_file))
        monkeypatch.setenv("LASERSELL_RPC_URL", sim.rpc_url)
        assert example("auto_sell").main(["--stream-url", sim.stream_url, "--seconds", BUDGET, "--positions", "1"]) == 0
    out = capsys.readouterr().out
    assert "using the LaserSell service" in out
    assert "embedded simulator" not in out
    assert "closed   #1: target_profit" in out


def test_decode_fixtures_decodes_every_frame(capsys: pytest.CaptureFixture[str]) -> None:
    assert example("decode_fixtures").main([]) == 0
    out = capsys.readouterr().out
    assert "server_hello_ok.json" in out
    assert "rejected a bad frame" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--fixtures", "{tmp}"], "no server_*.json or client_*.json frames"), (["--verbose"], "unrecognized arguments")],
)
def test_decode_fixtures_bad_arguments_are_usage_errors(
    args: list, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        example("decode_fixtures").main([arg.replace("{tmp}", str(tmp_path)) for arg in args])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert fragment in err


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_every_example_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    module = example(name)
    with pytest.raises(SystemExit) as exited:
        module.main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ")
    assert module.__doc__.splitlines()[0] in out


# -- as a user runs them: python examples/NAME.py ...; many at once, since each takes a moment to start

CLOSED = "http://127.0.0.1:9"  # nothing listens there: should an example connect after all, it stays local
OFFLINE = ["--api-url", CLOSED, "--stream-url", "ws://127.0.0.1:9/v1/ws", "--rpc-url", CLOSED]
RUNS = {
    **{
        f"{name} with an API key and no keypair": (name, OFFLINE, {"LASERSELL_API_KEY": "dummy-key"})
        for name in ALL_EXAMPLES
        if name != "decode_fixtures"
    },
    "auto_sell with an unreadable keypair": (
        "auto_sell",
        OFFLINE,
        {"LASERSELL_API_KEY": "dummy-key", "LASERSELL_KEYPAIR_PATH": "/nonexistent/id.json"},
    ),
    "auto_sell with an unknown scenario": ("auto_sell", ["--scenario", "moon"], {}),
    "auto_sell with an unknown send target": ("auto_sell", OFFLINE, {"LASERSELL_SEND_TARGET": "jito"}),
    "build_sell with a bad amount": ("build_sell", ["--amount", "lots"], {}),
    "decode_fixtures with a bad argument": ("decode_fixtures", ["--fixtures"], {}),
}


Command = Tuple[str, List[str], Dict[str, str]]
"""An example's name, its arguments and the environment variables added for it."""


def run_examples(commands: Dict[str, Command]) -> Dict[str, subprocess.CompletedProcess[str]]:
    """Run every command at once, as a user would (``python examples/NAME.py ...``), and wait for all."""
    base = {key: value for key, value in os.environ.items() if key not in SETTINGS}
    base.update(PYTHONPATH=str(EXAMPLES.parent), NO_PROXY="", no_proxy="")
    base.update({proxy: CLOSED for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")})
    procs = {
        label: subprocess.Popen(
            [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**base, **env},
        )
        for label, (name, args, env) in commands.items()
    }
    results = {}
    deadline = time.monotonic() + 50  # they run at once; this bounds a hang, within pytest's 60 s
    try:
        for label, proc in procs.items():
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            results[label] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


@pytest.fixture(scope="module")
def runs() -> Dict[str, subprocess.CompletedProcess[str]]:
    return run_examples(RUNS)


def one_line_error(result: subprocess.CompletedProcess[str], script: str) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{script}.py: error: ")
    return line


@pytest.mark.parametrize("name", [name for name in ALL_EXAMPLES if name != "decode_fixtures"])
def test_a_missing_keypair_is_one_line_before_anything_connects(
    name: str, runs: Dict[str, subprocess.CompletedProcess[str]]
) -> None:
    result = runs[f"{name} with an API key and no keypair"]
    line = one_line_error(result, name)
    assert "LASERSELL_KEYPAIR_PATH" in line
    assert "--keypair" in line
    assert result.stdout == ""  # nothing ran: no "connected", no simulator


@pytest.mark.parametrize(
    ("label", "fragment"),
    [
        ("auto_sell with an unreadable keypair", "cannot load a keypair from /nonexistent/id.json"),
        ("auto_sell with an unknown scenario", "unknown scenario 'moon'"),
        ("auto_sell with an unknown send target", "LASERSELL_SEND_TARGET) must be rpc or helius, got 'jito'"),
        ("build_sell with a bad amount", "argument --amount: invalid int value: 'lots'"),
        ("decode_fixtures with a bad argument", "argument --fixtures: expected one argument"),
    ],
)
def test_bad_settings_are_one_line_errors(
    label: str, fragment: str, runs: Dict[str, subprocess.CompletedProcess[str]]
) -> None:
    assert fragment in one_line_error(runs[label], RUNS[label][0])


# -- the service fails: a rejected API key, an endpoint nothing listens on -----------------------

SERVICE_EXAMPLES = [name for name in ALL_EXAMPLES if name != "decode_fixtures"]
REJECTED_KEY = "not-the-key-5f0c9e2a"  # must never be shown: not in a message, not in a traceback


@pytest.fixture(scope="module")
def service_failures(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, subprocess.CompletedProcess[str]]:
    """Every example that talks to the service, with a key the service rejects and against a dead port."""
    from lasersell_sync.simulator import Simulator

    wallet = tmp_path_factory.mktemp("wallet") / "id.json"
    wallet.write_text(json.dumps(list(bytes(Keypair()))))
    settings = {"LASERSELL_API_KEY": REJECTED_KEY, "LASERSELL_KEYPAIR_PATH": str(wallet)}
    with Simulator(api_keys=["the-only-key-it-takes"], speed=20) as sim:  # 401 for any other key
        on_sim = ["--api-url", sim.api_url, "--stream-url", sim.stream_url, "--rpc-url", sim.rpc_url]
        local = {**settings, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        commands: Dict[str, Command] = {}
        for name in SERVICE_EXAMPLES:
            commands[f"{name} with a rejected key"] = (name, on_sim, local)
            commands[f"{name} against a dead port"] = (name, OFFLINE, settings)
        return run_examples(commands)


def one_line_failure(result: subprocess.CompletedProcess[str], script: str) -> str:
    """The single stderr line of a run that failed on the service's side (exit status 1)."""
    assert "Traceback" not in result.stderr, result.stderr
    assert REJECTED_KEY not in result.stdout + result.stderr
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{script}.py: error: ")
    return line


@pytest.mark.parametrize("name", SERVICE_EXAMPLES)
def test_a_rejected_api_key_is_one_line_and_exit_status_1(
    name: str, service_failures: Dict[str, subprocess.CompletedProcess[str]]
) -> None:
    line = one_line_failure(service_failures[f"{name} with a rejected key"], name)
    assert "401" in line
    assert "AuthenticationError" in line or "ExitApiError" in line


@pytest.mark.parametrize("name", SERVICE_EXAMPLES)
def test_an_unreachable_endpoint_is_one_line_and_exit_status_1(
    name: str, service_failures: Dict[str, subprocess.CompletedProcess[str]]
) -> None:
    line = one_line_failure(service_failures[f"{name} against a dead port"], name)
    assert "127.0.0.1:9" in line  # names the endpoint it could not reach


# -- --help: every option explained, and what runs without a key ---------------------------------


@pytest.fixture(scope="module")
def helps() -> Dict[str, subprocess.CompletedProcess[str]]:
    wide = {"COLUMNS": "200"}  # one line per option, unless its name is too long for the help column
    return run_examples({name: (name, ["--help"], wide) for name in ALL_EXAMPLES})


def options_without_help(text: str) -> List[str]:
    """The options of a ``--help`` text that have no description."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line in ("options:", "optional arguments:"))
    missing = []
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if not line.startswith("  -"):
            continue
        described = len(line.strip().split("  ", 1)) == 2  # "--seconds SECONDS   stop after ..."
        following = lines[index + 1] if index + 1 < len(lines) else ""
        continued = following.startswith("    ") and following.strip() != ""  # help on the next line
        if not described and not continued:
            missing.append(line.strip())
    return missing


def test_options_without_help_finds_a_bare_option() -> None:
    text = "usage: x\n\noptions:\n  -h, --help  show this\n  --mint MINT\n  --long-option-name LONG\n      help\n"
    assert options_without_help(text) == ["--mint MINT"]


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_every_option_of_every_example_has_help(name: str, helps: Dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = helps[name]
    assert result.returncode == 0, result.stderr
    assert options_without_help(result.stdout) == []


@pytest.mark.parametrize("name", SERVICE_EXAMPLES)
def test_every_example_says_in_its_help_that_it_runs_on_the_simulator_without_a_key(
    name: str, helps: Dict[str, subprocess.CompletedProcess[str]]
) -> None:
    description = helps[name].stdout.split("options:")[0].split("optional arguments:")[0]
    flat = " ".join(description.split())
    assert "LASERSELL_API_KEY" in flat
    assert "simulator" in flat


# -- the main job's log and table (examples/auto_sell.py) ----------------------------------------

LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d  (\w+) +#(\d+)\b", re.M)


def steps(out: str) -> Dict[int, List[str]]:
    """Each position's log steps (opened, signal, sent, closed, landed, ...), in the order printed."""
    found: Dict[int, List[str]] = {}
    for match in LOG_LINE.finditer(out):
        found.setdefault(int(match.group(2)), []).append(match.group(1))
    return found


def test_auto_sell_prints_the_strategy_a_total_the_open_positions_and_a_legend(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable in SETTINGS:
        monkeypatch.delenv(variable, raising=False)
    args = ["--seconds", BUDGET, "--positions", "3", "--scenario", "mixed", "--seed", "1"]
    auto_sell = example("auto_sell")
    assert auto_sell.main(args) == 0
    out = capsys.readouterr().out
    assert "strategy: take profit at +30 %, stop loss at -15 %, trailing stop 8 points" in out
    log, table = out.split("\nposition  token", 1)
    for position, seen in steps(log).items():
        if "closed" in seen and "sent" in seen:
            assert seen.index("sent") < seen.index("closed"), (position, seen)
    rows = re.findall(r"^#(\d+) +\S+ +([\d.]+) +([\d.]+) +(-?[\d.]+) +(\w+) .*$", table, re.M)
    assert rows
    (total,) = re.findall(r"^total +(\d+) exits +([\d.]+) +([\d.]+) +(-?[\d.]+)", table, re.M)
    assert int(total[0]) == len(rows)
    assert float(total[1]) == pytest.approx(sum(float(row[1]) for row in rows), abs=0.002 * len(rows))
    assert re.search(r"^still open: (none|\d+)$", table, re.M)
    assert "slippage         signal: the sell went as the signal's transaction was built" in table
    for position, _, _, pnl, reason in rows:  # whatever the seed's market did: a crash is explained
        if abs(float(pnl) + 15 + auto_sell.CRASH_MARGIN_PCT) < 0.1:
            continue  # shown rounded: too close to the line to tell which side it is on
        crashed = reason == "stop_loss" and float(pnl) < -15 - auto_sell.CRASH_MARGIN_PCT
        assert (f"  * #{position} " in table) is crashed, (position, pnl, reason)


def test_the_summary_explains_a_stop_loss_far_past_the_stop() -> None:
    auto_sell = example("auto_sell")
    stop = {"reason": "stop_loss", "outcome": "landed", "closed": "stop_loss"}
    crashed = auto_sell.Row(4, "SIM4", entry=100_000_000, profit=-90_200_000, **stop)
    slipped = auto_sell.Row(5, "SIM5", entry=150_000_000, profit=-24_450_000, **stop)
    won = auto_sell.Row(1, "SIM1", entry=150_000_000, profit=46_650_000, reason="target_profit", closed="target_profit")
    held = auto_sell.Row(6, "SIM6", entry=650_000_000, pnl=20_800_000)
    lines = auto_sell.summary([won, crashed, slipped, held], auto_sell.STRATEGY)
    text = "\n".join(lines)
    (note,) = [line for line in lines if line.startswith("  * ")]
    assert note.startswith("  * #4 SIM4: the price crashed past the -15 % stop between two price updates")
    assert "already at -90.2 %" in note
    assert re.search(r"^#4 .* -90\.2 .*  \*$", text, re.M)
    assert not re.search(r"^#5 .*\*$", text, re.M)  # -16.3 %: an ordinary stop, no note
    assert re.search(r"^total +3 exits +0\.400 +0\.332 +-17\.0 .* 2 landed, 1 pending$", text, re.M)
    assert "still open: 1\n  #6 SIM6: entry 0.650 SOL, PnL +3.2 % at the last update" in text
    assert text.endswith(auto_sell.LEGEND[-1])


def test_auto_sell_logs_the_sell_before_the_close_it_caused_even_when_the_close_comes_first(
    http: ScriptedHttp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The RPC answers sendTransaction (and status polls) only once the session has seen a position
    close: the order in which exit_submitted and position_closed reach a bot when the chain and the
    stream beat the RPC's answer. The log still shows each sell sent before its position closed."""
    from lasersell_sync.simulator import Simulator

    closed_seen = threading.Event()

    class Session(ls.StreamSession):
        def auto_exit(self, *args: Any, **kwargs: Any) -> Any:
            executor = super().auto_exit(*args, **kwargs)
            # after the executor's own handler, before the example's: the close is being dispatched
            self.on(ls.PositionClosed, lambda event: closed_seen.set())
            return executor

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with Simulator(seed=1, scenario="mixed", speed=20) as sim:

        def rpc(request: Recorded) -> Reply:
            forwarded = urllib.request.Request(
                sim.rpc_url, data=request.body, headers={"content-type": "application/json"}
            )
            with opener.open(forwarded, timeout=10) as answer:
                body = answer.read()
            calls = request.json()
            methods = {call["method"] for call in (calls if isinstance(calls, list) else [calls])}
            if methods & {"sendTransaction", "getSignatureStatuses"}:
                closed_seen.wait(30)  # bounds a broken run only: the close comes within milliseconds
            return reply(200, body)

        http.handlers["/rpc"] = rpc
        wallet_file = tmp_path / "wallet.json"
        wallet_file.write_text(json.dumps(list(bytes(sim.wallet))))
        monkeypatch.setenv("LASERSELL_API_KEY", sim.api_key)
        monkeypatch.setenv("LASERSELL_KEYPAIR_PATH", str(wallet_file))
        monkeypatch.setenv("LASERSELL_RPC_URL", http.url + "/rpc")
        monkeypatch.setattr(ls, "StreamSession", Session)
        try:
            assert (
                example("auto_sell").main(["--stream-url", sim.stream_url, "--seconds", BUDGET, "--positions", "1"])
                == 0
            )
        finally:
            closed_seen.set()  # no request stays held, whatever happened
    out = capsys.readouterr().out
    closed = [position for position, seen in steps(out).items() if "closed" in seen]
    assert closed
    for position in closed:
        seen = steps(out)[position]
        assert "sent" in seen, out
        assert seen.index("sent") < seen.index("closed"), out
