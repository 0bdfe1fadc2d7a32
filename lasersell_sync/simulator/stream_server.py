"""The simulator's stream endpoint: the LaserSell protocol over ``websockets`` on 127.0.0.1.

It runs on its own event-loop thread. Each connection waits for ``configure`` (or greets first
when ``hello_first`` is set), validates it, answers ``hello_ok`` with the configured limits, then
streams what the market engine produces every ``pnl_flush_ms`` of simulated time. Invalid client
messages are answered with ``error`` messages; the connection stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from http import HTTPStatus
from typing import Any, Callable, List, Optional, Set, Tuple

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from ..errors import InvalidStrategyError, ProtocolError
from ..proto import (
    Configure,
    ErrorMessage,
    HelloOk,
    Limits,
    ServerMessage,
    UpdateStrategy,
    UpdateWallets,
    UpdateWatchWallets,
    decode_client,
    encode_server,
    validate_strategy,
)

__all__ = ["StreamEndpoint"]

logger = logging.getLogger(__name__)

_CLOSE_TIMEOUT = 2.0
"""Seconds a client gets to answer the close frame at shutdown before its TCP stream is cut."""


class StreamEndpoint:
    """Serves one simulated account; ``engine_for(configure)`` supplies the market."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        limits: Limits,
        tick_seconds: float,
        on_configure: Callable[[Configure, int], List[ServerMessage]],
        on_tick: Callable[[], List[ServerMessage]],
        on_command: Callable[[Any], List[ServerMessage]],
        is_registered: Callable[[str], bool],
        hello_first: bool = False,
        replay: Optional[List[Tuple[float, str]]] = None,
        replay_speed: float = 1.0,
    ) -> None:
        self.limits = limits
        self._replay = replay
        self._replay_speed = replay_speed
        self.tick_seconds = tick_seconds
        self.hello_first = hello_first
        self.reject_auth = False
        self.silent = False
        self.extra_delay = 0.0
        self._on_configure = on_configure
        self._on_tick = on_tick
        self._on_command = on_command
        self._is_registered = is_registered
        self._connections: Set[ServerConnection] = set()
        self._tasks: Set[asyncio.Task[None]] = set()
        self._sessions = 0
        self._stop_lock = threading.Lock()
        self._stopped = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="lasersell-sim-stream", daemon=True)
        self._thread.start()
        try:
            self._server = self._call(self._start(host, port))
        except BaseException:  # e.g. the port is taken: leave no loop thread behind
            self._end_loop()
            raise
        self.port: int = self._server.sockets[0].getsockname()[1]

    async def _start(self, host: str, port: int) -> Any:
        return await serve(
            self._handle,
            host,
            port,
            process_request=self._check_auth,
            max_size=1 << 20,
            close_timeout=_CLOSE_TIMEOUT,
        )

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def stop(self) -> None:
        """Say goodbye properly: every client gets a close frame (1001 going away), then the loop ends.

        Safe to call more than once; later calls do nothing.
        """
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True

        async def shutdown() -> None:
            for conn in self._connections:  # a silenced link must still read the client's close frame
                conn.transport.resume_reading()
            self._server.close()  # close frames with 1001 (going away) to every open connection
            await self._server.wait_closed()  # each close handshake is bounded by close_timeout

        try:
            self._call(shutdown())
        finally:
            self._end_loop()

    def _end_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()

    # -- fault switches and pushes (any thread) ---------------------------------------------

    def push(self, messages: List[ServerMessage]) -> None:
        """Send messages (e.g. a settlement) to every live connection."""
        if messages:
            self.push_raw([encode_server(message) for message in messages])

    def push_raw(self, frames: List[str]) -> None:
        """Send frames verbatim (malformed ones too) to every live connection."""

        def start() -> None:
            for conn in list(self._connections):
                task = self._loop.create_task(self._send_frames(conn, frames))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

        if self._stopped:
            return
        with contextlib.suppress(RuntimeError):  # stop() closed the loop just now: nobody to send to
            self._loop.call_soon_threadsafe(start)

    def drop_connections(self) -> None:
        """Abort every connection's TCP stream (no close frame)."""

        def abort() -> None:
            for conn in list(self._connections):
                conn.transport.abort()

        self._loop.call_soon_threadsafe(abort)

    def go_silent(self, silent: bool = True) -> None:
        """Stop (or resume) reading and sending without closing: a half-open link for bots to detect."""
        self.silent = silent

        def apply() -> None:
            for conn in self._connections:
                (conn.transport.pause_reading if silent else conn.transport.resume_reading)()

        self._loop.call_soon_threadsafe(apply)

    # -- protocol ---------------------------------------------------------------------------

    def _check_auth(self, connection: ServerConnection, request: Any) -> Any:
        if self.reject_auth or not request.headers.get("x-api-key"):
            return connection.respond(HTTPStatus.UNAUTHORIZED, "missing or invalid API key\n")
        return None

    async def _handle(self, conn: ServerConnection) -> None:
        self._sessions += 1
        session_id = self._sessions
        hello = HelloOk(session_id=session_id, server_time_ms=1_706_000_000_000, limits=self.limits)
        try:
            if self.hello_first:
                await conn.send(encode_server(hello))
            configure = await self._read_configure(conn)
            if configure is None:
                return
            if not self.hello_first:
                await conn.send(encode_server(hello))
            self._connections.add(conn)
            if self._replay is not None:
                ticker = self._loop.create_task(self._play(conn, self._replay))
            else:
                await self._send(conn, self._on_configure(configure, session_id))
                ticker = self._loop.create_task(self._tick_loop(conn))
            try:
                async for frame in conn:
                    await self._command(conn, frame)
            finally:
                ticker.cancel()
        except Exception:  # the client went away
            logger.debug("simulator connection ended", exc_info=True)
        finally:
            self._connections.discard(conn)

    async def _read_configure(self, conn: ServerConnection) -> Optional[Configure]:
        frame = await asyncio.wait_for(conn.recv(), timeout=30)
        try:
            message = decode_client(frame)
        except ProtocolError as exc:
            await conn.send(encode_server(ErrorMessage(code="invalid_message", message=str(exc))))
            return None
        if not isinstance(message, Configure):
            await conn.send(encode_server(ErrorMessage(code="invalid_message", message="expected configure first")))
            return None
        problem = (
            self._strategy_problem(message.strategy)
            or self._wallets_problem(list(message.wallet_pubkeys))
            or self._watch_problem(len(message.watch_wallets))
        )
        if problem is not None:
            await conn.send(encode_server(problem))
            return None
        return message

    @staticmethod
    def _strategy_problem(strategy: Any) -> Optional[ErrorMessage]:
        try:
            validate_strategy(strategy)
        except InvalidStrategyError as exc:
            return ErrorMessage(code="invalid_strategy", message=str(exc))
        return None

    def _wallets_problem(self, wallets: List[str]) -> Optional[ErrorMessage]:
        limit = self.limits.max_wallets_per_session
        if limit and len(wallets) > limit:
            return ErrorMessage(code="capacity_exceeded", message="max_wallets_per_session limit reached")
        for wallet in wallets:
            if not self._is_registered(wallet):
                return ErrorMessage(code="wallet_not_registered", message=f"wallet {wallet} is not registered")
        return None

    def _watch_problem(self, count: int) -> Optional[ErrorMessage]:
        limit = self.limits.max_watch_wallets_per_session
        if limit and count > limit:
            return ErrorMessage(code="capacity_exceeded", message="max_watch_wallets_per_session limit reached")
        return None

    async def _command(self, conn: ServerConnection, frame: Any) -> None:
        try:
            message = decode_client(frame)
        except ProtocolError as exc:
            await conn.send(encode_server(ErrorMessage(code="invalid_message", message=str(exc))))
            return
        if isinstance(message, Configure):
            await conn.send(encode_server(ErrorMessage(code="invalid_message", message="already configured")))
            return
        problem = None
        if isinstance(message, UpdateStrategy):
            problem = self._strategy_problem(message.strategy)
        elif isinstance(message, UpdateWallets):
            problem = self._wallets_problem(list(message.wallet_pubkeys))
        elif isinstance(message, UpdateWatchWallets):
            problem = self._watch_problem(len(message.watch_wallets))
        if problem is not None:
            await conn.send(encode_server(problem))
            return
        await self._send(conn, self._on_command(message))

    async def _play(self, conn: ServerConnection, frames: List[Tuple[float, str]]) -> None:
        """Send a recording with its original spacing divided by ``replay_speed``."""
        previous = None
        try:
            for at, frame in frames:
                if '"type":"hello_ok"' in frame[:20]:
                    continue  # this connection has its own hello_ok
                if previous is not None and at > previous:
                    await asyncio.sleep((at - previous) / self._replay_speed)
                previous = at
                await conn.send(frame)
        except ConnectionClosed:  # the client left, or the simulator is stopping
            return

    async def _tick_loop(self, conn: ServerConnection) -> None:
        try:
            while True:
                await asyncio.sleep(self.tick_seconds)
                if not self.silent:
                    await self._send(conn, self._on_tick())
        except ConnectionClosed:  # the client left, or the simulator is stopping
            return

    async def _send(self, conn: ServerConnection, messages: List[ServerMessage]) -> None:
        for message in messages:
            if self.extra_delay:
                await asyncio.sleep(self.extra_delay)
            await conn.send(encode_server(message))

    async def _send_frames(self, conn: ServerConnection, frames: List[str]) -> None:
        try:
            for frame in frames:
                await conn.send(frame)
        except Exception:  # the connection closed meanwhile
            logger.debug("simulator push failed", exc_info=True)
