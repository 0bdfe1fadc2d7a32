"""The simulator: break the connection on purpose, record a session, replay the recording."""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from pathlib import Path

import lasersell_sync as ls
from lasersell_sync.simulator import Simulator

strategy = ls.StrategyConfig(target_profit_pct=20, stop_loss_pct=10)
path = Path(tempfile.mkdtemp()) / "session.jsonl"

# --8<-- [start:faults]
with Simulator(seed=2, scenario="mixed", speed=20) as sim:
    session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], strategy, endpoint=sim.stream_url, record_to=path)
    reconnected = threading.Event()

    @session.on(ls.Connected)
    def connected(event: ls.Event[ls.Connected]) -> None:
        if event.message.reconnect:
            print("back, session", event.message.hello.session_id)
            reconnected.set()

    with session:
        sim.faults.drop_connections()  # the TCP stream dies without a close frame
        assert reconnected.wait(timeout=10), "no reconnect"
        assert sim.wait_for(lambda: len(session.positions()) > 0)  # re-checked at every simulated tick
# --8<-- [end:faults]

# --8<-- [start:replay]
with Simulator(replay=path, replay_speed=10) as replay:  # or: python -m lasersell_sync simulate --replay FILE
    session = ls.StreamSession(replay.api_key, [replay.wallet_pubkey], strategy, endpoint=replay.stream_url)
    with session.events(timeout=1.0) as events, session:  # ends after a quiet second
        seen = Counter(event.type for event in events)
    print(dict(seen))
# --8<-- [end:replay]

assert seen["position_opened"] >= 1, seen  # the recorded frames came back
