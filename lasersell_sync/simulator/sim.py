"""``Simulator``: the embedded LaserSell service (stream, Exit API, RPC) on 127.0.0.1."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

from solders.keypair import Keypair

from ..proto import Limits
from ..stream.recording import read_recording
from .accounts import Accounts
from .chain import Settlement
from .engine import MarketEngine
from .faults import Faults, RpcFaults
from .http_server import HttpEndpoint
from .market import SCENARIOS
from .rpc import answer
from .stream_server import StreamEndpoint
from .world import World

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
    """A deterministic stand-in for LaserSell (stream, Exit API, chain RPC). Use as a context manager.

    Args:
        seed: same seed and scenario, same market: the same positions (token, size, entry)
            with the same price paths, swaps and liquidity, whatever the bot does and however
            fast; only the bot's own fills differ (and the same sequence of submissions gets the
            same transaction faults). ``docs/simulator.md`` says exactly what is fixed.
        scenario: one of ``pump``, ``dump``, ``rug``, ``sideways``, ``grind``, ``graduation``,
            ``mixed``.
        speed: simulated seconds per wall second (10: a 100 ms tick every 10 ms, a 400 ms slot
            every 40 ms).
        open_every_ticks: how often (in price ticks) a new position appears.
        max_positions: how many positions are open at once, at most.
        require_registration: refuse unregistered wallets like the service does (the funded
            test wallet is pre-registered).
        hello_first: greet before reading ``configure`` (the documented order).
        replay: instead of a live market, send each connection the frames of this session
            recording (``StreamSession(record_to=...)``).
        replay_speed: play the recording this many times faster than it was recorded.
        blockhash_ttl_slots: how many slots the blockhash of every transaction the simulator
            builds stays valid (150 as on mainnet; a small number makes expiry quick to test).
        api_keys: ``None`` accepts any non-empty API key (each key is its own account); a
            collection of strings accepts only those, like the service: any other key gets HTTP
            401 ``{"error": "invalid api key"}`` on the stream upgrade and on every ``/v1/`` call.
            :attr:`api_key` is then the first key given.

    Transactions sent to ``rpc_url`` land at a later slot (:mod:`.chain` documents when, and the
    on-chain errors); :meth:`settlements` lists what landed, :meth:`wait_for_settlement` waits
    for one, ``faults`` breaks things on purpose, :meth:`pause` freezes simulated time.

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
        blockhash_ttl_slots: int = 150,
        api_keys: Optional[Iterable[str]] = None,
    ) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r} (expected one of {', '.join(SCENARIOS)})")
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number, not {speed!r}")
        if not (math.isfinite(replay_speed) and replay_speed > 0):
            raise ValueError(f"replay_speed must be a positive number, not {replay_speed!r}")
        accepted = _accepted_keys(api_keys)
        if accepted:
            self.api_key = accepted[0]
        self.seed = seed
        self.scenario = scenario
        self.wallet = Keypair.from_seed(bytes([seed % 256]) * 32)
        self._limits = limits
        self._world = World(
            seed=seed,
            scenario=scenario,
            tick_ms=limits.pnl_flush_ms,
            ttl_slots=blockhash_ttl_slots,
            engine_options={"open_every_ticks": open_every_ticks, "max_positions": max_positions},
        )
        self.blockhash_ttl_slots = blockhash_ttl_slots
        self._accounts = Accounts(
            limits=limits,
            api_keys=None if accepted is None else frozenset(accepted),
            require_registration=require_registration,
            registered=[str(self.wallet.pubkey())],
        )
        self._host = host
        self._ports = (stream_port, http_port)
        self._speed = speed
        self._hello_first = hello_first
        self._stream: Optional[StreamEndpoint] = None
        self._replay = read_recording(replay) if replay is not None else None
        self._replay_speed = replay_speed
        self._http: Optional[HttpEndpoint] = None
        self._faults: Optional[Faults] = None
        self._rpc_faults: Optional[RpcFaults] = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Simulator:
        """Open the stream, Exit API and RPC endpoints; raises OSError if a port cannot be bound.

        A stopped simulator can be started again (same market and chain, new connections).
        """
        if self._stream is not None:
            raise RuntimeError("the simulator is already running")
        world = self._world
        rpc_faults = RpcFaults(world.touch_waiters)
        tick_seconds = self._limits.pnl_flush_ms / 1000 / self._speed
        try:
            stream = StreamEndpoint(
                host=self._host,
                port=self._ports[0],
                limits=self._limits,
                tick_seconds=tick_seconds,
                on_configure=world.configure,
                on_tick=world.tick,
                on_command=world.command,
                is_registered=self._accounts.is_registered,
                now_ms=world.now_ms,
                accepts_key=self._accounts.accepts,
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
                build_sell=world.build_sell,
                build_buy=world.build_buy,
                rpc=lambda body: answer(body, world),
                accounts=self._accounts,
                trades=world.trades,
                rpc_faults=rpc_faults,
                on_call=world.called,
            )
        except BaseException as exc:  # e.g. the HTTP port is taken: do not leave the stream running
            stream.stop()
            if isinstance(exc, OSError):
                raise _bind_error(exc, "Exit API/RPC", self._host, self._ports[1]) from exc
            raise
        self._stream, self._http, self._rpc_faults = stream, http, rpc_faults
        self._faults = Faults(stream, world.chain.faults, world.lock, world.move_price, rpc_faults)
        logger.info("simulator up: stream %s, api %s, rpc %s", self.stream_url, self.api_url, self.rpc_url)
        return self

    def stop(self) -> None:
        """Close every client connection (1001 going away) and free the ports.

        Idempotent: stopping a stopped (or never started) simulator does nothing, so ``stop()``
        inside a ``with`` block, or ``close()`` after ``stop()``, is fine.
        """
        stream, http, rpc_faults = self._stream, self._http, self._rpc_faults
        self._stream = self._http = None
        self._faults = self._rpc_faults = None
        if rpc_faults is not None:
            rpc_faults.stop()  # held requests end, so the HTTP server can join its threads
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
        """The JSON-RPC URL for ``SendTargetRpc`` and ``getSignatureStatuses`` (only while running)."""
        return self.api_url + "/rpc"

    @property
    def live_sessions(self) -> int:
        """Stream sessions connected now (only while running): a restarted bot waits for 0."""
        return int(self._endpoint(self._stream).live_sessions())

    def rpc_url_for(self, label: str) -> str:
        """The same RPC at another URL (``.../rpc/<label>``), so a fault can hit one target only."""
        if not label or not label.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"label must be letters, digits, '-' or '_', got {label!r}")
        return f"{self.rpc_url}/{label}"

    @property
    def faults(self) -> Faults:
        """Fault switches (only while running): ``drop_connections()``, ``go_silent()``,
        ``push_raw(frames)``, ``reject_auth = True``, ``extra_delay = seconds``,
        ``drop_transactions(rate, count)``, ``fail_transactions(rate, count)``,
        ``land_late(seconds, count)``, ``duplicate_signals(count)``, ``hold_signals(count)``,
        ``release_signals()``, ``fail_rpc``/``hang_rpc``/``heal_rpc`` and ``move_price(factor, position_id)``."""
        faults: Faults = self._endpoint(self._faults)
        return faults

    @staticmethod
    def _endpoint(endpoint: Any) -> Any:
        if endpoint is None:
            raise RuntimeError("the simulator is not running; use start() or a with block")
        return endpoint

    @property
    def registered_wallets(self) -> List[str]:
        """The wallets registered through the Exit API (and the funded one), in that order."""
        return self._accounts.wallets()

    # -- markets, clock and chain ---------------------------------------------------------

    @property
    def engine(self) -> Optional[MarketEngine]:
        """The market of the first account (API key) that configured a session, if any."""
        with self._world.lock:
            return next(iter(self._world.engines.values()), None)

    @property
    def engines(self) -> Dict[str, MarketEngine]:
        """Every account's market, by API key."""
        with self._world.lock:
            return dict(self._world.engines)

    @property
    def slot(self) -> int:
        """The current simulated slot (one per 400 ms of simulated time)."""
        with self._world.lock:
            return self._world.chain.clock.slot

    @property
    def now_ms(self) -> int:
        """Simulated time, Unix ms (``hello_ok``/``pong``/``pnl_update`` carry it)."""
        return self._world.now_ms()

    def pause(self) -> None:
        """Freeze simulated time: no ticks, no new slots, nothing lands, until :meth:`resume`.

        The endpoints keep answering, so a test can stage submissions deterministically.
        """
        self._world.set_paused(True)

    def resume(self) -> None:
        """Let simulated time run again after :meth:`pause`."""
        self._world.set_paused(False)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait until ``predicate()`` is true, re-checking after each tick, submission and RPC call.

        Returns False on timeout. Use it instead of sleeping: e.g.
        ``sim.wait_for(lambda: sim.slot > last_valid)``.
        """
        return self._world.wait_for(predicate, timeout)

    def rpc_calls(self, method: str) -> int:
        """How many JSON-RPC requests for ``method`` arrived (``sim.wait_for`` sees each one);
        ``"ping"`` counts ``GET /ping`` (Helius Sender's warm-up)."""
        with self._world.lock:
            return self._world.rpc_calls.get(method, 0)

    def commands_received(self, kind: str) -> int:
        """How many client commands of type ``kind`` (e.g. ``request_exit_signal``) the stream got."""
        with self._world.lock:
            return self._world.commands.get(kind, 0)

    def settlements(self, successful_only: bool = False) -> List[Settlement]:
        """Every landed transaction in landing order, failed ones too (their ``err`` is set).

        ``successful_only=True`` keeps those that succeeded on chain; for the tokens a
        position really sold, sum ``tokens`` of the successful ``kind == "sell"`` ones.
        """
        with self._world.lock:
            settled = self._world.chain.settlements()
        return [s for s in settled if s.ok] if successful_only else settled

    def wait_for_settlement(self, signature: str, timeout: float = 10.0) -> Optional[Settlement]:
        """The settlement of ``signature`` once it lands; None if it has not within ``timeout``."""
        chain = self._world.chain

        def landed() -> bool:
            with self._world.lock:
                return chain.settlement(signature) is not None

        self.wait_for(landed, timeout)
        with self._world.lock:
            return chain.settlement(signature)

    def transaction_state(self, signature: str) -> Optional[str]:
        """``pending``, ``landed``, ``dropped`` (fault) or ``expired`` (blockhash too old; it
        will never land); None if the RPC never accepted it."""
        with self._world.lock:
            return self._world.chain.state(signature)


def _accepted_keys(api_keys: Optional[Iterable[str]]) -> Optional[List[str]]:
    """The accepted keys in the order given (None: any key); a bare string is refused, not split."""
    if api_keys is None:
        return None
    if isinstance(api_keys, (str, bytes)):
        raise TypeError("api_keys must be a collection of strings (e.g. a list), not a single string")
    keys = list(api_keys)
    if not keys:
        raise ValueError("api_keys must hold at least one key (None accepts any non-empty key)")
    for key in keys:
        if not isinstance(key, str) or not key:
            raise ValueError("api_keys must hold non-empty strings")
    return keys


def _bind_error(exc: OSError, what: str, host: str, port: int) -> OSError:
    """The same kind of OSError, saying which endpoint could not listen where."""
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return OSError(exc.errno, f"cannot listen on {host}:{port} for the {what} endpoint: {reason}")
