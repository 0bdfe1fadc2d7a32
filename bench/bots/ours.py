"""lasersell_sync bot, written the way the README teaches: decorator handlers.

With ``--metrics-port``, it also serves Prometheus metrics (``serve_metrics``), as the
``ours+metrics`` bot of ``bench/run.py``.
"""

from __future__ import annotations

import time

from common import DONE_ID, WALLET, args, burn

import lasersell_sync as ls

options = args()
session = ls.StreamSession(
    "bench-key",
    [WALLET],
    ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=10),
    endpoint=options.url,
    trade_tick_backlog=10**7,  # count every tick in the throughput scenario
)
ticks = 0


@session.on(ls.ExitSignalWithTx)
def on_exit(event: ls.Event[ls.ExitSignalWithTx]) -> None:
    if options.delay_ms:
        time.sleep(options.delay_ms / 1000)  # signing + sending
    session.close_position(event.message.position_id)


@session.on(ls.PnlUpdate)
def on_pnl(event: ls.Event[ls.PnlUpdate]) -> None:
    burn(options.work_us)


@session.on(ls.TradeTick)
def on_tick(event: ls.Event[ls.TradeTick]) -> None:
    global ticks
    ticks += 1  # one low-priority worker per position key; the counter only needs to be exact
    if ticks == options.count:
        session.close_position(DONE_ID)


if options.metrics_port is not None:  # after the handlers, as docs/watching.md advises
    ls.serve_metrics(session, port=options.metrics_port)

session.run_forever()
