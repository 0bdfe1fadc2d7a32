"""Sell automatically: sign every exit signal the stream sends and submit it.

With no LASERSELL_API_KEY set, this runs against the embedded simulator (offline, no funds).
With LASERSELL_API_KEY set, it runs against the real service; then LASERSELL_KEYPAIR_PATH must
name your solana-keygen wallet file, and LASERSELL_RPC_URL (optional) your RPC endpoint. The
--api-key, --keypair and --rpc-url options do the same.

    python examples/auto_sell.py [--seconds 10] [--positions 5] [--scenario mixed] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Dict, Optional, Sequence

from _common import Service, parse, parser, service

import lasersell_sync as ls

STRATEGY = ls.StrategyConfig(target_profit_pct=30, stop_loss_pct=15, trailing_stop_pct=8)

Ledger = Dict[int, Dict[str, object]]


def log(text: str) -> None:
    """Timestamped lines, so the reaction times in the log can be read against each other."""
    print(f"{time.strftime('%H:%M:%S')}  {text}", flush=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Trade until enough positions closed or time is up, then print the summary."""
    p = parser(__doc__ or "")
    p.add_argument("--seconds", type=float, default=10.0, help="stop after this long")
    p.add_argument("--positions", type=int, default=5, help="stop after this many positions closed")
    p.add_argument("--scenario", default="mixed", help="simulator scenario")
    p.add_argument("--seed", type=int, default=1, help="simulator seed")
    args = parse(p, argv)
    ledger: Ledger = {}
    with service(p, args, scenario=args.scenario, seed=args.seed) as svc:
        if svc.simulated:
            log(f"simulated market: scenario {args.scenario}, seed {args.seed}")
        else:
            log("using the LaserSell service")
        trade(svc, args, ledger)
    summarize(ledger)
    return 0


def trade(svc: Service, args: argparse.Namespace, ledger: Ledger) -> None:
    """Run the session until enough positions closed or time is up, filling in ``ledger``."""
    keypair = svc.signer
    target: ls.SendTarget = ls.SendTargetRpc(url=svc.rpc_url)
    wallet = str(keypair.pubkey())
    session = ls.StreamSession(svc.api_key, [wallet], STRATEGY, deadline_timeout_sec=60, endpoint=svc.stream_url)
    sender = ls.TxSender()
    done = threading.Event()

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


def summarize(ledger: Ledger) -> None:
    """One row per exited position: entry, exit value and PnL."""
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


if __name__ == "__main__":
    sys.exit(main())
