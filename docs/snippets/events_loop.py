"""The events() loop: a plain for loop instead of handlers."""

from __future__ import annotations

import lasersell_sync as ls
from lasersell_sync.simulator import Simulator

strategy = ls.StrategyConfig(target_profit_pct=20, stop_loss_pct=10)
closed = 0

# --8<-- [start:loop]
with Simulator(seed=1, scenario="pump", speed=20) as sim, ls.TxSender() as sender:
    target = ls.SendTargetRpc(url=sim.rpc_url)
    session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], strategy, endpoint=sim.stream_url)
    # the iterator first, so it sees the events connect() brings; it ends after 30 quiet seconds
    with session.events(timeout=30) as events, session:
        for event in events:
            message = event.message
            if isinstance(message, ls.ExitSignalWithTx):
                signature = sender.send(target, ls.sign_unsigned_tx(message.unsigned_tx_b64, sim.wallet))
                print(f"exit #{message.position_id} ({message.reason}): {signature[:12]}...")
            elif isinstance(message, ls.PositionClosed):
                print(f"closed #{message.position_id}: {message.reason}")
                closed += 1
                break
# --8<-- [end:loop]

assert closed == 1
assert not events.timed_out
