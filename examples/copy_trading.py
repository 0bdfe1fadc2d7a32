"""Copy trading: watch a wallet, mirror its buys with yours, and exit them with your strategy.

Without LASERSELL_API_KEY it runs against the embedded simulator (offline, no funds), which makes
the watched wallet trade. With LASERSELL_API_KEY set it copies a real wallet (--watch) with yours
(--keypair or LASERSELL_KEYPAIR_PATH), spending real SOL: 0.05 SOL a mirrored buy.

    python examples/copy_trading.py [--watch WALLET] [--seconds 8]
"""

from __future__ import annotations

import sys
import threading
from typing import Optional, Sequence

from _common import parse, parser, run, service
from solders.keypair import Keypair

import lasersell_sync as ls


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = parser(__doc__ or "")
    p.add_argument("--watch", help="the wallet to copy (default: a random one; the simulator makes it trade)")
    p.add_argument("--seconds", type=float, default=8.0, help="stop after this long (default: %(default)s)")
    p.add_argument("--mirrors", type=int, default=2, help="stop after this many mirrored positions closed")
    args = parse(p, argv)
    with service(p, args, scenario="mixed") as svc:
        keypair = svc.signer
        wallet = str(keypair.pubkey())
        watched = ls.WatchWalletEntry(
            pubkey=args.watch or str(Keypair().pubkey()),
            auto_buy=ls.AutoBuyConfig(wallet_pubkey=wallet, amount_quote_units=50_000_000),  # 0.05 SOL a buy
        )
        session = ls.StreamSession(
            svc.api_key,
            [wallet],
            ls.StrategyConfig(target_profit_pct=25, stop_loss_pct=10),
            endpoint=svc.stream_url,
            watch_wallets=[watched],
            mirror_config=ls.MirrorConfig(cooldown_sec=0, max_positions_per_wallet=3, max_consecutive_losses=3),
        )
        sender, targets, done = ls.TxSender(), svc.targets, threading.Event()
        closed = []

        @session.on(ls.MirrorBuySignal)
        def mirror(event: ls.Event[ls.MirrorBuySignal]) -> None:
            signal = event.message
            try:
                signature = sender.send_many(targets, ls.sign_unsigned_tx(signal.unsigned_tx_b64, keypair)).signature
                amount = signal.amount_quote_units / 1e9
                print(f"mirrored a buy of {signal.mint[:8]}... for {amount} SOL: {signature[:12]}...")
                session.report_mirror_buy_result(signal.mint, True)
            except ls.TxSubmitError as exc:
                print(f"mirror buy failed: {exc}")
                session.report_mirror_buy_result(signal.mint, False)

        @session.on(ls.MirrorBuyFailed)
        def skipped(event: ls.Event[ls.MirrorBuyFailed]) -> None:
            print(f"skipped a mirror buy: {event.message.reason}")

        @session.on(ls.MirrorWalletAutoDisabled)
        def disabled(event: ls.Event[ls.MirrorWalletAutoDisabled]) -> None:
            print(f"stopped copying {event.message.watched_wallet[:8]}... after {event.message.loss_count} losses")

        @session.on(ls.ExitSignalWithTx)
        def exit_signal(event: ls.Event[ls.ExitSignalWithTx]) -> None:
            sender.send_many(targets, ls.sign_unsigned_tx(event.message.unsigned_tx_b64, keypair))

        @session.on(ls.PositionClosed)
        def position_closed(event: ls.Event[ls.PositionClosed]) -> None:
            if event.message.watched:
                closed.append(event.message)
                print(f"mirrored position #{event.message.position_id} closed: {event.message.reason}")
                if len(closed) >= args.mirrors:
                    done.set()

        with session, sender:
            done.wait(args.seconds)
    print(f"{len(closed)} mirrored position(s) closed")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
