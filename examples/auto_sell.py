"""Sell automatically: every exit signal becomes a confirmed sell (``session.auto_exit``).

With no LASERSELL_API_KEY set, this runs against the embedded simulator (offline, no funds).
With LASERSELL_API_KEY set, it runs against the real service; then LASERSELL_KEYPAIR_PATH must
name your solana-keygen wallet file, and LASERSELL_RPC_URL (optional) your RPC endpoint. The
--keypair and --rpc-url options do the same (the key is read from the environment only).

    python examples/auto_sell.py [--seconds 10] [--positions 5] [--scenario mixed] [--seed 1]
                                 [--send-target rpc|helius]
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
    sys.stdout.write(f"{time.strftime('%H:%M:%S')}  {text}\n")  # one write: handler threads interleave
    sys.stdout.flush()


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
    wallet = str(keypair.pubkey())
    session = ls.StreamSession(svc.api_key, [wallet], STRATEGY, deadline_timeout_sec=60, endpoint=svc.stream_url)
    # Every exit signal becomes a confirmed sell: checked, signed, sent, confirmed, retried.
    # Where sells go: your RPC, after Helius Sender with --send-target helius (LASERSELL_SEND_TARGET).
    session.auto_exit(keypair, svc.targets, confirm_rpc=svc.rpc_url)
    done = threading.Event()

    def row(position_id: int) -> Dict[str, object]:
        return ledger.setdefault(position_id, {"symbol": f"#{position_id}"})

    @session.on(ls.PositionOpened)
    def opened(event: ls.Event[ls.PositionOpened]) -> None:
        message = event.message
        row(message.position_id).update(
            symbol=message.token_symbol or message.mint[:6], entry=message.entry_quote_units
        )
        log(f"opened   #{message.position_id} {message.token_symbol}: entry {message.entry_quote_units / 1e9:.3f} SOL")

    @session.on(ls.ExitSignalWithTx)
    def exit_signal(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        message = event.message
        row(message.position_id).update(reason=message.reason, profit=message.profit_units)
        log(f"signal   #{message.position_id} {message.reason}")

    @session.on(ls.ExitSubmitted)
    def submitted(event: ls.Event[ls.ExitSubmitted]) -> None:
        message = event.message
        slippage = f" at {message.slippage_bps} bps" if message.slippage_bps is not None else ""
        log(f"sent     #{message.position_id} attempt {message.attempt}{slippage}: {message.signature[:12]}...")

    @session.on(ls.ExitLanded)
    def landed(event: ls.Event[ls.ExitLanded]) -> None:
        message = event.message
        row(message.position_id).update(
            outcome="landed", attempts=message.attempt, slippage=message.slippage_bps, ms=message.latency_ms
        )
        log(f"landed   #{message.position_id} in slot {message.slot}, {message.latency_ms:.0f} ms after the signal")

    @session.on(ls.ExitFailed)
    def failed_exit(event: ls.Event[ls.ExitFailed]) -> None:
        message = event.message
        row(message.position_id).update(outcome=f"failed ({message.reason})", attempts=message.attempts)
        log(f"failed   #{message.position_id}: {message.reason}: {message.error}")

    @session.on(ls.ExitUnresolved)
    def unresolved(event: ls.Event[ls.ExitUnresolved]) -> None:
        message = event.message  # not known yet whether it sold: look the signatures up first
        log(f"unknown  #{message.position_id}: {message.reason}: {', '.join(message.signatures)}")

    @session.on(ls.PositionClosed)
    def closed(event: ls.Event[ls.PositionClosed]) -> None:
        row(event.message.position_id)["closed"] = event.message.reason
        log(f"closed   #{event.message.position_id}: {event.message.reason}")
        if sum(1 for r in ledger.values() if "closed" in r) >= args.positions:
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


def summarize(ledger: Ledger) -> None:
    """One row per exited position: entry, exit value, PnL, how the sell went."""
    header = "position  token    entry SOL   exit SOL    PnL %   reason          attempts  slippage  outcome"
    print(f"\n{header}   signal->landed")
    for position_id, row in sorted(ledger.items()):
        if "profit" not in row or "entry" not in row:
            continue
        entry = int(row["entry"])  # type: ignore[call-overload]
        profit = int(row["profit"])  # type: ignore[call-overload]
        slippage = row.get("slippage")
        shown_slippage = f"{slippage} bps" if slippage is not None else "signal"
        latency = f"{float(row['ms']):.0f} ms" if "ms" in row else "-"  # type: ignore[arg-type]
        print(
            f"#{position_id:<8} {row['symbol']!s:<8} {entry / 1e9:9.3f} {(entry + profit) / 1e9:10.3f}"
            f" {profit / entry * 100:8.1f}   {row['reason']!s:<15} {row.get('attempts', '-')!s:>8}"
            f"  {shown_slippage:>8}  {row.get('outcome', 'pending')!s:<9} {latency:>14}"
        )


if __name__ == "__main__":
    sys.exit(main())
