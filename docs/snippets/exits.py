"""Exits: auto_exit retrying a sell the chain dropped; then the same job done by hand."""

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
    policy = ls.ExitPolicy(confirm_timeout=2.0)  # give up on an attempt after 2 s (default 10 s)
    executor = session.auto_exit(sim.wallet, ls.SendTargetRpc(url=sim.rpc_url), policy=policy)
    outcomes: List[str] = []
    done = threading.Event()

    @session.on(ls.ExitSubmitted)
    def submitted(event: ls.Event[ls.ExitSubmitted]) -> None:
        m = event.message
        print(f"#{m.position_id}: attempt {m.attempt} sent at {m.slippage_bps or 'signal'} bps")

    @session.on(ls.ExitLanded)
    def landed(event: ls.Event[ls.ExitLanded]) -> None:
        m = event.message
        print(f"#{m.position_id}: landed after {m.attempts} attempt(s), {m.latency_ms:.0f} ms")
        outcomes.append(f"landed after {m.attempts}")
        if m.attempts > 1:  # the dropped sell was retried and landed: enough for this demo
            done.set()

    @session.on(ls.ExitFailed)
    def failed(event: ls.Event[ls.ExitFailed]) -> None:
        print(f"#{event.message.position_id}: not sold ({event.message.reason}): {event.message.error}")
        outcomes.append(event.message.reason)

    with session:
        done.wait(timeout=30)
    print(executor.stats())
# --8<-- [end:auto]

assert "landed after 2" in outcomes, outcomes
assert executor.stats().retries >= 1, executor.stats()

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
