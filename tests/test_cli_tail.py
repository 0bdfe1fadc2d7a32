"""``tail``: lines or JSON Lines in a pipe, a live table in a real pseudo-terminal, a clean Ctrl-C."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import attrs
import pytest
from solders.keypair import Keypair

import lasersell_sync as ls
import lasersell_sync.cli.tail as tail_command
from lasersell_sync.cli import main
from lasersell_sync.simulator import Simulator
from lasersell_sync.stream.positions import PositionHandle
from tests.support import clean_env
from tests.wsserver import ScriptedServer

pytestmark = pytest.mark.usefixtures("no_lasersell_settings")

KEY = "tail-key-0123456789"
LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3})  (\S+)\s+(\S+)\s+(.*)$")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=4, scenario="pump", speed=10, api_keys=[KEY]) as running:
        yield running


def test_without_a_terminal_each_event_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tail", "--count", "12", "--speed", "20"]) == 0  # no key: the embedded simulator
    out, err = capsys.readouterr()
    assert "embedded simulator" in err
    lines = out.splitlines()
    assert len(lines) == 12
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    types = [match.group(2) for match in parsed if match]
    assert set(types) <= ls.stream.EVENT_NAMES
    assert types[:2] == ["connected", "hello_ok"] or types[:2] == ["hello_ok", "connected"]
    opened = lines[types.index("position_opened")]
    assert re.search(r"SIM\d+ +#\d+ tokens=\d+ entry=\d+\.\d{4} SOL$", opened), opened


def test_without_a_key_a_good_keypair_path_is_noted_as_unused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "id.json").write_text(json.dumps(list(bytes(Keypair()))))
    monkeypatch.setenv("LASERSELL_KEYPAIR_PATH", str(tmp_path / "id.json"))
    assert main(["tail", "--count", "1"]) == 0
    note = "tail: LASERSELL_API_KEY is not set: tailing the embedded simulator (its own wallet, not LASERSELL_KEYPAIR_PATH's)"
    assert capsys.readouterr().err.splitlines() == [note]


def test_json_lines_carry_the_wire_messages_of_the_wallets_tailed(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LASERSELL_API_KEY", KEY)
    args = ["tail", "--endpoint", sim.stream_url, "--wallet", sim.wallet_pubkey, "--json", "--count", "10"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert err == ""
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 10
    assert KEY in sim.engines
    for record in records:
        assert set(record) == {"event", "time", "message"}
        assert record["time"].endswith("+00:00")
        if record["event"] == "connected":
            assert record["message"]["reconnect"] is False
            continue
        message = ls.proto.decode_server(json.dumps(record["message"]))  # the wire message, as received
        assert record["event"] == message.TYPE
    opened = [r["message"] for r in records if r["event"] == "position_opened"]
    assert opened
    assert {m["wallet_pubkey"] for m in opened} == {sim.wallet_pubkey}


def test_a_keystore_names_its_wallet_without_a_passphrase(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "wallet.keystore.json"
    ls.wallet.write_keystore(store, sim.wallet, "the passphrase nobody gives tail", m_kib=8, t=1)
    monkeypatch.setenv("LASERSELL_API_KEY", KEY)  # and no LASERSELL_WALLET_PASSPHRASE: nothing is decrypted
    assert main(["tail", "--endpoint", sim.stream_url, "--keypair", str(store), "--json", "--count", "2"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert {json.loads(line)["event"] for line in out.splitlines()} == {"connected", "hello_ok"}
    assert sim.engines[KEY].wallets == [sim.wallet_pubkey]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_closes_the_stream_with_a_close_frame_and_exits_0(server: ScriptedServer, signum: int) -> None:
    wallet = str(Keypair().pubkey())
    proc = subprocess.Popen(
        [sys.executable, "-m", "lasersell_sync", "tail", "--endpoint", server.url, "--wallet", wallet],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(LASERSELL_API_KEY=KEY),
    )
    try:
        assert proc.stdout is not None
        seen: List[str] = []
        while not any(" hello_ok " in line for line in seen):  # the session is up and printing
            line = proc.stdout.readline()
            assert line, f"tail exited early: {proc.communicate(timeout=10)}"
            seen.append(line)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert err == ""
    server.wait_closed()
    close = server.connection().protocol.close_rcvd
    assert close is not None, "the connection ended without a close frame"
    assert close.code == 1000
    assert server.frames("configure")[0][1]["wallet_pubkeys"] == [wallet]


def test_a_reader_that_leaves_ends_tail_quietly_with_status_0() -> None:
    """``tail --json | head -1``: the closed pipe stops tail without a traceback or a complaint."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lasersell_sync", "tail", "--json"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
    )
    try:
        assert proc.stdout is not None
        assert proc.stderr is not None
        first = json.loads(proc.stdout.readline())
        proc.stdout.close()  # the reader is gone; the simulator keeps producing events
        err = proc.stderr.read().decode()
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert first["event"] in ls.stream.EVENT_NAMES
    assert proc.returncode == 0, err
    assert err.splitlines() == ["tail: LASERSELL_API_KEY is not set: tailing the embedded simulator"]


def test_in_a_terminal_a_live_table_is_redrawn_in_place() -> None:
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "lasersell_sync", "tail", "--speed", "20"],
        env=clean_env(TERM="xterm-256color", COLUMNS="120", LINES="40"),
        dimensions=(40, 120),
        encoding="utf-8",
        timeout=30,
    )
    try:
        child.expect_exact("PnL %")  # the table's header
        child.expect(r"SIM1 +\S* +0\.\d{4} SOL")  # a position row: token and entry
        child.expect(r"\x1b\[1A")  # cursor up: the next draw replaces the last one
        child.expect(r"pnl_update +SIM1 +#1 pnl=[+-]\d+\.\d%")  # the event log under the table
        child.sendintr()  # Ctrl-C
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before
    assert "Traceback" not in (child.before or "")


def test_without_rich_a_terminal_gets_lines_and_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)  # "import rich" now fails as if not installed
    monkeypatch.delitem(sys.modules, "lasersell_sync.cli.live", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["tail", "--count", "3"]) == 0
    out, err = capsys.readouterr()
    assert "pip install 'lasersell_sync[cli]'" in err
    assert all(LINE.match(line) for line in out.splitlines())
    assert len(out.splitlines()) == 3


class ReportsAnErrorWhileClosing(ls.StreamSession):
    """A real session that reports one more error as it closes, as a session's last error can arrive late."""

    def on_error(self, handler: Any) -> Any:
        self.error_handler = handler
        return super().on_error(handler)

    def close(self, timeout: float = 5.0) -> bool:
        self.error_handler(RuntimeError("reported while closing"), None)
        return super().close(timeout)


def test_the_live_table_shows_errors_reported_at_the_very_end(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("rich")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # the live table, drawn into the captured stdout
    monkeypatch.setattr(tail_command, "StreamSession", ReportsAnErrorWhileClosing)
    assert main(["tail", "--count", "2", "--speed", "20"]) == 0
    out = capsys.readouterr().out
    assert "PnL %" in out  # the table was drawn
    assert "RuntimeError: reported while closing" in out.rsplit("PnL %", 1)[-1]  # in the last draw


def test_a_stream_that_cannot_be_reached_is_one_line_and_status_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LASERSELL_API_KEY", KEY)
    args = ["tail", "--endpoint", "ws://127.0.0.1:9/v1/ws", "--wallet", str(Keypair().pubkey())]
    assert main(args) == 1
    out, err = capsys.readouterr()
    (line,) = err.splitlines()
    assert line.startswith("lasersell-sync: error: cannot tail the stream: could not connect to ws://127.0.0.1:9/v1/ws")
    assert out == ""


def test_the_service_is_tailed_without_the_simulator_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "lasersell_sync.simulator", None)  # importing it fails, as if not installed
    monkeypatch.delattr(ls, "simulator", raising=False)
    monkeypatch.setenv("LASERSELL_API_KEY", KEY)
    assert main(["tail", "--endpoint", "ws://127.0.0.1:9/v1/ws", "--wallet", str(Keypair().pubkey())]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("lasersell-sync: error: cannot tail the stream: could not connect")  # not the extra


def test_a_stream_that_ends_on_a_fatal_error_is_one_line_and_status_1(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LASERSELL_API_KEY", KEY)

    def revoke_the_key_once_connected() -> None:
        server.wait_until(lambda: server.frames("configure"), timeout=10)
        server.reject_status = 401  # the reconnect is refused: the key was revoked meanwhile
        server.drop()

    revoker = threading.Thread(target=revoke_the_key_once_connected, name="test-revoker")
    revoker.start()
    try:
        status = main(["tail", "--endpoint", server.url, "--wallet", str(Keypair().pubkey()), "--seconds", "40"])
    finally:
        revoker.join()
    out, err = capsys.readouterr()
    assert status == 1
    (line,) = err.splitlines()
    assert line.startswith("lasersell-sync: error: the stream ended: AuthenticationError: API key rejected: HTTP 401")
    types = [LINE.match(row).group(2) for row in out.splitlines()]  # type: ignore[union-attr]
    assert types[-2:] == ["disconnected", "closed"]


def test_a_rejected_key_is_one_line_and_status_1(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LASERSELL_API_KEY", "someone-elses-key-0123456789")
    assert main(["tail", "--endpoint", sim.stream_url, "--wallet", sim.wallet_pubkey]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "API key rejected: HTTP 401" in line
    assert "someone-elses-key" not in line


@pytest.mark.parametrize(
    ("env", "args", "fragment"),
    [
        ({"LASERSELL_API_KEY": KEY}, [], "name the wallets with --wallet PUBKEY"),
        ({"LASERSELL_API_KEY": KEY, "LASERSELL_KEYPAIR_PATH": "/nonexistent/id.json"}, [], "/nonexistent/id.json"),
        ({}, ["--endpoint", "ws://127.0.0.1:9/v1/ws"], "--endpoint needs an API key"),
        ({"LASERSELL_API_KEY": " "}, [], "LASERSELL_API_KEY is empty: set it to your API key, or unset it"),
        ({}, ["--keypair", "missing.json", "--count", "1"], "--keypair needs an API key: set LASERSELL_API_KEY"),
        ({}, ["--wallet", str(Keypair().pubkey())], "--wallet needs an API key"),
        ({"LASERSELL_KEYPAIR_PATH": "/nonexistent/id.json"}, ["--count", "1"], "/nonexistent/id.json"),
        ({}, ["--take-profit", "0", "--stop-loss", "0"], "needs an exit condition: --take-profit, --stop-loss"),
        ({"LASERSELL_SEND_TARGET": "smoke-signals"}, [], "LASERSELL_SEND_TARGET must be one of"),
    ],
    ids=[
        "no wallet",
        "missing keypair file",
        "endpoint without key",
        "empty key",
        "keypair without key",
        "wallet without key",
        "simulator: missing keypair file",
        "no exit condition",
        "bad send target",
    ],
)
def test_bad_settings_are_one_line_usage_errors(
    env: Dict[str, str],
    args: List[str],
    fragment: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["tail", *args]) == 2
    out, err = capsys.readouterr()
    (line,) = err.splitlines()
    assert line.startswith("lasersell-sync: error: ")
    assert fragment in line
    assert out == ""


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--count", "0"], "argument --count: expected a whole number >= 1, got '0'"),
        (["--json", "--plain"], "argument --plain: not allowed with argument --json"),
        (["--wallet", "nope"], "argument --wallet: expected a base58 Solana public key"),
        (["--scenario", "moon"], "unknown scenario 'moon'"),
    ],
)
def test_bad_flags_are_one_line_usage_errors(
    args: List[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["tail", *args])
    assert exited.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert fragment in line


# -- the live table as a view object (rich renders into a string) ------------------------------------

WALLET = str(Keypair().pubkey())
MINT = str(Keypair().pubkey())
SHORT_MINT = f"{MINT[:4]}..{MINT[-4:]}"


def drawn(width: int, *events: Any) -> str:
    """What the live table shows last after ``events``, drawn ``width`` columns wide."""
    rich_console = pytest.importorskip("rich.console")
    from lasersell_sync.cli.live import LiveView

    out = io.StringIO()
    view = LiveView("tail: test", rich_console.Console(file=out, width=width))
    view.start()
    opened = ls.PositionOpened(
        position_id=1, wallet_pubkey=WALLET, mint=MINT, token_account=WALLET, tokens=10, entry_quote_units=10**8,
        slot=1, token_symbol="SIM1",
    )  # fmt: skip
    handle = PositionHandle.from_opened(opened)
    for name, message in [("position_opened", opened), *events]:
        view.show(ls.Event(name, message, handle, time.monotonic()))
    view.stop()
    return out.getvalue()


def pnl(profit_units: int) -> Tuple[str, ls.PnlUpdate]:
    return "pnl_update", ls.PnlUpdate(position_id=1, profit_units=profit_units, proceeds_units=1, server_time_ms=1)


def liquidity(trend: str) -> Tuple[str, ls.LiquiditySnapshot]:
    return "liquidity_snapshot", ls.LiquiditySnapshot(position_id=1, bands=[], liquidity_trend=trend, server_time_ms=1)


def exit_signal(reason: str) -> Tuple[str, ls.ExitSignalWithTx]:
    return "exit_signal_with_tx", ls.ExitSignalWithTx(
        session_id=1, position_id=1, wallet_pubkey=WALLET, mint=MINT, position_tokens=10, profit_units=1,
        reason=reason, triggered_at_ms=1, unsigned_tx_b64="AA==",
    )  # fmt: skip


def closed(reason: str) -> Tuple[str, ls.PositionClosed]:
    return "position_closed", ls.PositionClosed(position_id=1, wallet_pubkey=WALLET, mint=MINT, reason=reason, slot=2)


def table_row(text: str) -> str:
    """The table's line of position 1 (token SIM1); the "#" column may be left out on a narrow terminal."""
    (row,) = [line for line in text.splitlines() if line.startswith("│") and "│ SIM1 " in line]
    return row


def test_the_live_table_keeps_an_exit_signal_and_a_close_in_the_state_column() -> None:
    row = table_row(drawn(120, pnl(1), exit_signal("take_profit"), pnl(2), liquidity("draining")))
    assert "│ exit signal: take_profit │" in row  # later updates did not hide it
    assert "│ liquidity_snapshot" in row  # the last event still follows every update
    row = table_row(drawn(120, exit_signal("stop_loss"), closed("sold"), pnl(3), exit_signal("late")))
    assert "│ closed: sold " in row


def test_on_a_narrow_terminal_the_pnl_is_never_cut() -> None:
    text = drawn(50, pnl(1357 * 10**6), exit_signal("take_profit"), liquidity("draining"))
    assert "+1357.0%" in table_row(text)
    assert "…" not in text


def test_narrower_than_the_narrowest_layout_a_cell_breaks_between_words_only() -> None:
    text = drawn(36, pnl(1357 * 10**6), exit_signal("deadline"))  # "exit: deadline" needs 40 columns
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 36
    row = table_row(text)
    assert "+1357.0%" in row
    assert "│ exit: " in row
    assert "│ deadline " in lines[lines.index(row) + 1]  # the next word on the next line, whole
    assert "…" not in text


def several_positions(width: int) -> str:
    """The last draw of the live table, ``width`` columns wide, after four positions lived through a bit.

    1 hit its take-profit, 2 (no symbol: a short mint) closed on its stop loss, 3 has a trailing-stop
    signal and traded since, 4 is open and losing.
    """
    rich_console = pytest.importorskip("rich.console")
    from lasersell_sync.cli.live import LiveView

    out = io.StringIO()
    view = LiveView("tail: embedded simulator (mixed, seed 1)", rich_console.Console(file=out, width=width))
    view.start()
    handles = {}
    for position_id, symbol in [(1, "SIM1"), (2, None), (3, "SIM3"), (4, "SIM4")]:
        opened = ls.PositionOpened(
            position_id=position_id, wallet_pubkey=WALLET, mint=MINT, token_account=WALLET, tokens=10,
            entry_quote_units=10**8, slot=1, token_symbol=symbol,
        )  # fmt: skip
        handles[position_id] = PositionHandle.from_opened(opened)
        view.show(ls.Event("position_opened", opened, handles[position_id], time.monotonic()))
    events = [
        (1, pnl(1357 * 10**6)), (1, exit_signal("target_profit")), (1, liquidity("draining")),
        (2, exit_signal("stop_loss")), (2, closed("stop_loss")),
        (3, exit_signal("trailing_stop")),
        (3, ("trade_tick", ls.TradeTick(position_id=3, time_ms=1, side="sell", token_amount=1, quote_amount=1, price_quote=1))),
        (4, pnl(-125 * 10**5)), (4, liquidity("growing")),
    ]  # fmt: skip
    for position_id, (name, message) in events:
        message = attrs.evolve(message, position_id=position_id)
        view.show(ls.Event(name, message, handles[position_id], time.monotonic()))
    view.stop()
    return out.getvalue()


@pytest.mark.parametrize(
    ("width", "columns", "cells"),
    [
        (
            120,
            ["#", "token", "entry", "PnL %", "state", "liquidity", "last event"],
            {
                "SIM1": ["0.1000 SOL", "+1357.0%", "exit signal: target_profit", "draining v", "liquidity_snapshot"],
                SHORT_MINT: ["closed: stop_loss", "position_closed"],
                "SIM3": ["exit signal: trailing_stop", "trade: sell"],
                "SIM4": ["-12.5%", "open", "growing ^", "liquidity_snapshot"],
            },
        ),
        (
            80,
            ["#", "token", "entry", "PnL %", "state", "liquidity"],
            {
                "SIM1": ["0.1000 SOL", "+1357.0%", "exit: tp", "draining v"],
                SHORT_MINT: ["closed: sl"],
                "SIM3": ["exit: trail"],
                "SIM4": ["-12.5%", "open", "growing ^"],
            },
        ),
        (
            60,
            ["token", "PnL %", "state", "liquidity"],
            {
                "SIM1": ["+1357.0%", "exit: tp", "draining v"],
                SHORT_MINT: ["closed: sl"],
                "SIM3": ["exit: trail"],
                "SIM4": ["-12.5%", "open", "growing ^"],
            },
        ),
    ],
)
def test_the_live_table_fits_the_terminal_with_every_cell_whole(
    width: int, columns: List[str], cells: Dict[str, List[str]]
) -> None:
    """Narrower terminals get shorter labels and fewer columns; a cell never wraps inside a word."""
    text = several_positions(width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in text
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) == 4, "\n".join(rows)  # one line per position: nothing wrapped
    (header,) = [line for line in lines if line.startswith("┃")]  # one line: no column name wrapped either
    assert [name.strip() for name in header.strip("┃").split("┃")] == columns
    for token, expected in cells.items():
        (row,) = [row for row in rows if f"│ {token} " in row]
        shown = [cell.strip() for cell in row.strip("│").split("│")]
        for cell in expected:
            assert cell in shown, (cell, row)
