"""A plain loop instead of handlers, for code that prefers to pull events.

Without LASERSELL_API_KEY it runs against the embedded simulator (offline, no funds); with it,
against the real service, selling your wallet's positions (--keypair or LASERSELL_KEYPAIR_PATH).

    python examples/events_loop.py [--seconds 5] [--positions N]
"""

from __future__ import annotations

import sys
import time
from typing import Optional, Sequence

from _common import parse, parser, run, service

import lasersell_sync as ls


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = parser(__doc__ or "")
    p.add_argument("--seconds", type=float, default=5.0, help="stop after this long")
    p.add_argument("--positions", type=int, default=None, help="stop once this many positions closed")
    args = parse(p, argv)
    strategy = ls.StrategyConfig(target_profit_pct=20, stop_loss_pct=10)
    with service(p, args, scenario="pump") as svc:
        keypair = svc.signer
        stop_at = time.monotonic() + args.seconds
        targets = svc.targets  # --send-target / LASERSELL_SEND_TARGET
        session = ls.StreamSession(svc.api_key, [str(keypair.pubkey())], strategy, endpoint=svc.stream_url)
        closed = 0
        with session, ls.TxSender() as sender:
            # the loop also ends should the stream stay quiet for the whole time
            for event in session.events(timeout=args.seconds):
                message = event.message
                if isinstance(message, ls.ExitSignalWithTx):
                    signed = ls.sign_unsigned_tx(message.unsigned_tx_b64, keypair)
                    signature = sender.send_many(targets, signed).signature
                    print(f"exit #{message.position_id} ({message.reason}): {signature[:12]}...")
                elif isinstance(message, ls.PositionClosed):
                    print(f"closed #{message.position_id}: {message.reason}")
                    closed += 1
                if (args.positions is not None and closed >= args.positions) or time.monotonic() >= stop_at:
                    break
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
