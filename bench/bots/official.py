"""The official async SDK (lasersell-sdk from PyPI), written the way its README's loop is."""

from __future__ import annotations

import asyncio

from common import DONE_ID, WALLET, args, burn
from lasersell_sdk.stream.client import StreamClient, StreamConfigure, strategy_config_from_optional
from lasersell_sdk.stream.session import StreamSession

options = args()


async def main() -> None:
    client = StreamClient("bench-key").with_endpoint(options.url)
    session = await StreamSession.connect(
        client,
        StreamConfigure(
            wallet_pubkeys=[WALLET],
            strategy=strategy_config_from_optional(target_profit_pct=50.0, stop_loss_pct=10.0),
        ),
    )
    ticks = 0
    while True:
        event = await session.recv()
        if event is None:
            return
        if event.type == "exit_signal_with_tx":
            if options.delay_ms:
                await asyncio.sleep(options.delay_ms / 1000)  # awaiting the send, as the README does
            session.sender().close_position(event.message["position_id"])
        elif event.type == "pnl_update":
            burn(options.work_us)
        elif event.type == "trade_tick":
            ticks += 1
            if ticks == options.count:
                session.sender().close_position(DONE_ID)


asyncio.run(main())
