"""An exit ladder: take profit in steps, selling part of what remains at each level.

Without LASERSELL_API_KEY it runs against the embedded simulator (offline, no funds); with it, the
ladder sells your wallet's positions (--keypair or LASERSELL_KEYPAIR_PATH) on the real service.

    python examples/exit_ladder.py [--seconds 8]
"""

from __future__ import annotations

import sys
import threading
from typing import Optional, Sequence

from _common import parse, parser, run, service

import lasersell_sync as ls

LADDER = ls.StrategyConfig(
    target_profit_pct=0,  # ignored while a ladder is set
    stop_loss_pct=15,
    take_profit_levels=(
        ls.TakeProfitLevel(profit_pct=10, sell_pct=30),
        ls.TakeProfitLevel(profit_pct=25, sell_pct=50, trailing_stop_pct=5),  # then trail the rest by 5 points
        ls.TakeProfitLevel(profit_pct=50, sell_pct=100),
    ),
)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = parser(__doc__ or "")
    p.add_argument("--seconds", type=float, default=8.0, help="stop after this long (default: %(default)s)")
    args = parse(p, argv)
    ls.proto.validate_strategy(LADDER)
    with service(p, args, scenario="grind", seed=2) as svc:
        keypair = svc.signer
        session = ls.StreamSession(svc.api_key, [str(keypair.pubkey())], LADDER, endpoint=svc.stream_url)
        sender, targets, done = ls.TxSender(), svc.targets, threading.Event()

        @session.on(ls.ExitSignalWithTx)
        def exit_signal(event: ls.Event[ls.ExitSignalWithTx]) -> None:
            signal = event.message
            step = f"level {signal.level_index}" if signal.level_index is not None else signal.reason
            selling = signal.sell_tokens if signal.sell_tokens is not None else signal.position_tokens
            print(f"#{signal.position_id} {step}: selling {selling} of {signal.position_tokens} tokens")
            sender.send_many(targets, ls.sign_unsigned_tx(signal.unsigned_tx_b64, keypair))

        @session.on(ls.PositionClosed)
        def position_closed(event: ls.Event[ls.PositionClosed]) -> None:
            print(f"#{event.message.position_id} fully sold ({event.message.reason})")
            done.set()

        with session, sender:
            done.wait(args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
