"""The exit journal: a crash cannot make the next run sell a tranche again, and a bad file is refused.

The crash test runs a real bot process (``tests/crash_bot.py``) against the simulator in this
process, kills it with SIGKILL at each step of an attempt, and starts it again on the same
journal while the simulator goes on. The tranche sells exactly once, and the restarted bot
reports its outcome. The simulator holds each step still (a send or a status call that hangs, a
chain that drops), so the kill lands where the test says, not where a timer happens to be.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
from solders.keypair import Keypair

import lasersell_sync as ls
from lasersell_sync.simulator import Simulator
from lasersell_sync.stream.exits.journal import ExitJournal

BOT = Path(__file__).with_name("crash_bot.py")
ROOT = Path(__file__).resolve().parent.parent
WAIT = 20.0
HOLD = ls.StrategyConfig(target_profit_pct=100_000, stop_loss_pct=0)


class CrashBot:
    """One bot process: its event lines, read on a thread the bot's end stops."""

    def __init__(self, sim: Simulator, journal: Path) -> None:
        args = ["--stream-url", sim.stream_url, "--rpc-url", sim.rpc_url, "--api-key", sim.api_key]
        args += ["--journal", str(journal), "--seed", str(sim.seed)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, str(BOT), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[Optional[Dict[str, Any]]] = queue.Queue()
        self.seen: List[Dict[str, Any]] = []
        self._unread: List[Dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, name="test-crash-bot-reader")
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def expect(self, event: str) -> Dict[str, Any]:
        """The first line of this kind not returned yet (every line is kept in ``seen``)."""
        for line in self._unread:
            if line["event"] == event:
                self._unread.remove(line)
                return line
        while True:
            line = self.lines.get(timeout=WAIT)
            if line is None:
                assert self.proc.stderr is not None
                raise AssertionError(f"the bot ended before {event!r}: {self.proc.stderr.read()[-2000:]}")
            self.seen.append(line)
            if line["event"] == event:
                return line
            self._unread.append(line)

    def command(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=WAIT)
        self._finish()

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        assert self.proc.wait(timeout=WAIT) == 0
        self._finish()

    def _finish(self) -> None:
        self._reader.join(WAIT)
        for stream in (self.proc.stdout, self.proc.stderr, self.proc.stdin):
            if stream is not None and not stream.closed:
                stream.close()
        while True:  # what came after the last expect
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return
            if line is not None:
                self.seen.append(line)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=3, scenario="sideways", speed=50, max_positions=1, blockhash_ttl_slots=10_000) as simulator:
        yield simulator


def successful_sells(sim: Simulator, position_id: int) -> List[ls.simulator.Settlement]:
    return [s for s in sim.settlements(successful_only=True) if s.kind == "sell" and s.position_id == position_id]


@pytest.mark.parametrize("step", ["journaled_not_sent", "sent_not_landed", "landed_not_confirmed", "confirmed"])
def test_a_bot_killed_at_any_step_of_a_sell_sells_the_tranche_once(sim: Simulator, tmp_path: Path, step: str) -> None:
    journal = tmp_path / "exits.db"
    bot = CrashBot(sim, journal)
    opened = bot.expect("opened")
    position_id, tokens = opened["position_id"], opened["tokens"]
    if step == "journaled_not_sent":
        sim.faults.hang_rpc("sendTransaction")  # written to the journal, then stuck on the way out
    elif step == "sent_not_landed":
        sim.faults.drop_transactions(1.0)  # accepted by the RPC, never landed
    elif step == "landed_not_confirmed":
        sim.faults.hang_rpc("getSignatureStatuses")  # it lands; the bot cannot see it
    assert sim.faults.move_price(1.6, position_id) == 1  # the ladder level (sell 50 %) fires
    if step == "journaled_not_sent":
        assert sim.wait_for(lambda: sim.faults.hung_rpc_requests >= 1, WAIT)
    elif step == "sent_not_landed":
        bot.expect("submitted")
    elif step == "landed_not_confirmed":
        first = bot.expect("submitted")["signature"]
        assert sim.wait_for_settlement(first, WAIT) is not None
    else:
        bot.expect("landed")
    bot.kill()
    sim.faults.heal_rpc(answer_held=False)  # what was held never got through
    sim.faults.drop_transactions(0.0)
    assert sim.wait_for(lambda: sim.live_sessions == 0, WAIT)

    again = CrashBot(sim, journal)
    try:
        if step != "confirmed":
            landed = again.expect("landed")  # the outcome, reported after the restart
            if step == "landed_not_confirmed":
                assert landed["attempt"] == 1, (bot.seen, again.seen)  # it had landed before the kill
            # Otherwise the journaled attempt is sent again; if the market has moved past its
            # slippage by then, it fails on chain and a fresh signal is asked for. Either way
            # the tranche sells once (checked below).
        again.expect("ready")
        again.command(f"sell {position_id}")  # the rest of the position: a full exit, sold once
        last = again.expect("landed")
    finally:
        again.stop()
    sold = successful_sells(sim, position_id)
    assert [s.tokens for s in sold] == [tokens // 2, tokens - tokens // 2]
    assert last["signature"] == sold[1].signature, (again.seen, [(x.signature[:8], x.tokens) for x in sold])
    if step != "confirmed":
        assert landed["signature"] == sold[0].signature
    assert not [line for line in again.seen if line["event"] in ("failed", "unresolved")]


# -- a journal that cannot be used is refused, and left as it is ------------------------------


def _auto_exit(journal: Path) -> ls.StreamSession:
    owner = Keypair()
    session = ls.StreamSession("k", [owner.pubkey()], HOLD, endpoint="ws://127.0.0.1:9/v1/ws")
    try:
        session.auto_exit(owner, ls.SendTargetRpc(url="http://127.0.0.1:9/rpc"), journal=journal)
    except BaseException:
        session.close()
        raise
    return session


def test_a_file_that_is_not_a_journal_is_refused_untouched(tmp_path: Path) -> None:
    garbage = tmp_path / "notes.txt"
    garbage.write_bytes(b"these are not the exits you are looking for\n" * 100)
    with pytest.raises(ls.JournalError, match="not a readable exit journal") as caught:
        _auto_exit(garbage)
    assert caught.value.path == str(garbage)
    assert garbage.read_bytes() == b"these are not the exits you are looking for\n" * 100


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(ls.JournalError, match="is not a lasersell_sync exit journal"):
        _auto_exit(other)


def test_a_journal_of_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "exits.db"
    ExitJournal(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(ls.JournalError, match="newer lasersell_sync"):
        _auto_exit(path)


def test_two_bots_cannot_share_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "exits.db"
    first = _auto_exit(path)
    try:
        with pytest.raises(ls.JournalError, match="in use by another process"):
            _auto_exit(path)
    finally:
        first.close()
    _auto_exit(path).close()  # free again once the first has closed


def test_a_journal_in_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ls.JournalError, match="cannot open the exit journal"):
        _auto_exit(tmp_path / "missing" / "exits.db")


def test_the_executor_closed_with_a_sell_in_flight_settles_it_at_the_next_start(sim: Simulator, tmp_path: Path) -> None:
    # no crash: close() while the status RPC fails; the next start (same journal) reports it
    journal = tmp_path / "exits.db"
    policy = ls.ExitPolicy(rebroadcast_interval=0.05, expiry_check_interval=0.05)
    events: queue.Queue[Any] = queue.Queue()
    session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], HOLD, endpoint=sim.stream_url)
    session.on(ls.PositionOpened, events.put)
    session.on(ls.ExitSubmitted, events.put)
    session.on(ls.ExitUnresolved, events.put)
    session.auto_exit(sim.wallet, ls.SendTargetRpc(url=sim.rpc_url), policy=policy, journal=journal)
    session.connect()
    opened = events.get(timeout=WAIT).message
    sim.faults.fail_rpc("getSignatureStatuses")
    session.request_exit_signal(opened.token_account)
    submitted = events.get(timeout=WAIT).message
    assert sim.wait_for_settlement(submitted.signature, WAIT) is not None
    session.close(timeout=0.5)
    unresolved = events.get(timeout=WAIT).message
    assert (unresolved.reason, unresolved.signatures) == ("closed", (submitted.signature,))
    sim.faults.heal_rpc()

    landed: queue.Queue[ls.ExitLanded] = queue.Queue()
    again = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], HOLD, endpoint=sim.stream_url)
    again.on(ls.ExitLanded, lambda event: landed.put(event.message))
    again.auto_exit(sim.wallet, ls.SendTargetRpc(url=sim.rpc_url), policy=policy, journal=journal)
    try:
        report = landed.get(timeout=WAIT)  # before (or without) connecting: it is on chain
    finally:
        again.close()
    assert (report.signature, report.attempt) == (submitted.signature, 1)
    assert [s.signature for s in successful_sells(sim, opened.position_id)] == [submitted.signature]
