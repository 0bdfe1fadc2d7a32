"""Writing a bot: handlers for positions, PnL, exit signals (signed and sent by hand) and errors."""

from __future__ import annotations

# --8<-- [start:bot]
from typing import Dict, Optional

import lasersell_sync as ls
from lasersell_sync.simulator import Simulator

strategy = ls.StrategyConfig(target_profit_pct=20, stop_loss_pct=10)
latest_pnl: Dict[int, float] = {}

with Simulator(seed=3, scenario="pump", speed=20) as sim, ls.TxSender() as sender:
    keypair, target = sim.wallet, ls.SendTargetRpc(url=sim.rpc_url)
    session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], strategy, endpoint=sim.stream_url)

    @session.on(ls.PositionOpened)
    def opened(event: ls.Event[ls.PositionOpened]) -> None:
        m = event.message
        print(f"tracking #{m.position_id} {m.token_symbol}: {m.tokens} tokens for {m.entry_quote_units} lamports")

    @session.on(ls.PnlUpdate)  # low lane: conflated per position, never delays an exit handler
    def pnl(event: ls.Event[ls.PnlUpdate]) -> None:
        if event.handle is not None:
            latest_pnl[event.message.position_id] = event.message.profit_units / event.handle.entry_quote_units * 100

    @session.on(ls.ExitSignalWithTx)  # high lane: runs at once, in parallel for other positions
    def exit_signal(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        signal = event.message
        signed = ls.sign_unsigned_tx(signal.unsigned_tx_b64, keypair)  # refuses a tx we cannot sign
        signature = sender.send(target, signed)
        print(f"exit #{signal.position_id} ({signal.reason}) sent: {signature[:12]}...")

    @session.on(ls.PositionClosed)
    def closed(event: ls.Event[ls.PositionClosed]) -> None:
        pct = latest_pnl.get(event.message.position_id, 0.0)
        print(f"closed #{event.message.position_id}: {event.message.reason}, last PnL {pct:+.1f} %")
        session.close()  # safe inside a handler: run_forever() returns

    @session.on("disconnected")
    def disconnected(event: ls.Event[ls.Disconnected]) -> None:
        if event.message.will_reconnect:
            print("stream lost, reconnecting:", event.message.reason)

    @session.on_error
    def on_error(error: BaseException, event: Optional[ls.Event[object]]) -> None:
        print("error:", error)

    session.run_forever()  # connects, then blocks until close()
# --8<-- [end:bot]

assert session.closed, "run_forever() returned without close()"
assert latest_pnl, "no PnL update reached the handler"
