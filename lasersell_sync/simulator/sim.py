"""``Simulator``: the embedded LaserSell service (stream, Exit API, RPC) on 127.0.0.1."""

from __future__ import annotations

import logging
import math
import os
import threading
from pathlib import Path
from typing import Any, List, Optional, Set, Union

from solders.keypair import Keypair

from ..proto import ClientMessage, Configure, Limits, ServerMessage
from ..stream.recording import read_recording
from .engine import MarketEngine
from .http_server import HttpEndpoint
from .market import SCENARIOS
from .stream_server import StreamEndpoint
from .txbuild import build_unsigned

__all__ = ["DEFAULT_LIMITS", "Simulator"]

logger = logging.getLogger(__name__)

DEFAULT_LIMITS = Limits(
    hi_capacity=256,
    pnl_flush_ms=100,
    max_positions_per_session=500,
    max_wallets_per_session=5,
    max_positions_per_wallet=100,
    max_sessions_per_api_key=1,
    max_watch_wallets_per_session=10,
)


class Simulator:
    """A deterministic stand-in for LaserSell. Use as a context manager.

    Args:
        seed: same seed and scenario, same market.
        scenario: one of ``pump``, ``dump``, ``rug``, ``sideways``, ``grind``, ``graduation``,
            ``mixed``.
        speed: simulated seconds per wall second (10: a 100 ms tick every 10 ms).
        open_every_ticks / max_positions: how often positions appear, and how many at once.
        require_registration: refuse unregistered wallets like the service does (the funded
            test wallet is pre-registered).
        hello_first: greet before reading ``configure`` (the documented order).
        replay / replay_speed: instead of a live market, send each connection the frames of a
            session recording (``StreamSession(record_to=...)``), ``replay_speed`` times faster.

    Example:
        >>> with Simulator(seed=1, scenario="pump") as sim:
        ...     session = StreamSession(sim.api_key, [sim.wallet_pubkey], strategy, endpoint=sim.stream_url)
    """

    api_key = "sim-api-key"

    def __init__(
        self,
        *,
        seed: int = 1,
        scenario: str = "mixed",
        speed: float = 10.0,
        limits: Limits = DEFAULT_LIMITS,
        open_every_ticks: int = 20,
        max_positions: int = 5,
        require_registration: bool = False,
        hello_first: bool = False,
        host: str = "127.0.0.1",
        stream_port: int = 0,
        http_port: int = 0,
        replay: Optional[Union[str, Path]] = None,
        replay_speed: float = 1.0,
    ) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r} (expected one of {', '.join(SCENARIOS)})")
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number, not {speed!r}")
        if not (math.isfinite(replay_speed) and replay_speed > 0):
            raise ValueError(f"replay_speed must be a positive number, not {replay_speed!r}")
        self.seed = seed
        self.scenario = scenario
        self.wallet = Keypair.from_seed(bytes([seed % 256]) * 32)
        self._limits = limits
        self._engine_options = {"open_every_ticks": open_every_ticks, "max_positions": max_positions}
        self._require_registration = require_registration
        self._registered: Set[str] = {str(self.wallet.pubkey())}
        self._lock = threading.Lock()
        self.engine: Optional[MarketEngine] = None
        self._nonce = 0
        self._host = host
        self._ports = (stream_port, http_port)
        self._speed = speed
        self._hello_first = hello_first
        self._stream: Optional[StreamEndpoint] = None
        self._replay = read_recording(replay) if replay is not None else None
        self._replay_speed = replay_speed
        self._http: Optional[HttpEndpoint] = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Simulator:
        """Open the stream, Exit API and RPC endpoints; raises OSError if a port cannot be bound.

        A stopped simulator can be started again (same market, new connections).
        """
        if self._stream is not None:
            raise RuntimeError("the simulator is already running")
        tick_seconds = self._limits.pnl_flush_ms / 1000 / self._speed
        try:
            stream = StreamEndpoint(
                host=self._host,
                port=self._ports[0],
                limits=self._limits,
                tick_seconds=tick_seconds,
                on_configure=self._configure,
                on_tick=self._tick,
                on_command=self._command,
                is_registered=self._is_registered,
                hello_first=self._hello_first,
                replay=self._replay,
                replay_speed=self._replay_speed,
            )
        except OSError as exc:
            raise _bind_error(exc, "stream", self._host, self._ports[0]) from exc
        try:
            http = HttpEndpoint(
                host=self._host,
                port=self._ports[1],
                build_sell=self._build_sell,
                build_buy=self._build_buy,
                settle=self._settle,
                register=self._registered.add,
            )
        except BaseException as exc:  # e.g. the HTTP port is taken: do not leave the stream running
            stream.stop()
            if isinstance(exc, OSError):
                raise _bind_error(exc, "Exit API/RPC", self._host, self._ports[1]) from exc
            raise
        self._stream, self._http = stream, http
        logger.info("simulator up: stream %s, api %s, rpc %s", self.stream_url, self.api_url, self.rpc_url)
        return self

    def stop(self) -> None:
        """Close every client connection (1001 going away) and free the ports.

        Idempotent: stopping a stopped (or never started) simulator does nothing, so ``stop()``
        inside a ``with`` block, or ``close()`` after ``stop()``, is fine.
        """
        stream, http = self._stream, self._http
        self._stream = self._http = None
        try:
            if stream is not None:
                stream.stop()
        finally:
            if http is not None:
                http.stop()
        if stream is not None:
            logger.info("simulator stopped")

    def close(self) -> None:
        """Same as :meth:`stop`, for code that closes what it opens."""
        self.stop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def wallet_pubkey(self) -> str:
        """The funded test wallet's public key, for ``wallet_pubkeys`` and the Exit API."""
        return str(self.wallet.pubkey())

    @property
    def stream_url(self) -> str:
        """The stream endpoint to pass as ``endpoint=`` (only while running)."""
        return f"ws://{self._host}:{self._endpoint(self._stream).port}/v1/ws"

    @property
    def api_url(self) -> str:
        """The Exit API base URL to pass as ``base_url=`` (only while running)."""
        return f"http://{self._host}:{self._endpoint(self._http).port}"

    @property
    def rpc_url(self) -> str:
        """The JSON-RPC URL for ``SendTargetRpc`` (only while running)."""
        return self.api_url + "/rpc"

    @property
    def faults(self) -> StreamEndpoint:
        """Fault switches: ``drop_connections()``, ``go_silent()``, ``push_raw(frames)``,
        ``reject_auth = True``, ``extra_delay = seconds``."""
        stream: StreamEndpoint = self._endpoint(self._stream)
        return stream

    @staticmethod
    def _endpoint(endpoint: Any) -> Any:
        if endpoint is None:
            raise RuntimeError("the simulator is not running; use start() or a with block")
        return endpoint

    # -- engine callbacks (thread-safe) ---------------------------------------------------

    def _is_registered(self, wallet: str) -> bool:
        return not self._require_registration or wallet in self._registered

    def _configure(self, configure: Configure, session_id: int) -> List[ServerMessage]:
        with self._lock:
            if self.engine is None:
                self.engine = MarketEngine(
                    seed=self.seed,
                    scenario=self.scenario,
                    session_id=session_id,
                    configure=configure,
                    tick_ms=self._limits.pnl_flush_ms,
                    **self._engine_options,
                )
                return []
            engine = self.engine  # a reconnect: same market, re-announce open positions
            engine.session_id = session_id
            engine.wallets = list(configure.wallet_pubkeys)
            engine.strategy = configure.strategy
            return [message for position in engine.positions.values() for message in engine.announce(position)]

    def _tick(self) -> List[ServerMessage]:
        with self._lock:
            messages = self.engine.tick() if self.engine is not None else []
        _log(messages)
        return messages

    def _command(self, message: ClientMessage) -> List[ServerMessage]:
        with self._lock:
            return self.engine.command(message) if self.engine is not None else []

    def _settle(self, kind: str, position_id: int, tokens: int) -> bool:
        with self._lock:
            if self.engine is None:
                return position_id == 0  # untracked Exit API transactions before any session
            messages = self.engine.settle(kind, position_id, tokens)
        if messages is None:
            return False
        _log(messages)
        stream = self._stream
        if stream is not None:  # None: the simulator is stopping
            stream.push(messages)
        return True

    def _build_sell(self, user: str, mint: str, amount: int) -> str:
        with self._lock:
            if self.engine is None:
                self._nonce += 1
                return build_unsigned(user, "sell", 0, amount, 10**9 + self._nonce)
            return self.engine.manual_sell(user, mint, amount)

    def _build_buy(self, user: str, mint: str, lamports: int) -> str:
        with self._lock:
            self._nonce += 1
            return build_unsigned(user, "buy", 0, lamports, 10**9 + self._nonce)


def _bind_error(exc: OSError, what: str, host: str, port: int) -> OSError:
    """The same kind of OSError, saying which endpoint could not listen where."""
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return OSError(exc.errno, f"cannot listen on {host}:{port} for the {what} endpoint: {reason}")


_NOTABLE = {
    "position_opened": lambda m: (
        f"position #{m.position_id} opened: {m.token_symbol}, entry {m.entry_quote_units / 1e9:.3f} SOL"
    ),
    "exit_signal_with_tx": lambda m: f"exit signal #{m.position_id}: {m.reason}",
    "position_closed": lambda m: f"position #{m.position_id} closed: {m.reason}",
    "mirror_buy_signal": lambda m: f"mirror buy signal: {m.watched_wallet[:8]} bought {m.mint[:8]}",
    "mirror_buy_failed": lambda m: f"mirror buy failed: {m.reason}",
    "mirror_wallet_auto_disabled": lambda m: (
        f"watched wallet {m.watched_wallet[:8]} disabled after {m.loss_count} losses"
    ),
}


def _log(messages: List[ServerMessage]) -> None:
    """A readable log line for each notable event (the standalone simulator shows INFO)."""
    if logger.isEnabledFor(logging.INFO):
        for message in messages:
            describe = _NOTABLE.get(getattr(message, "TYPE", ""))
            if describe is not None:
                logger.info("%s", describe(message))
