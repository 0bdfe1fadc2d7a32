"""The simulator's stream endpoint: the LaserSell protocol over ``websockets`` on 127.0.0.1.

It runs on its own event-loop thread. Each connection waits for ``configure`` (or greets first
when ``hello_first`` is set), validates it, answers ``hello_ok`` with the configured limits,
then hears what the market of its account (its API key) produces. One ticker drives simulated
time for the whole simulator, every ``pnl_flush_ms`` of simulated time, whether or not anyone is
connected, and routes each message to the live session of the account it belongs to. Every
session has its own outgoing queue, so a slow client never holds up the clock. Invalid client
messages are answered with ``error`` messages; the connection stays open.

One session per API key (``limits.max_sessions_per_api_key``; 0: no limit): a second concurrent
connection with the same key gets ``error`` ``capacity_exceeded`` ("max_sessions_per_api_key
limit reached") before any ``hello_ok``, and is closed; the first session is not disturbed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from http import HTTPStatus
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from ..errors import InvalidStrategyError, ProtocolError
from ..proto import (
    Configure,
    ErrorMessage,
    ExitSignalWithTx,
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
from .faults import SignalFaults

__all__ = ["StreamEndpoint"]

logger = logging.getLogger(__name__)

_CLOSE_TIMEOUT = 2.0
"""Seconds a client gets to answer the close frame at shutdown before its TCP stream is cut."""
_MAX_LAG = 1.0
"""Seconds the ticker may fall behind (a stalled machine) before it stops catching up."""

Routed = List[Tuple[str, ServerMessage]]
"""Messages with the API key of the account each belongs to."""


class _Session:
    """One configured connection: its account, its id and its outgoing queue."""

    def __init__(self, conn: ServerConnection, api_key: str, session_id: int) -> None:
        self.conn = conn
        self.api_key = api_key
        self.session_id = session_id
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    def put(self, frames: Iterable[str]) -> None:
        for frame in frames:
            self.queue.put_nowait(frame)


class StreamEndpoint:
    """Serves the stream; the callbacks reach the simulator's accounts and clock."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        limits: Limits,
        tick_seconds: float,
        on_configure: Callable[[str, Configure, int], List[ServerMessage]],
        on_tick: Callable[[], Routed],
        on_command: Callable[[str, Any], List[ServerMessage]],
        is_registered: Callable[[str], bool],
        now_ms: Callable[[], int],
        accepts_key: Callable[[str], bool] = bool,
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
        self.signal_faults = SignalFaults()
        self._held: List[Tuple[_Session, str]] = []
        self._on_configure = on_configure
        self._on_tick = on_tick
        self._on_command = on_command
        self._is_registered = is_registered
        self._accepts_key = accepts_key
        self._now_ms = now_ms
        self._live: Dict[str, List[_Session]] = {}
        self._sessions = 0
        self._stop_lock = threading.Lock()
        self._stopped = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="lasersell-sim-stream", daemon=True)
        self._thread.start()
        try:
            self._server, self._ticker = self._call(self._start(host, port))
        except BaseException:  # e.g. the port is taken: leave no loop thread behind
            self._end_loop()
            raise
        self.port: int = self._server.sockets[0].getsockname()[1]

    async def _start(self, host: str, port: int) -> Tuple[Any, asyncio.Task[None]]:
        server = await serve(
            self._handle,
            host,
            port,
            process_request=self._check_auth,
            max_size=1 << 20,
            close_timeout=_CLOSE_TIMEOUT,
        )
        return server, self._loop.create_task(self._tick_loop())

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
            self._ticker.cancel()
            for session in self._all_sessions():  # a silenced link must still read the client's close frame
                session.conn.transport.resume_reading()
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

    def live_sessions(self) -> int:
        """Configured connections now open (counted on the loop, which owns them)."""

        async def count() -> int:
            return len(self._all_sessions())

        return 0 if self._stopped else int(self._call(count()))

    def _all_sessions(self) -> List[_Session]:
        return [session for sessions in self._live.values() for session in sessions]

    # -- fault switches and pushes (any thread) ---------------------------------------------

    def push_raw(self, frames: List[str]) -> None:
        """Send frames verbatim (malformed ones too) to every live session."""

        def put() -> None:
            for session in self._all_sessions():
                session.put(frames)

        self._soon(put)

    def drop_connections(self) -> None:
        """Abort every session's TCP stream (no close frame); they stop counting at once."""

        def abort() -> None:
            sessions = self._all_sessions()
            self._live.clear()  # a client reconnecting right away is not refused as a second session
            for session in sessions:
                session.conn.transport.abort()

        self._soon(abort)

    def go_silent(self, silent: bool = True) -> None:
        """Stop (or resume) reading and sending without closing: a half-open link for bots to detect."""
        self.silent = silent

        def apply() -> None:
            for session in self._all_sessions():
                (session.conn.transport.pause_reading if silent else session.conn.transport.resume_reading)()

        self._soon(apply)

    def _soon(self, callback: Callable[[], None]) -> None:
        if self._stopped:
            return
        with contextlib.suppress(RuntimeError):  # stop() closed the loop just now: nobody to reach
            self._loop.call_soon_threadsafe(callback)

    # -- the clock --------------------------------------------------------------------------

    async def _tick_loop(self) -> None:
        """One tick per ``tick_seconds``, on a fixed schedule so simulated time keeps pace."""
        loop = self._loop
        next_at = loop.time()
        while True:
            next_at += self.tick_seconds
            delay = next_at - loop.time()
            if delay < -_MAX_LAG:
                next_at = loop.time()
            await asyncio.sleep(max(0.0, delay))
            try:
                routed = self._on_tick()
            except Exception:  # a bug in the market must not stop the clock
                logger.exception("simulator tick failed")
                continue
            if not self.silent:
                self._route(routed)

    def _route(self, routed: Routed) -> None:
        for api_key, message in routed:
            sessions = self._live.get(api_key)
            if sessions:
                frame = encode_server(message)
                for session in sessions:
                    self._send(session, message, frame)

    def _send(self, session: _Session, message: ServerMessage, frame: str) -> None:
        """Queue one frame; an exit signal may be sent twice or held back (``signal_faults``)."""
        copies, held = self.signal_faults.plan() if isinstance(message, ExitSignalWithTx) else (1, False)
        for _ in range(copies):
            if held:
                self._held.append((session, frame))
            else:
                session.queue.put_nowait(frame)

    def release_signals(self) -> int:
        """Queue every held exit signal (to its session, if still connected); returns how many."""

        async def release() -> int:
            held, self._held = self._held, []
            for session, frame in held:
                session.queue.put_nowait(frame)
            return len(held)

        return 0 if self._stopped else int(self._call(release()))

    # -- protocol ---------------------------------------------------------------------------

    def _check_auth(self, connection: ServerConnection, request: Any) -> Any:
        api_key = request.headers.get("x-api-key")
        if self.reject_auth or not api_key:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "missing or invalid API key\n")
        if not self._accepts_key(api_key):  # a key the account does not know, as the service says it
            response = connection.respond(HTTPStatus.UNAUTHORIZED, '{"error":"invalid api key"}')
            del response.headers["Content-Type"]
            response.headers["Content-Type"] = "application/json"
            return response
        return None

    def _session_problem(self, api_key: str) -> Optional[ErrorMessage]:
        limit = self.limits.max_sessions_per_api_key
        live = [s for s in self._live.get(api_key, ()) if s.conn.state is State.OPEN]
        if limit and len(live) >= limit:
            return ErrorMessage(code="capacity_exceeded", message="max_sessions_per_api_key limit reached")
        return None

    async def _handle(self, conn: ServerConnection) -> None:
        self._sessions += 1
        session_id = self._sessions
        api_key = str(conn.request.headers.get("x-api-key", "")) if conn.request is not None else ""
        session: Optional[_Session] = None
        try:
            refused = self._session_problem(api_key)
            if refused is None and self.hello_first:
                await conn.send(encode_server(self._hello(session_id)))
            configure = await self._read_configure(conn) if refused is None else None
            if configure is None and refused is None:
                return
            refused = refused or self._session_problem(api_key)
            if refused is not None:
                await conn.send(encode_server(refused))
                return
            assert configure is not None
            hello = encode_server(self._hello(session_id))  # the time before this configure counts
            # From the registration to the queued announcements nothing awaits: no tick can slip
            # in between, so the session hears its positions before anything about them.
            session = _Session(conn, api_key, session_id)
            self._live.setdefault(api_key, []).append(session)
            if self._replay is None:
                session.put(encode_server(m) for m in self._on_configure(api_key, configure, session_id))
            if not self.hello_first:
                await conn.send(hello)  # first on the wire: the queue is not being sent yet
            helpers = [self._loop.create_task(self._pump(session))]
            if self._replay is not None:
                helpers.append(self._loop.create_task(self._play(session, self._replay)))
            try:
                async for frame in conn:
                    self._command(session, frame)
            finally:
                for helper in helpers:
                    helper.cancel()
        except Exception:  # the client went away
            logger.debug("simulator connection ended", exc_info=True)
        finally:
            if session is not None:
                with contextlib.suppress(ValueError):
                    self._live.get(api_key, []).remove(session)

    def _hello(self, session_id: int) -> HelloOk:
        return HelloOk(session_id=session_id, server_time_ms=self._now_ms(), limits=self.limits)

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

    def _command(self, session: _Session, frame: Any) -> None:
        try:
            message = decode_client(frame)
        except ProtocolError as exc:
            session.put([encode_server(ErrorMessage(code="invalid_message", message=str(exc)))])
            return
        if isinstance(message, Configure):
            session.put([encode_server(ErrorMessage(code="invalid_message", message="already configured"))])
            return
        problem = None
        if isinstance(message, UpdateStrategy):
            problem = self._strategy_problem(message.strategy)
        elif isinstance(message, UpdateWallets):
            problem = self._wallets_problem(list(message.wallet_pubkeys))
        elif isinstance(message, UpdateWatchWallets):
            problem = self._watch_problem(len(message.watch_wallets))
        replies = [problem] if problem is not None else self._on_command(session.api_key, message)
        for reply in replies:
            self._send(session, reply, encode_server(reply))

    async def _pump(self, session: _Session) -> None:
        """Send the session's queue in order (``extra_delay`` before each frame)."""
        try:
            while True:
                frame = await session.queue.get()
                if self.extra_delay:
                    await asyncio.sleep(self.extra_delay)
                await session.conn.send(frame)
        except ConnectionClosed:  # the client left, or the simulator is stopping
            return

    async def _play(self, session: _Session, frames: List[Tuple[float, str]]) -> None:
        """Queue a recording with its original spacing divided by ``replay_speed``."""
        previous = None
        for at, frame in frames:
            if '"type":"hello_ok"' in frame[:20]:
                continue  # this connection has its own hello_ok
            if previous is not None and at > previous:
                await asyncio.sleep((at - previous) / self._replay_speed)
            previous = at
            session.put([frame])
