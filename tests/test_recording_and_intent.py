"""The recorder keeps frames exactly as received, and the session's intent is one object."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import lasersell_sync as ls
from lasersell_sync.stream.recording import read_recording
from tests.sessionharness import KEY, STRATEGY, WALLET, balance
from tests.support import Collect
from tests.wsserver import ScriptedServer

ACCOUNT = "LbUiWL3xVV8hTFYBVdbTNrpDo41NKS6o3LHHuDzjfcY"


def test_the_recorder_writes_frames_exactly_as_received(server: ScriptedServer, tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    odd = '{ "server_time_ms" : 7,   "type":"pong" }'  # spacing and key order a re-encode would change
    seen = threading.Event()
    session = ls.StreamSession(KEY, [WALLET], STRATEGY, endpoint=server.url, record_to=path)
    session.on(ls.BalanceUpdate, lambda event: seen.set())
    session.connect()
    server.send_many([odd, "garbage", balance()])
    assert seen.wait(5)
    session.close()
    frames = [frame for _, frame in read_recording(path)]
    assert json.loads(frames[0])["type"] == "hello_ok"
    assert frames[1:] == [odd, "garbage", balance()]


def test_send_settings_and_position_strategies_are_one_intent(server: ScriptedServer, collect: Collect) -> None:
    session = ls.StreamSession(KEY, [WALLET], STRATEGY, endpoint=server.url, backoff=ls.Backoff(initial=0.01))
    connected = collect()
    session.on("connected", connected.add)
    session.connect()
    intent = session.update_send_settings(send_mode="helius_sender", tip_lamports=5000, reconnect=True)
    assert (intent.send_mode, intent.tip_lamports) == ("helius_sender", 5000)
    connected.wait_count(2)  # the documented reconnect applied it at once
    configures = server.frames("configure")
    assert (configures[-1][1]["send_mode"], configures[-1][1]["tip_lamports"]) == ("helius_sender", 5000)
    assert "send_mode" not in configures[0][1]
    session.close()
