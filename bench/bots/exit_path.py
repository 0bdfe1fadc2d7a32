"""Bot for bench/exit_path.py: sign each exit signal and stop where the send would start.

It prints, per signal, the microseconds from the frame's arrival (``event.received_at``) to the
signed transaction's base64 being ready for the send target, on its own clock.
"""

from __future__ import annotations

import sys
import time

from common import WALLET, args
from solders.keypair import Keypair

import lasersell_sync as ls

options = args()
keypair = Keypair.from_seed(bytes(32))  # the driver builds transactions for this fee payer
fast = options.count == 1  # --count 1: the fast path; 0: decode, sign, encode
session = ls.StreamSession(
    "bench-key", [WALLET], ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=10), endpoint=options.url
)


@session.on(ls.ExitSignalWithTx)
def on_exit(event: ls.Event[ls.ExitSignalWithTx]) -> None:
    if fast:
        tx_b64 = ls.tx.fast_sign(event.message.unsigned_tx_b64, keypair).tx_b64
    else:
        tx_b64 = ls.tx.encode_signed_tx(ls.sign_unsigned_tx(event.message.unsigned_tx_b64, keypair))
    micros = (time.monotonic() - event.received_at) * 1e6
    print(f"{micros:.1f} {len(tx_b64)}", file=sys.stderr, flush=True)
    session.close_position(event.message.position_id)


session.run_forever()
