"""A scripted LaserSell-like WebSocket server on 127.0.0.1 for transport tests.

Built on ``websockets``' asyncio server running on its own event-loop thread. Tests steer it
with plain attributes (set before a client connects) and thread-safe actions, and wait on what
it received with a condition variable: no sleeps.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import time
from http import HTTPStatus
from typing import Any, Callable, List, Optional, Set, Tuple

from websockets.asyncio.server import ServerConnection, serve

HELLO = {
    "type": "hello_ok",
    "session_id": 1,
    "server_time_ms": 1706000000000,
    "limits": {"hi_capacity": 256, "pnl_flush_ms": 100, "max_positions_per_session": 500},
}


class ScriptedServer:
    def __init__(self, ssl_context: Optional[ssl.SSLContext] = None) -> None:
        self._ssl = ssl_context
        # Behaviour, read when a connection arrives.
        self.reject_status: Optional[int] = None
        self.hello_first = False
        self.handshake_error: Optional[Tuple[str, str]] = None
        self.silent_handshake = False
        self.drop_next = 0  # accept the upgrade, then drop the TCP connection, this many times
        self.early_frames: List[Any] = []  # sent after configure, before hello_ok
        self.answer_pings = False  # answer application pings with pong, as the service does
        self.unregistered: Set[str] = set()  # wallets refused with wallet_not_registered
        # Observations.
        self.received: List[Tuple[int, str]] = []  # (connection number, text frame)
        self.api_keys: List[Optional[str]] = []
        self.attempts = 0  # TCP connections that reached the upgrade
        self.resumed: List[bool] = []  # per connection: did its TLS handshake resume a session?
        self.attempt_times: List[float] = []
        self.cond = threading.Condition()
        self._conns: List[ServerConnection] = []
        self._session = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-ws-server", daemon=True)
        self._thread.start()
        self._server = self._call(self._start())
        self.port: int = self._server.sockets[0].getsockname()[1]
        scheme = "wss" if ssl_context is not None else "ws"
        self.url = f"{scheme}://127.0.0.1:{self.port}/v1/ws"

    # -- lifecycle ---------------------------------------------------------------------

    async def _start(self) -> Any:
        return await serve(
            self._handler,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            ping_interval=None,
            max_size=None,
            ssl=self._ssl,
        )

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            for conn in self._conns:
                conn.transport.abort()
            await self._server.wait_closed()

        self._call(shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    # -- server side -------------------------------------------------------------------

    def _process_request(self, connection: ServerConnection, request: Any) -> Any:
        with self.cond:
            self.attempts += 1
            self.attempt_times.append(time.monotonic())
            self.api_keys.append(request.headers.get("x-api-key"))
            self.cond.notify_all()
        if self.reject_status is not None:
            return connection.respond(HTTPStatus(self.reject_status), "denied\n")
        return None

    async def _handler(self, conn: ServerConnection) -> None:
        tls = conn.transport.get_extra_info("ssl_object")
        with self.cond:
            number = len(self._conns)
            self._conns.append(conn)
            self.resumed.append(bool(tls is not None and tls.session_reused))
            self._session += 1
            session = self._session
            self.cond.notify_all()
        if self.drop_next > 0:
            self.drop_next -= 1
            conn.transport.abort()
            return
        hello = json.dumps({**HELLO, "session_id": session})
        try:
            if self.hello_first:
                await conn.send(hello)
            configure = await conn.recv()
            self._record(number, configure)
            for frame in self.early_frames:
                await conn.send(frame)
            refused = self._refusal(json.loads(configure).get("wallet_pubkeys", []))
            if refused is not None:
                await conn.send(refused)
            elif self.handshake_error is not None:
                code, message = self.handshake_error
                await conn.send(json.dumps({"type": "error", "code": code, "message": message}))
            elif self.silent_handshake:
                await conn.wait_closed()
                return
            elif not self.hello_first:
                await conn.send(hello)
            async for frame in conn:
                self._record(number, frame)
                await self._answer(conn, json.loads(frame))
        except Exception:  # the client or a test dropped the connection
            return

    def _refusal(self, wallets: List[str]) -> Optional[str]:
        for wallet in wallets:
            if wallet in self.unregistered:
                return json.dumps(
                    {"type": "error", "code": "wallet_not_registered", "message": f"wallet {wallet} is not registered"}
                )
        return None

    async def _answer(self, conn: ServerConnection, message: Any) -> None:
        """Answer commands the way the service does (in order, on the same connection)."""
        kind = message.get("type")
        if kind == "update_wallets":
            refused = self._refusal(message["wallet_pubkeys"])
            if refused is not None:
                await conn.send(refused)
        elif kind == "ping" and self.answer_pings:
            await conn.send(json.dumps({"type": "pong", "server_time_ms": 1706000000001}))

    def _record(self, number: int, frame: Any) -> None:
        with self.cond:
            self.received.append((number, frame if isinstance(frame, str) else frame.decode()))
            self.cond.notify_all()

    # -- actions (any thread) ------------------------------------------------------------

    def connection(self, number: int = -1) -> ServerConnection:
        with self.cond:
            return self._conns[number]

    def send(self, frame: Any, number: int = -1, text: Optional[bool] = None) -> None:
        conn = self.connection(number)
        self._call(conn.send(frame, text=text))

    def send_many(self, frames: List[Any], number: int = -1) -> None:
        conn = self.connection(number)

        async def send_all() -> None:
            for frame in frames:
                await conn.send(frame)

        self._call(send_all())

    def drop(self, number: int = -1) -> None:
        """Abort the TCP connection: no close frame (an abrupt reset)."""
        conn = self.connection(number)
        self._loop.call_soon_threadsafe(conn.transport.abort)

    def close(self, code: int = 1011, reason: str = "", number: int = -1) -> None:
        conn = self.connection(number)
        self._call(conn.close(code, reason))

    def wait_closed(self, number: int = -1) -> None:
        """Block until the server side of a connection has closed."""
        conn = self.connection(number)
        self._call(conn.wait_closed())

    def go_silent(self, number: int = -1) -> None:
        """Stop reading (so pings go unanswered) and sending, without closing: half-open."""
        conn = self.connection(number)
        self._loop.call_soon_threadsafe(conn.transport.pause_reading)

    # -- waiting ------------------------------------------------------------------------

    def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        with self.cond:
            result = self.cond.wait_for(predicate, timeout)
        assert result, "server condition not reached in time"
        return result

    def frames(self, type_: Optional[str] = None) -> List[Tuple[int, dict]]:
        with self.cond:
            decoded = [(n, json.loads(text)) for n, text in self.received]
        return [(n, d) for n, d in decoded if type_ is None or d.get("type") == type_]

    def wait_frames(self, type_: str, count: int = 1, timeout: float = 5.0) -> List[Tuple[int, dict]]:
        self.wait_until(lambda: len(self.frames(type_)) >= count, timeout)
        return self.frames(type_)
