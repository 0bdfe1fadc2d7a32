"""The benchmark server: a LaserSell-shaped WebSocket server that measures bots on its own clock.

The upgrade and hello_ok go through ``websockets``; after that the hot frames (signals, floods)
are pre-encoded and written straight to the transport, so the server is never the bottleneck
(``python bench/run.py`` reports its send rate to a client that discards frames). It stamps
each signal with ``perf_counter_ns`` as it writes it and each reaction (``close_position``) as it
arrives; latency is the difference, on one clock.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any, Dict, List, Optional

from websockets.asyncio.server import ServerConnection, serve

HELLO = {
    "type": "hello_ok",
    "session_id": 1,
    "server_time_ms": 1706000000000,
    "limits": {"hi_capacity": 256, "pnl_flush_ms": 100, "max_positions_per_session": 1000},
}
WALLET = "1" * 32
DONE_ID = 999_999  # a bot sends close_position(DONE_ID) when it has counted every tick


def frame(text: str) -> bytes:
    """One unmasked server text frame."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = bytes([0x81, n])
    elif n < 65536:
        head = bytes([0x81, 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x81, 127]) + n.to_bytes(8, "big")
    return head + payload


def exit_signal(position_id: int) -> bytes:
    return frame(
        json.dumps(
            {
                "type": "exit_signal_with_tx",
                "session_id": 1,
                "position_id": position_id,
                "wallet_pubkey": WALLET,
                "mint": "2" * 32,
                "token_account": "3" * 32,
                "position_tokens": 1000000,
                "profit_units": 5000000,
                "reason": "target_profit",
                "triggered_at_ms": 1706000000000,
                "unsigned_tx_b64": "A" * 300,
            },
            separators=(",", ":"),
        )
    )


def pnl(position_id: int, seq: int) -> bytes:
    return frame(
        f'{{"type":"pnl_update","position_id":{position_id},"profit_units":{seq},'
        f'"proceeds_units":{10**9 + seq},"server_time_ms":{1706000000000 + seq}}}'
    )


def tick(position_id: int, seq: int) -> bytes:
    return frame(
        f'{{"type":"trade_tick","position_id":{position_id},"time_ms":{1706000000000 + seq},"side":"buy",'
        f'"token_amount":{50000000 + seq},"quote_amount":1200000000,"price_quote":24000,'
        f'"maker":"{"4" * 32}","tx_signature":"{"5" * 64}"}}'
    )


class BenchServer:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.configures: List[float] = []  # perf_counter times a configure arrived
        self.reactions: Dict[int, int] = {}  # position id -> ns when close_position arrived
        self.sent: Dict[int, int] = {}
        self.conn: Optional[ServerConnection] = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="bench-server", daemon=True)
        self._thread.start()
        self._server = self._call(self._start())
        self.url = f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/v1/ws"

    async def _start(self) -> Any:
        return await serve(self._handle, "127.0.0.1", 0, ping_interval=None, max_size=None)

    def _call(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _handle(self, conn: ServerConnection) -> None:
        try:
            await conn.recv()  # configure
            with self.cond:
                self.configures.append(time.perf_counter())
                self.conn = conn
                self.cond.notify_all()
            await conn.send(json.dumps(HELLO))
            async for message in conn:
                now = time.perf_counter_ns()
                data = json.loads(message)
                if data.get("type") == "close_position":
                    with self.cond:
                        self.reactions[int(data.get("position_id", -1))] = now
                        self.cond.notify_all()
        except Exception:
            pass

    # -- control (any thread) ----------------------------------------------------------------

    def wait_connections(self, count: int, timeout: float = 60) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.configures) >= count, timeout):
                raise TimeoutError(f"bot did not connect ({count} configure expected)")

    def wait_reaction(self, position_id: int, timeout: float = 30) -> int:
        """Nanoseconds from writing the signal to receiving the reaction."""
        with self.cond:
            if not self.cond.wait_for(lambda: position_id in self.reactions, timeout):
                raise TimeoutError(f"no reaction to position {position_id}")
            return self.reactions[position_id] - self.sent[position_id]

    def write(self, data: bytes) -> None:
        """Write raw frames; waits while the client lags (bounded buffer)."""
        self._call(self._write(data))

    async def _write(self, data: bytes) -> None:
        assert self.conn is not None
        transport = self.conn.transport
        while transport.get_write_buffer_size() > 4 << 20:
            await asyncio.sleep(0.001)
        transport.write(data)

    def signal(self, position_ids: List[int], prefix: bytes = b"") -> None:
        """Write ``prefix`` then exit signals, stamping each as it is written."""
        blob = b"".join(exit_signal(p) for p in position_ids)
        self._call(self._stamped(prefix, blob, position_ids))

    def signal_raw(self, position_id: int, signal_frame: bytes) -> None:
        """Write one pre-built exit signal frame, stamped as it is written."""
        self._call(self._stamped(b"", signal_frame, [position_id]))

    async def _stamped(self, prefix: bytes, blob: bytes, position_ids: List[int]) -> None:
        assert self.conn is not None
        if prefix:
            self.conn.transport.write(prefix)
        stamp = time.perf_counter_ns()
        for position_id in position_ids:
            self.sent[position_id] = stamp
        self.conn.transport.write(blob)

    def flood(self, frames_per_ms: int, duration_s: float, make: Any = pnl) -> int:
        """Write ``frames_per_ms`` frames every millisecond for ``duration_s`` (rotating 100 positions)."""
        return int(self._call(self._flood(frames_per_ms, duration_s, make), timeout=duration_s + 30))

    async def _flood(self, per_ms: int, duration: float, make: Any) -> int:
        assert self.conn is not None
        transport, sent, start = self.conn.transport, 0, time.perf_counter()
        while time.perf_counter() - start < duration:
            target = int((time.perf_counter() - start) * 1000 * per_ms)
            if target > sent:
                transport.write(b"".join(make(1 + (sent + i) % 100, sent + i) for i in range(target - sent)))
                sent = target
            await asyncio.sleep(0.0005)
        return sent

    def abort(self) -> None:
        assert self.conn is not None
        self._loop.call_soon_threadsafe(self.conn.transport.abort)

    def go_silent(self) -> None:
        assert self.conn is not None
        self._loop.call_soon_threadsafe(self.conn.transport.pause_reading)

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close(close_connections=False)
            for conn in list(self._server.connections):  # paused (silent) ones never see EOF
                conn.transport.abort()
            await asyncio.wait_for(self._server.wait_closed(), 10)  # handler tasks end first

        self._call(shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
