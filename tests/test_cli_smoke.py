"""``smoke``: SMOKE OK against a simulator; otherwise the failing step named, one line, no secret.

Two runs start a real process (as a user or a cron job runs it: ``python -m lasersell_sync`` and
the ``lasersell-sync`` console script); the failure matrix calls ``cli.main`` in this process,
against real servers on 127.0.0.1 (a simulator, a scripted HTTP server, a port nobody listens on).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
from solders.keypair import Keypair

import lasersell_sync as ls
import lasersell_sync.cli.smoke as smoke_command
from lasersell_sync.cli import main
from lasersell_sync.simulator import Simulator
from tests.httpserver import Reply, ScriptedHttp, reply
from tests.support import clean_env

pytestmark = pytest.mark.usefixtures("no_lasersell_settings")

SECRET = "tok3nSecretValue0123456789abcdef"
KEY = "operator-key-5up3r-s3cr3t"


def run(command: List[str], env: Dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=40, env=env)


def dead_port() -> int:
    """A port that was free a moment ago and that nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=2, scenario="pump", speed=10, api_keys=[KEY]) as running:
        yield running


@pytest.fixture
def wallet_file(sim: Simulator, tmp_path: Path) -> str:
    path = tmp_path / "id.json"
    path.write_text(json.dumps(list(bytes(sim.wallet))))
    return str(path)


def smoke(args: List[str], capsys: pytest.CaptureFixture[str]) -> Tuple[int, str, str]:
    status = main(["smoke", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


def failure(status: int, out: str, err: str, step: str, expected_status: int = 1) -> str:
    assert status == expected_status, err
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"SMOKE FAIL {step}: "), line
    assert KEY not in line
    assert SECRET not in line
    return line


# -- as a user runs it -----------------------------------------------------------------------------


def test_without_a_key_smoke_checks_the_embedded_simulator_and_says_so() -> None:
    result = run([sys.executable, "-m", "lasersell_sync", "smoke", "-v"], clean_env())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:3]] == [["connect", "ok"], ["hello", "ok"], ["sell", "ok"]]
    assert "unsigned sell of" in lines[2]  # a mint of one of the simulator's positions
    assert lines[-1] == "SMOKE OK"
    assert "embedded simulator" in result.stderr


def test_the_console_script_passes_against_the_service_settings(sim: Simulator, wallet_file: str) -> None:
    script = shutil.which("lasersell-sync", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "lasersell_sync"]
    env = clean_env(LASERSELL_API_KEY=KEY, LASERSELL_KEYPAIR_PATH=wallet_file, LASERSELL_SEND_TARGET="helius")
    result = run([*command, "smoke", "--endpoint", sim.stream_url, "--api-url", sim.api_url], env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "SMOKE OK\n", "")
    assert KEY in sim.engines  # the stream session reached the simulator with this key
    assert sim.settlements() == []  # nothing was signed or sent


# -- the step that fails is named ------------------------------------------------------------------


def test_a_dead_port_fails_the_connect_step_without_showing_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = dead_port()
    monkeypatch.setenv("LASERSELL_API_KEY", KEY)
    endpoint = f"ws://127.0.0.1:{port}/v1/ws?token={SECRET}"
    args = ["--endpoint", endpoint, "--api-url", f"http://127.0.0.1:{port}", "--wallet", str(Keypair().pubkey())]
    line = failure(*smoke(args, capsys), "connect")
    assert f"127.0.0.1:{port}/v1/ws?token=<redacted>" in line
    assert "refused" in line.lower()


def test_a_rejected_key_fails_the_connect_step_with_401(
    sim: Simulator, wallet_file: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LASERSELL_API_KEY", "not-the-operator-key-0123456789")
    monkeypatch.setenv("LASERSELL_KEYPAIR_PATH", wallet_file)
    line = failure(*smoke(["--endpoint", sim.stream_url, "--api-url", sim.api_url], capsys), "connect")
    assert "HTTP 401" in line
    assert "API key rejected" in line
    assert "not-the-operator-key" not in line


def test_a_wallet_the_stream_refuses_fails_the_hello_step(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Simulator(require_registration=True) as strict:
        monkeypatch.setenv("LASERSELL_API_KEY", strict.api_key)
        args = ["--endpoint", strict.stream_url, "--api-url", strict.api_url, "--wallet", str(Keypair().pubkey())]
        line = failure(*smoke(args, capsys), "hello")
    assert "wallet_not_registered" in line


SELL_ANSWERS = {
    "internal error": (reply(500, {"error": "internal error"}), "HTTP 500"),
    "key refused by the Exit API": (reply(401, {"error": "invalid api key"}), "API key rejected"),
    "rate limited": (reply(429, {"error": "rate limit exceeded"}), "HTTP 429"),
    "not the Exit API": (reply(404, "<html><body>Not Found</body></html>"), "HTTP 404"),
    "not JSON": (reply(200, "<html>ok</html>"), "not valid JSON"),
}


@pytest.mark.parametrize("case", list(SELL_ANSWERS))
def test_an_exit_api_that_fails_fails_the_sell_step(
    case: str,
    sim: Simulator,
    http: ScriptedHttp,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    answer, fragment = SELL_ANSWERS[case]
    http.defaults["/v1/sell"] = answer
    monkeypatch.setenv("LASERSELL_API_KEY", KEY)
    args = ["--endpoint", sim.stream_url, "--api-url", http.url, "--wallet", sim.wallet_pubkey]
    line = failure(*smoke(args, capsys), "sell")
    assert fragment in line
    assert http.requests[0].headers["x-api-key"] == KEY  # the request reached the API
    assert len(http.requests) == 1  # one attempt within the step's deadline


def test_an_exit_api_that_is_down_fails_the_sell_step(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = dead_port()
    monkeypatch.setenv("LASERSELL_API_KEY", KEY)
    args = ["--endpoint", sim.stream_url, "--api-url", f"http://127.0.0.1:{port}", "--wallet", sim.wallet_pubkey]
    line = failure(*smoke(args, capsys), "sell")
    assert f"127.0.0.1:{port}" in line


@pytest.mark.parametrize(
    "answer",
    [
        reply(404, {"status": "not_indexed", "mint": "x", "reason": "mint not indexed yet; try again shortly"}),
        reply(400, {"status": "unsupported", "reason": "no_route", "message": "no route for this mint"}),
        reply(422, {"error": "no viable route"}),
    ],
    ids=["not_indexed", "no_route", "422"],
)
def test_a_refusal_about_the_token_passes_the_sell_step(
    answer: Reply,
    sim: Simulator,
    http: ScriptedHttp,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    http.defaults["/v1/sell"] = answer
    monkeypatch.setenv("LASERSELL_API_KEY", KEY)
    mint = str(Keypair().pubkey())
    args = ["--endpoint", sim.stream_url, "--api-url", http.url, "--wallet", sim.wallet_pubkey, "--mint", mint, "-v"]
    status, out, err = smoke(args, capsys)
    assert (status, err) == (0, "")
    assert out.splitlines()[-1] == "SMOKE OK"
    assert f"HTTP {answer.status}" in out  # -v shows what the API said
    assert http.requests[0].json()["mint"] == mint


# -- a bad setting is the config step, exit status 2 -------------------------------------------------


@pytest.mark.parametrize(
    ("env", "args", "fragment"),
    [
        ({}, ["--endpoint", "ws://127.0.0.1:9/v1/ws"], "--endpoint needs an API key: set LASERSELL_API_KEY"),
        ({}, ["--keypair", "garbage.json"], "--keypair needs an API key: set LASERSELL_API_KEY"),
        ({"LASERSELL_API_KEY": ""}, [], "LASERSELL_API_KEY is empty"),
        ({}, ["--wallet", str(Keypair().pubkey())], "--wallet needs an API key"),
        ({"LASERSELL_KEYPAIR_PATH": "/nonexistent/id.json"}, [], "/nonexistent/id.json"),
        ({"LASERSELL_API_KEY": KEY}, [], "which wallet?"),
        ({"LASERSELL_API_KEY": KEY, "LASERSELL_KEYPAIR_PATH": "/nonexistent/id.json"}, [], "/nonexistent/id.json"),
        ({"LASERSELL_SEND_TARGET": "carrier-pigeon"}, [], "LASERSELL_SEND_TARGET must be one of"),
        ({"LASERSELL_RPC_URL": "rpc.example.com"}, [], "LASERSELL_RPC_URL must be an http"),
        ({"LASERSELL_API_KEY": KEY}, ["--endpoint", "http://x", "--wallet", str(Keypair().pubkey())], "ws://"),
        (
            {"LASERSELL_API_KEY": KEY},
            ["--api-url", "ftp://x", "--wallet", str(Keypair().pubkey())],
            "must be an http:// or https:// URL, got 'ftp://x'",
        ),
    ],
    ids=[
        "endpoint without key",
        "keypair without key",
        "empty key",
        "wallet without key",
        "simulator: missing keypair file",
        "no wallet",
        "missing keypair file",
        "bad send target",
        "bad rpc url",
        "bad endpoint",
        "bad api url",
    ],
)
def test_a_bad_setting_fails_the_config_step_with_status_2(
    env: Dict[str, str],
    args: List[str],
    fragment: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    line = failure(*smoke(args, capsys), "config", expected_status=2)
    assert fragment in line


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
@pytest.mark.parametrize("target", ["service", "simulator"])
def test_a_ca_bundle_that_is_not_there_fails_the_config_step_before_connecting(
    variable: str,
    target: str,
    sim: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv(variable, str(tmp_path / "missing-ca.pem"))
    args: List[str] = []
    if target == "service":
        monkeypatch.setenv("LASERSELL_API_KEY", KEY)
        args = ["--endpoint", sim.stream_url, "--api-url", sim.api_url, "--wallet", sim.wallet_pubkey]
    line = failure(*smoke(args, capsys), "config", expected_status=2)
    assert f"{variable} names no CA bundle" in line
    assert KEY not in sim.engines  # no stream session was opened


def test_the_plan_repr_shows_no_secret() -> None:
    plan = smoke_command._new_plan(
        KEY, f"wss://stream.example/v1/ws?token={SECRET}", f"https://api.example/?token={SECRET}", "W", None, None
    )
    try:
        shown = repr(plan)
    finally:
        plan.api.close()
    assert KEY not in shown
    assert SECRET not in shown
    assert "stream_url='wss://stream.example/v1/ws?token=<redacted>'" in shown
    assert "<ExitApiClient https://api.example/?token=<redacted> api_key=<redacted>>" in shown


def test_a_keystore_names_the_wallet_without_being_decrypted(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "wallet.keystore.json"
    ls.wallet.write_keystore(store, sim.wallet, "a passphrase smoke never needs", m_kib=8, t=1)
    monkeypatch.setenv("LASERSELL_API_KEY", KEY)  # no LASERSELL_WALLET_PASSPHRASE
    args = ["--endpoint", sim.stream_url, "--api-url", sim.api_url, "--keypair", str(store)]
    assert smoke(args, capsys) == (0, "SMOKE OK\n", "")
    assert sim.engines[KEY].wallets == [sim.wallet_pubkey]
    document = json.loads(store.read_text())
    store.write_text(json.dumps({**document, "pubkey": "not-a-public-key"}))
    line = failure(*smoke(args, capsys), "config", expected_status=2)
    assert f"{store}: its pubkey field is not a base58 public key" in line


def test_a_bad_flag_is_a_one_line_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["smoke", "--mint", "not-a-mint"])
    assert exited.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == "lasersell-sync: error: argument --mint: expected a base58 Solana public key, got 'not-a-mint'"


def test_without_a_key_a_good_keypair_path_is_noted_as_unused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "id.json").write_text(json.dumps(list(bytes(Keypair()))))
    monkeypatch.setenv("LASERSELL_KEYPAIR_PATH", str(tmp_path / "id.json"))
    status, out, err = smoke([], capsys)
    assert (status, out) == (0, "SMOKE OK\n")
    assert err == (
        "smoke: LASERSELL_API_KEY is not set: checking the embedded simulator"
        " (its own wallet, not LASERSELL_KEYPAIR_PATH's), not the service\n"
    )
