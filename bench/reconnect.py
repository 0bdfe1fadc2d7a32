"""What a stream reconnect to a TLS endpoint costs: ``python bench/reconnect.py [--rounds 50]``.

A local ``wss://`` server (a ``trustme`` CA) resets the session's TCP connection (no close
frame) and times, on its own clock, how long until the ``configure`` of the new connection
arrives: the reset noticed, a new TCP connection, the TLS handshake, the WebSocket upgrade, and
``configure``. Two sessions, rounds interleaved: ``resumed`` (``ca_bundle=``: the library's own
context, which offers the last TLS session's ticket) and ``full`` (the same trust passed as
``ssl_context=``, used as it is: a full handshake every time). p50/p99 in ms, and how many
handshakes the server saw resumed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ssl
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import trustme
from websockets.asyncio.server import ServerConnection, serve

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import lasersell_sync as ls  # noqa: E402

HELLO = (
    '{"type":"hello_ok","session_id":1,"server_time_ms":1706000000000,'
    '"limits":{"hi_capacity":256,"pnl_flush_ms":100,"max_positions_per_session":500}}'
)
WALLET = "5VnSh2tCbNSDSrBTuS1WXWZJz6DLRDWRsmANC9YN8JyR"
STRATEGY = ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=10)


class Server:
    """Accepts sessions by API key; ``reset(key)`` aborts its connection and times the way back."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        self._live: Dict[str, ServerConnection] = {}
        self._reset_at: Dict[str, float] = {}
        self.back: Dict[str, List[float]] = {}
        self.resumed: Dict[str, List[bool]] = {}
        self._arrived = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="reconnect-bench", daemon=True)
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        self.url = f"wss://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/v1/ws"

    async def _start(self) -> Any:
        return await serve(self._handle, "127.0.0.1", 0, ssl=self._context, ping_interval=None)

    async def _handle(self, conn: ServerConnection) -> None:
        key = conn.request.headers.get("x-api-key", "") if conn.request is not None else ""
        tls = conn.transport.get_extra_info("ssl_object")
        await conn.recv()  # configure
        now = time.perf_counter()
        with self._arrived:
            started = self._reset_at.pop(key, None)
            if started is not None:
                self.back.setdefault(key, []).append((now - started) * 1000)
                self.resumed.setdefault(key, []).append(bool(tls.session_reused))
            self._live[key] = conn
            self._arrived.notify_all()
        await conn.send(HELLO)
        with contextlib.suppress(Exception):
            await conn.wait_closed()

    def wait_live(self, key: str) -> None:
        with self._arrived:
            assert self._arrived.wait_for(lambda: key in self._live and key not in self._reset_at, 30)

    def reset(self, key: str) -> None:
        def abort() -> None:
            with self._arrived:
                conn = self._live.pop(key)
                self._reset_at[key] = time.perf_counter()
            conn.transport.abort()

        self._loop.call_soon_threadsafe(abort)

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            for conn in list(self._live.values()):
                conn.transport.abort()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def pct(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=50)
    options = parser.parse_args()
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    bundle = Path(tempfile.mkdtemp(prefix="reconnect-bench-")) / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    plain = ssl.create_default_context()
    ca.configure_trust(plain)
    server = Server(server_context)
    sessions: Dict[str, Optional[ls.StreamSession]] = {}
    fast = ls.Backoff(initial=0.001, maximum=0.001)  # the first retry after a reset is immediate anyway
    try:
        for name, trust in (("resumed", {"ca_bundle": bundle}), ("full", {"ssl_context": plain})):
            session = ls.StreamSession(name, [WALLET], STRATEGY, endpoint=server.url, backoff=fast, **trust)
            session.connect(timeout=30)
            server.wait_live(name)
            sessions[name] = session
        for _ in range(options.rounds):
            for name in ("resumed", "full"):
                server.reset(name)
                time.sleep(0.01)  # let the reset land before waiting for the way back
                server.wait_live(name)
    finally:
        for session in sessions.values():
            if session is not None:
                session.close()
        server.stop()
    print(f"stream reconnect over TLS on loopback, reset to next configure ({options.rounds} rounds):")
    for name in ("full", "resumed"):
        times, resumed = server.back[name], server.resumed[name]
        print(
            f"  {name:<8} p50 {statistics.median(times):6.2f} ms   p99 {pct(times, 0.99):6.2f} ms"
            f"   resumed handshakes {sum(resumed)}/{len(resumed)}"
        )
    ratio = statistics.median(server.back["full"]) / statistics.median(server.back["resumed"])
    print(f"  full/resumed p50: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
