"""The ``ours`` bot with timestamps inside the process, for ``bench/quiet_breakdown.py``.

Per exit signal it records, on the bot's monotonic clock: the reader's hand-off (frame read by
the reader thread to the handler's first line, which includes decoding, the lane and the worker
wake-up) and the command write (``close_position`` called to returned). On stdin EOF it prints
the medians as JSON on stdout.
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from typing import List

from common import WALLET, args

import lasersell_sync as ls

options = args()
session = ls.StreamSession(
    "bench-key", [WALLET], ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=10), endpoint=options.url
)
handoff: List[float] = []
write: List[float] = []


@session.on(ls.ExitSignalWithTx)
def on_exit(event: ls.Event[ls.ExitSignalWithTx]) -> None:
    entered = time.monotonic()
    session.close_position(event.message.position_id)
    handoff.append(entered - event.received_at)
    write.append(time.monotonic() - entered)


def report_on_eof() -> None:
    sys.stdin.read()
    medians = {"handoff_us": statistics.median(handoff) * 1e6, "write_us": statistics.median(write) * 1e6}
    print(json.dumps(medians), flush=True)


session.connect()
reporter = threading.Thread(target=report_on_eof)
reporter.start()
reporter.join()
session.close()
