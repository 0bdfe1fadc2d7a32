"""lasersell_sync bot with a pull loop (``for event in session.events()``) spending 1 ms per event.

It answers an exit signal with ``close_position`` and prints, per exit, how long the event
waited in the iterator (reader receipt to the loop taking it), on its own clock.
"""

from __future__ import annotations

import sys
import time

from common import WALLET, args

import lasersell_sync as ls

options = args()
session = ls.StreamSession(
    "bench-key", [WALLET], ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=10), endpoint=options.url
)
session.connect()
for event in session.events():
    if isinstance(event.message, ls.ExitSignalWithTx):
        session.close_position(event.message.position_id)
        print(f"queued_ms {(time.monotonic() - event.received_at) * 1000:.3f}", file=sys.stderr, flush=True)
    time.sleep(options.work_us / 1e6)  # the loop's own work per event
