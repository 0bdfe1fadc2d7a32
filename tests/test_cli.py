"""``python -m lasersell_sync``: one-line usage errors (exit 2) and a clean Ctrl-C, as a user runs it."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from solders.keypair import Keypair
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close
from websockets.sync.client import ClientConnection, connect

import lasersell_sync as ls
import lasersell_sync.cli.simulate as simulate_command
from lasersell_sync.cli import main
from lasersell_sync.cli.common import Environment
from lasersell_sync.simulator import Simulator
from tests.support import WAIT, clean_env

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
CLI = [sys.executable, "-m", "lasersell_sync"]
FREE_PORTS = ["--port", "0", "--http-port", "0"]  # should a bad case start after all, it binds nothing fixed

BAD_ARGUMENTS: Dict[str, Tuple[List[str], List[str]]] = {
    # name: (arguments, fragments of the one error line)
    "no command": ([], ["required: command"]),
    "unknown command": (["serve"], ["invalid choice: 'serve'"]),
    "unknown option": (["simulate", *FREE_PORTS, "--colour"], ["unrecognized arguments: --colour"]),
    "unknown scenario": (["simulate", *FREE_PORTS, "--scenario", "moon"], ["unknown scenario 'moon'", "pump"]),
    "negative speed": (["simulate", *FREE_PORTS, "--speed", "-1"], ["--speed", "greater than 0", "'-1'"]),
    "zero speed": (["simulate", *FREE_PORTS, "--speed", "0"], ["--speed", "greater than 0"]),
    "speed not a number": (["simulate", *FREE_PORTS, "--speed", "nan"], ["--speed", "greater than 0"]),
    "zero replay speed": (["simulate", *FREE_PORTS, "--replay-speed", "0"], ["--replay-speed", "greater than 0"]),
    "port out of range": (["simulate", "--port", "70000", "--http-port", "0"], ["--port", "0 to 65535"]),
    "seed not a number": (["simulate", *FREE_PORTS, "--seed", "one"], ["--seed", "'one'"]),
    "missing replay file": (
        ["simulate", *FREE_PORTS, "--replay", "{tmp}/missing.jsonl"],
        ["cannot read the replay file", "missing.jsonl", "No such file"],
    ),
    "replay file is a folder": (["simulate", *FREE_PORTS, "--replay", "{tmp}"], ["cannot read the replay file"]),
    "replay file is not a recording": (
        ["simulate", *FREE_PORTS, "--replay", "{tmp}/notes.jsonl"],
        ["notes.jsonl:1: not a recording line"],
    ),
    "wallet file in a missing folder": (
        ["simulate", *FREE_PORTS, "--wallet-out", "{tmp}/nowhere/wallet.json"],
        ["cannot write the wallet file", "nowhere"],
    ),
    "smoke: a mint that is not a public key": (["smoke", "--mint", "USDC"], ["argument --mint", "'USDC'"]),
    "smoke: two wallets named": (
        ["smoke", "--wallet", "11111111111111111111111111111111", "--keypair", "id.json"],
        ["argument --keypair: not allowed with argument --wallet"],
    ),
    "tail: no events wanted": (["tail", "--count", "0"], ["argument --count", "'0'"]),
    "tail: no way out": (["tail", "--take-profit", "0", "--stop-loss", "0"], ["exit condition"]),
    "keys: unknown action": (["keys", "rotate"], ["invalid choice: 'rotate'"]),
    "keys: missing key file": (["keys", "show", "{tmp}/missing.json"], ["cannot load a keypair from", "missing.json"]),
    "keys: nothing on stdin": (["keys", "show", "--base58"], ["no base58 secret key on stdin"]),
}


def assert_one_line_usage_error(result: subprocess.CompletedProcess[str], fragments: List[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lasersell-sync: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert result.stdout == ""


def close_frame_after(client: ClientConnection) -> Optional[Close]:
    """Read frames until the connection ends; the close frame it got, or None (the TCP stream just ended)."""
    try:
        while True:
            client.recv(timeout=10)
    except ConnectionClosed as exc:
        return exc.rcvd


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, subprocess.CompletedProcess[str]]:
    """Every bad command line, run at once (they are independent) to keep the suite quick."""
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "notes.jsonl").write_text("this is not a recording\n")
    procs = {
        name: subprocess.Popen(
            CLI + [arg.replace("{tmp}", str(tmp)) for arg in args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for name, (args, _) in BAD_ARGUMENTS.items()
    }
    results = {}
    try:
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=30)
            results[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


@pytest.mark.parametrize("name", list(BAD_ARGUMENTS))
def test_a_bad_argument_is_one_line_and_exit_status_2(
    name: str, bad_runs: Dict[str, subprocess.CompletedProcess[str]]
) -> None:
    assert_one_line_usage_error(bad_runs[name], BAD_ARGUMENTS[name][1])


@pytest.mark.parametrize("option", ["--port", "--http-port"])
def test_a_port_in_use_is_one_line_and_exit_status_2(option: str) -> None:
    other = "--http-port" if option == "--port" else "--port"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*CLI, "simulate", option, str(port), other, "0"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
            env=ENV,
        )
    assert_one_line_usage_error(result, [f"127.0.0.1:{port}", "already in use", option])


def test_the_environment_repr_shows_neither_the_key_nor_url_secrets() -> None:
    secret = "5ecret-helius-key-0123456789"
    env = Environment.read(
        {"LASERSELL_API_KEY": "operator-key-0123456789", "LASERSELL_RPC_URL": f"https://rpc.example/?api-key={secret}"}
    )
    shown = repr(env)
    assert "operator-key" not in shown
    assert secret not in shown
    assert "api_key=<set>" in shown
    assert "rpc_url='https://rpc.example/?api-key=<redacted>'" in shown


def test_the_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("simulate", "smoke", "tail", "keys"):
        assert f"    {command} " in out
    assert "2 a usage error" in out


def test_help_exits_0_and_documents_the_exit_statuses() -> None:
    result = subprocess.run(
        [*CLI, "simulate", "--help"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, env=ENV
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m lasersell_sync simulate")
    assert "exits with status 0" in result.stdout
    assert "graduation" in result.stdout  # the scenarios are listed


@pytest.fixture
def simulator_process(tmp_path: Path) -> Iterator[Tuple[subprocess.Popen[str], List[str], Path]]:
    """The standalone simulator on free ports, once it has announced where it listens."""
    wallet_file = tmp_path / "wallet.json"
    proc = subprocess.Popen(
        [*CLI, "simulate", *FREE_PORTS, "--speed", "20", "--wallet-out", str(wallet_file)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert proc.stdout is not None
        announced: List[str] = []
        while not announced or not announced[-1].startswith("Ctrl-C to stop."):
            line = proc.stdout.readline()
            assert line, f"the simulator exited early: {proc.communicate(timeout=10)[1]}"
            announced.append(line)
        yield proc, announced, wallet_file
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_ctrl_c_sends_every_client_a_close_frame_and_exits_cleanly(
    simulator_process: Tuple[subprocess.Popen[str], List[str], Path],
) -> None:
    proc, announced, wallet_file = simulator_process
    assert announced[0].startswith("stream:  ws://127.0.0.1:")
    stream_url, wallet = announced[0].split()[1], announced[4].split()[1]
    assert str(ls.load_keypair(wallet_file).pubkey()) == wallet
    assert stat.S_IMODE(wallet_file.stat().st_mode) == 0o600  # a private key: readable by its owner only
    configure = ls.proto.Configure(
        wallet_pubkeys=(wallet,), strategy=ls.StrategyConfig(target_profit_pct=10, stop_loss_pct=10)
    )
    with connect(stream_url, additional_headers={"x-api-key": "any-key"}, open_timeout=10) as client:
        client.send(ls.proto.encode_client(configure))
        assert '"type":"hello_ok"' in str(client.recv(timeout=10))
        proc.send_signal(signal.SIGINT)
        close = close_frame_after(client)
    assert close is not None, "the connection ended without a close frame"
    assert close.code == 1001  # going away
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


# -- a stdout that is closed or cannot be written: one line, exit status 2 ----------------------------


class FullDevice(io.RawIOBase):
    """A file whose every write fails as on a full disk (``/dev/full``), until ``failing`` is cleared."""

    failing = True

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.failing:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return len(data)  # after the test: what is left is discarded, so collecting it reports nothing


def keypair_file(tmp_path: Path) -> str:
    path = tmp_path / "id.json"
    path.write_text(json.dumps(list(bytes(Keypair()))))
    return str(path)


UNWRITABLE_OUTPUT = {
    "keys show": ["keys", "show", "{keypair}"],
    "tail": ["tail", "--count", "3", "--speed", "20"],
    "tail --json": ["tail", "--json", "--count", "3", "--speed", "20"],
    "smoke": ["smoke"],
    "simulate": ["simulate", *FREE_PORTS],
}


@pytest.mark.usefixtures("no_lasersell_settings")
@pytest.mark.parametrize("stdout", ["closed", "full"])
@pytest.mark.parametrize("command", list(UNWRITABLE_OUTPUT))
def test_a_stdout_that_cannot_be_written_is_one_line_and_status_2(
    command: str, stdout: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [arg.replace("{keypair}", keypair_file(tmp_path)) for arg in UNWRITABLE_OUTPUT[command]]
    device = FullDevice()
    full = io.TextIOWrapper(io.BufferedWriter(device))
    monkeypatch.setattr(sys, "stdout", None if stdout == "closed" else full)
    try:
        assert main(args) == 2
    finally:
        device.failing = False
    last = capsys.readouterr().err.splitlines()[-1]  # tail and smoke say first that they use the simulator
    expected = "stdout is closed" if stdout == "closed" else "cannot write to stdout: No space left on device"
    assert last.startswith(f"lasersell-sync: error: {expected}")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("stdout", ["closed", "/dev/full"])
def test_a_key_printed_nowhere_is_an_error_even_at_exit(stdout: str, tmp_path: Path) -> None:
    """Buffered output is flushed by main: nothing is left to fail as the interpreter exits."""
    command = f"exec {sys.executable} -m lasersell_sync keys show {keypair_file(tmp_path)} " + (
        ">&-" if stdout == "closed" else ">/dev/full"
    )
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30, env=ENV)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()  # no "Exception ignored" at exit
    assert line.startswith("lasersell-sync: error: ")


# -- a reader that left (| head -0, | grep -q): no complaint, and the command's own exit status --------

PASSPHRASE = "a passphrase for the pipe tests"
READER_LEFT: Dict[str, Tuple[List[str], Dict[str, str]]] = {
    # name: (arguments, environment)
    "keys show": (["keys", "show", "{keypair}"], {}),
    "keys show KEYSTORE": (["keys", "show", "{keystore}"], {}),
    "keys check": (["keys", "check", "{keystore}"], {"LASERSELL_WALLET_PASSPHRASE": PASSPHRASE}),
    "keys convert": (["keys", "convert", "{keypair}", "--out", "{tmp}/new.json"], {"LASERSELL_WALLET_PASSPHRASE": "x"}),
    "smoke": (["smoke"], {}),
    "smoke -v": (["smoke", "-v"], {}),
    "tail": (["tail", "--count", "3", "--speed", "20"], {}),
    "tail --json": (["tail", "--json", "--count", "3", "--speed", "20"], {}),
    "--help": (["--help"], {}),
    "keys --help": (["keys", "show", "--help"], {}),
}
"""Every command that prints to stdout; tail stops when its reader leaves, the others finish their work."""


def run_with_the_reader_gone(args: List[str], env: Dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI with stdout a pipe whose reading end was closed before the process started.

    Whatever the command writes, whenever it writes it, fails with EPIPE: no timing is involved.
    """
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [*CLI, *args], stdin=subprocess.DEVNULL, stdout=write_end, stderr=subprocess.PIPE, text=True,
            timeout=60, env=env,
        )  # fmt: skip
    finally:
        os.close(write_end)


def assert_no_complaint(stderr: str) -> None:
    for complaint in ("Traceback", "BrokenPipe", "Broken pipe", "Exception ignored", "error:"):
        assert complaint not in stderr, stderr


@pytest.mark.parametrize("buffering", ["buffered", "unbuffered"])  # a write fails at once, or the flush does
@pytest.mark.parametrize("command", list(READER_LEFT))
def test_a_reader_that_left_before_anything_was_printed_is_no_error(
    command: str, buffering: str, tmp_path: Path
) -> None:
    keypair = Keypair()
    (tmp_path / "id.json").write_text(json.dumps(list(bytes(keypair))))
    ls.wallet.write_keystore(tmp_path / "wallet.keystore.json", keypair, PASSPHRASE, m_kib=8, t=1)
    places = {"{keypair}": str(tmp_path / "id.json"), "{keystore}": str(tmp_path / "wallet.keystore.json")}
    args, settings = READER_LEFT[command]
    for name, value in {**places, "{tmp}": str(tmp_path)}.items():
        args = [arg.replace(name, value) for arg in args]
    env = {k: v for k, v in clean_env(**settings).items() if k != "PYTHONUNBUFFERED"}
    if buffering == "unbuffered":
        env["PYTHONUNBUFFERED"] = "1"
    result = run_with_the_reader_gone(args, env)
    assert result.returncode == 0, result.stderr
    assert_no_complaint(result.stderr)
    if command.startswith("keys"):
        assert result.stderr == ""
    if command == "keys convert":  # the work was done; only the line saying so went nowhere
        assert ls.wallet.read_keystore(tmp_path / "new.json", "x").pubkey() == keypair.pubkey()


def test_a_reader_that_left_does_not_change_a_failed_checks_status() -> None:
    """``smoke -v | head -0``: the connect step's line goes nowhere, the hello step still fails (status 1)."""
    with Simulator(require_registration=True, api_keys=["pipe-key"]) as sim:
        args = ["smoke", "-v", "--endpoint", sim.stream_url, "--api-url", sim.api_url]
        result = run_with_the_reader_gone(
            [*args, "--wallet", str(Keypair().pubkey())], clean_env(LASERSELL_API_KEY="pipe-key")
        )
    assert result.returncode == 1, result.stderr
    (verdict,) = [line for line in result.stderr.splitlines() if line.startswith("SMOKE")]
    assert verdict.startswith("SMOKE FAIL hello: "), verdict
    assert "not registered" in verdict
    assert "Traceback" not in result.stderr
    assert "Exception ignored" not in result.stderr


class PipeWithoutReader(io.FileIO):
    """The writing end of a pipe whose reader left; ``tried`` is set at the first write."""

    def __init__(self) -> None:
        read_end, write_end = os.pipe()
        os.close(read_end)
        super().__init__(write_end, "w")
        self.tried = threading.Event()

    def write(self, data: Any) -> int:
        self.tried.set()
        return super().write(data)  # EPIPE


def test_simulate_keeps_serving_after_the_reader_of_its_banner_left(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``simulate | head -1``: the banner goes nowhere, the simulator serves until SIGTERM, status 0."""
    pipe = PipeWithoutReader()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BufferedWriter(pipe)))
    started: List[Any] = []
    start = simulate_command._start
    monkeypatch.setattr(simulate_command, "_start", lambda args: started.append(start(args)) or started[-1])
    answers: List[str] = []

    def client_then_sigterm() -> None:
        try:
            if not pipe.tried.wait(WAIT):
                answers.append("the banner was never written")
                return
            strategy = ls.StrategyConfig(target_profit_pct=10, stop_loss_pct=10)
            configure = ls.proto.Configure(wallet_pubkeys=(started[0].wallet_pubkey,), strategy=strategy)
            with connect(started[0].stream_url, additional_headers={"x-api-key": "k"}, open_timeout=WAIT) as ws:
                ws.send(ls.proto.encode_client(configure))
                answers.append(str(ws.recv(timeout=WAIT)))
        except Exception as exc:  # reported by the test's assertion, not as a thread's traceback
            answers.append(repr(exc))
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # as a user stops it; harmless here should main have returned

    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)  # simulate installs its own meanwhile
    client = threading.Thread(target=client_then_sigterm, name="test-simulate-client")
    try:
        client.start()
        status = main(["simulate", *FREE_PORTS])
    finally:
        client.join()
        signal.signal(signal.SIGTERM, previous)
        with contextlib.suppress(BrokenPipeError):  # /dev/null by now, unless the command failed to point it there
            sys.stdout.close()
    assert status == 0
    assert len(answers) == 1
    assert '"type":"hello_ok"' in answers[0]  # it served after the banner went nowhere
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "command", [["simulate"], ["smoke"], ["tail"], ["keys"], ["keys", "show"], ["keys", "convert"], ["keys", "check"]]
)
def test_help_is_plain_text_without_rest_markup(command: List[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ")
    assert "``" not in out
    assert ":class:" not in out
    assert ":func:" not in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["keys", "--bogus"], "unrecognized arguments: --bogus"),
        ([], "the following arguments are required: command"),
        (["simulate", *FREE_PORTS, "--replay-speed", "2"], "--replay-speed applies to --replay only"),
        (["keys"], "keys: the following arguments are required: action"),
    ],
    ids=["unknown option", "unknown keys option", "no command", "replay speed without a replay", "keys alone"],
)
def test_a_usage_error_names_what_is_wrong(args: List[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        status = main(args)
    except SystemExit as exited:  # argparse's own errors
        status = exited.code  # type: ignore[assignment]
    assert status == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"lasersell-sync: error: {expected}")
