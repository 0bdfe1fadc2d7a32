"""Exits: auto_exit re-broadcasting a sell the chain dropped; then the same job done by hand."""

from __future__ import annotations

import threading
from typing import List

import lasersell_sync as ls
from lasersell_sync.simulator import Simulator

strategy = ls.StrategyConfig(target_profit_pct=15, stop_loss_pct=10)

# --8<-- [start:auto]
with Simulator(seed=5, scenario="pump", speed=20) as sim:
    sim.faults.drop_transactions(1.0, count=1)  # the first sell is accepted, then never lands
    session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], strategy, endpoint=sim.stream_url)
    policy = ls.ExitPolicy(rebroadcast_interval=0.2)  # send the same signed sell again every 0.2 s
    executor = session.auto_exit(sim.wallet, ls.SendTargetRpc(url=sim.rpc_url), policy=policy)
    outcomes: List[str] = []
    done = threading.Event()

    @session.on(ls.ExitSubmitted)
    def submitted(event: ls.Event[ls.ExitSubmitted]) -> None:
        m = event.message
        print(f"#{m.position_id}: attempt {m.attempt} accepted by {', '.join(m.targets)}")

    @session.on(ls.ExitLanded)
    def landed(event: ls.Event[ls.ExitLanded]) -> None:
        m = event.message
        print(f"#{m.position_id}: attempt {m.attempt} landed in slot {m.slot}, {m.latency_ms:.0f} ms")
        outcomes.append(f"landed: attempt {m.attempt}")
        done.set()

    @session.on(ls.ExitFailed)
    def failed(event: ls.Event[ls.ExitFailed]) -> None:
        print(f"#{event.message.position_id}: not sold ({event.message.reason}): {event.message.error}")
        outcomes.append(event.message.reason)

    with session:
        done.wait(timeout=30)
    print(executor.stats())
# --8<-- [end:auto]

assert outcomes[:1] == ["landed: attempt 1"], outcomes  # the dropped copy was sent again, not rebuilt
assert executor.stats().rebroadcasts >= 1, executor.stats()

# --8<-- [start:manual]
with Simulator(seed=1, scenario="pump", speed=20) as sim, ls.TxSender() as sender:
    rpc = sim.rpc_url
    session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], strategy, endpoint=sim.stream_url)
    sold = threading.Event()

    @session.on(ls.ExitSignalWithTx)
    def on_exit(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        signal = event.message
        signed = ls.sign_unsigned_tx(signal.unsigned_tx_b64, sim.wallet)
        outcome = sender.send_and_confirm([ls.SendTargetRpc(url=rpc)], signed, rpc, timeout=10.0)
        if outcome.landed:
            sold.set()
        elif signal.sell_tokens is None:  # a full exit: safe to ask for a fresh one at once
            session.request_exit_signal(signal.token_account or signal.position_id, slippage_bps=2020)

    with session:
        sold.wait(timeout=30)
# --8<-- [end:manual]

assert sold.is_set(), "the hand-written handler sold nothing"
