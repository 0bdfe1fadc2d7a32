"""Quick start: every exit signal becomes a confirmed sell, against the embedded simulator."""

from __future__ import annotations

# --8<-- [start:bot]
import threading

import lasersell_sync as ls
from lasersell_sync.simulator import Simulator

strategy = ls.StrategyConfig(target_profit_pct=30, stop_loss_pct=15, trailing_stop_pct=8)

with Simulator(seed=1, scenario="pump", speed=20) as sim:  # LaserSell's stand-in on 127.0.0.1
    session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], strategy, endpoint=sim.stream_url)
    session.auto_exit(sim.wallet, ls.SendTargetRpc(url=sim.rpc_url))  # sign, send, confirm, retry
    sold = threading.Event()

    @session.on(ls.ExitLanded)
    def landed(event: ls.Event[ls.ExitLanded]) -> None:
        print(f"sold position {event.message.position_id}, {event.message.latency_ms:.0f} ms after the signal")
        sold.set()

    with session:  # connect() now, close() on the way out
        sold.wait(timeout=30)
# --8<-- [end:bot]

assert sold.is_set(), "no sell landed"
