"""The practical limit for websocket-client: one loop, recv, parse, react inline.

Written the way a user tuning for speed would: ``skip_utf8_validation=True`` (websocket-client
otherwise checks every text frame byte by byte in pure Python) and the same JSON library as
lasersell_sync (orjson when installed).
"""

from __future__ import annotations

import time

import websocket
from common import DONE_ID, WALLET, args, burn

try:
    import orjson

    loads = orjson.loads

    def dumps(value: object) -> str:
        return orjson.dumps(value).decode()

except ImportError:  # pragma: no cover - the benchmark installs orjson
    import json

    loads = json.loads
    dumps = json.dumps

options = args()
ws = websocket.create_connection(options.url, header=["x-api-key: bench-key"], skip_utf8_validation=True)
strategy = {"target_profit_pct": 50, "stop_loss_pct": 10}
ws.send(dumps({"type": "configure", "wallet_pubkeys": [WALLET], "strategy": strategy}))
ticks = 0
while True:
    message = loads(ws.recv())
    kind = message.get("type")
    if kind == "exit_signal_with_tx":
        if options.delay_ms:
            time.sleep(options.delay_ms / 1000)
        ws.send(dumps({"type": "close_position", "position_id": message["position_id"]}))
    elif kind == "pnl_update":
        burn(options.work_us)
    elif kind == "trade_tick":
        ticks += 1
        if ticks == options.count:
            ws.send(dumps({"type": "close_position", "position_id": DONE_ID}))
