"""Sell automatically: sign every exit signal the stream sends and submit it.

With no LASERSELL_API_KEY set, this runs against the embedded simulator (offline, no funds).
With LASERSELL_API_KEY set, it runs against the real service; then LASERSELL_KEYPAIR names your
solana-keygen wallet file and LASERSELL_RPC_URL (optional) your RPC endpoint.

    python examples/auto_sell.py [--seconds 10] [--positions 5] [--scenario mixed] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from typing import Dict, Optional, Sequence

import lasersell_sync as ls

STRATEGY = ls.StrategyConfig(target_profit_pct=30, stop_loss_pct=15, trailing_stop_pct=8)


def log(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')}  {text}", flush=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="stop after this long")
    parser.add_argument("--positions", type=int, default=5, help="stop after this many positions closed")
    parser.add_argument("--scenario", default="mixed", help="simulator scenario")
    parser.add_argument("--seed", type=int, default=1, help="simulator seed")
    args = parser.parse_args(argv)

    api_key = os.environ.get("LASERSELL_API_KEY")
    sim = None
    if api_key:
        keypair = ls.load_keypair(os.environ["LASERSELL_KEYPAIR"])
        stream_url: Optional[str] = None
        target: ls.SendTarget = ls.SendTargetRpc(url=os.environ.get("LASERSELL_RPC_URL", ls.MAINNET_BETA_RPC_URL))
        log("using the LaserSell service")
    else:
        from lasersell_sync.simulator import Simulator

        sim = Simulator(seed=args.seed, scenario=args.scenario, speed=20).start()
        api_key, keypair, stream_url = sim.api_key, sim.wallet, sim.stream_url
        target = ls.SendTargetRpc(url=sim.rpc_url)
        log(f"no LASERSELL_API_KEY: using the embedded simulator ({args.scenario}, seed {args.seed})")

    wallet = str(keypair.pubkey())
    session = ls.StreamSession(api_key, [wallet], STRATEGY, deadline_timeout_sec=60, endpoint=stream_url)
    sender = ls.TxSender()
    done = threading.Event()
    ledger: Dict[int, Dict[str, object]] = {}

    @session.on(ls.PositionOpened)
    def opened(event: ls.Event[ls.PositionOpened]) -> None:
        message = event.message
        ledger.setdefault(message.position_id, {"symbol": message.token_symbol or message.mint[:6]})
        ledger[message.position_id]["entry"] = message.entry_quote_units
        log(f"opened   #{message.position_id} {message.token_symbol}: entry {message.entry_quote_units / 1e9:.3f} SOL")

    @session.on(ls.ExitSignalWithTx)
    def exit_signal(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        message = event.message
        signed = ls.sign_unsigned_tx(message.unsigned_tx_b64, keypair)
        signature = sender.send(target, signed)
        reacted_ms = (time.monotonic() - event.received_at) * 1000
        row = ledger.setdefault(message.position_id, {"symbol": message.mint[:6]})
        row["profit"] = int(row.get("profit", 0)) + message.profit_units  # type: ignore[call-overload]
        row["reason"] = message.reason
        log(f"exit     #{message.position_id} {message.reason}: sent {signature[:12]}... in {reacted_ms:.1f} ms")

    @session.on(ls.PositionClosed)
    def closed(event: ls.Event[ls.PositionClosed]) -> None:
        ledger.setdefault(event.message.position_id, {})["closed"] = event.message.reason
        log(f"closed   #{event.message.position_id}: {event.message.reason}")
        if sum(1 for row in ledger.values() if "closed" in row) >= args.positions:
            done.set()

    @session.on("disconnected")
    def disconnected(event: ls.Event[ls.Disconnected]) -> None:
        if event.message.will_reconnect:
            log(f"stream lost ({event.message.reason}); reconnecting")

    @session.on_error
    def failed(error: BaseException, event: Optional[ls.Event[object]]) -> None:
        log(f"error: {error}")

    try:
        hello = session.connect(timeout=10)
        log(f"connected: session {hello.session_id}, watching {wallet}")
        done.wait(args.seconds)
    finally:
        session.close()
        sender.close()
        if sim is not None:
            sim.stop()
    print("\nposition  token    entry SOL   exit SOL    PnL %   reason")
    for position_id, row in sorted(ledger.items()):
        if "profit" not in row or "entry" not in row:
            continue
        entry = int(row["entry"])  # type: ignore[call-overload]
        profit = int(row["profit"])  # type: ignore[call-overload]
        print(
            f"#{position_id:<8} {row['symbol']!s:<8} {entry / 1e9:9.3f} {(entry + profit) / 1e9:10.3f}"
            f" {profit / entry * 100:8.1f}   {row['reason']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
