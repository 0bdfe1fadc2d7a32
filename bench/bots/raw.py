"""The practical limit for websocket-client: one loop, recv, json.loads, react inline."""

from __future__ import annotations

import json
import time

import websocket
from common import DONE_ID, WALLET, args, burn

options = args()
ws = websocket.create_connection(options.url, header=["x-api-key: bench-key"])
strategy = {"target_profit_pct": 50, "stop_loss_pct": 10}
ws.send(json.dumps({"type": "configure", "wallet_pubkeys": [WALLET], "strategy": strategy}))
ticks = 0
while True:
    message = json.loads(ws.recv())
    kind = message.get("type")
    if kind == "exit_signal_with_tx":
        if options.delay_ms:
            time.sleep(options.delay_ms / 1000)
        ws.send(json.dumps({"type": "close_position", "position_id": message["position_id"]}))
    elif kind == "pnl_update":
        burn(options.work_us)
    elif kind == "trade_tick":
        ticks += 1
        if ticks == options.count:
            ws.send(json.dumps({"type": "close_position", "position_id": DONE_ID}))
