"""The simulator's state behind its endpoints: the chain, one market per account, one lock.

Every endpoint thread calls in here and each call holds the lock, so the stream, the Exit API
and the RPC see one consistent world. An account is an API key: its market (a
:class:`MarketEngine`) is created by its first ``configure`` and lives on across sessions. The
first account's market is seeded with the simulator's seed, so a single-account run is
deterministic, as before accounts existed.

Simulated time starts with the first request that needs it (a ``configure``, an Exit API build or
any RPC call); until then it stands at genesis, so the first session's frames depend only on the
seed. From then on every tick advances it, lands due transactions, then moves every market.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from solders.transaction import VersionedTransaction

from ..proto import ClientMessage, Configure, ServerMessage
from .chain import FORCED_FAILURE_ERROR, Chain, Landing, Settlement, TxIntent
from .engine import MarketEngine, untracked_sell
from .positions import trade_record
from .rpc import RpcBackend

__all__ = ["Routed", "World"]

logger = logging.getLogger(__name__)

Routed = List[Tuple[str, ServerMessage]]


class World(RpcBackend):
    """Chain + markets + the lock that serialises them; the endpoints' callbacks."""

    def __init__(
        self, *, seed: int, scenario: str, tick_ms: int, ttl_slots: int, engine_options: Dict[str, Any]
    ) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.generation = 0  # bumped on every change a waiter may care about
        self.chain = Chain(seed=seed, ttl_slots=ttl_slots)
        self.engines: Dict[str, MarketEngine] = {}
        self.paused = False
        self.rpc_calls: Dict[str, int] = {}  # JSON-RPC requests per method
        self.commands: Dict[str, int] = {}  # client commands per type
        self._seed = seed
        self._scenario = scenario
        self._tick_ms = tick_ms
        self._engine_options = engine_options

    def _touch(self) -> None:
        """Start simulated time (first use) and wake waiters; call with the lock held."""
        self.chain.clock.running = True
        self.generation += 1
        self.changed.notify_all()

    def now_ms(self) -> int:
        """Simulated time, for ``hello_ok``."""
        with self.lock:
            return self.chain.clock.now_ms

    # -- stream --------------------------------------------------------------------------------

    def configure(self, api_key: str, configure: Configure, session_id: int) -> List[ServerMessage]:
        """A session configured: create its account's market, or re-announce what it tracks."""
        with self.lock:
            self._touch()
            engine = self.engines.get(api_key)
            if engine is not None:
                return engine.reconfigure(configure, session_id)
            index = len(self.engines)
            self.engines[api_key] = MarketEngine(
                seed=self._seed if index == 0 else self._seed * 1_000_003 + index,
                scenario=self._scenario,
                session_id=session_id,
                configure=configure,
                tick_ms=self._tick_ms,
                chain=self.chain,
                account=api_key,
                **self._engine_options,
            )
            return []

    def tick(self) -> Routed:
        """One flush interval of simulated time: land what is due, then move every market."""
        routed: Routed = []
        with self.lock:
            if self.paused or not self.chain.clock.running:
                return routed
            self.chain.clock.advance(self._tick_ms)

            def apply(intent: TxIntent, fail: bool) -> Landing:
                engine = self.engines.get(intent.account)
                if engine is None:  # built by the Exit API for an account with no market yet
                    return _untracked(intent, fail)
                landing, messages = engine.land(intent, fail)
                routed.extend((intent.account, message) for message in messages)
                return landing

            landed = self.chain.land_due(apply)
            for api_key, engine in self.engines.items():
                routed.extend((api_key, message) for message in engine.tick())
            self.generation += 1
            self.changed.notify_all()
        _log_landed(landed)
        _log(routed)
        return routed

    def command(self, api_key: str, message: ClientMessage) -> List[ServerMessage]:
        """A client command of a session of ``api_key``."""
        with self.lock:
            self.commands[message.TYPE] = self.commands.get(message.TYPE, 0) + 1
            self.generation += 1
            self.changed.notify_all()
            engine = self.engines.get(api_key)
            return engine.command(message) if engine is not None else []

    # -- Exit API ------------------------------------------------------------------------------

    def build_sell(self, api_key: str, user: str, mint: str, tokens: int, slippage_bps: int) -> Tuple[str, str]:
        """``/v1/sell``: tracked when it names an open position of the account."""
        with self.lock:
            self._touch()
            engine = self.engines.get(api_key)
            if engine is not None:
                return engine.manual_sell(user, mint, tokens, slippage_bps)
            return untracked_sell(self.chain, api_key, user, mint, tokens, slippage_bps), "pump_fun"

    def build_buy(self, api_key: str, user: str, mint: str, lamports: int, slippage_bps: int) -> str:
        """``/v1/buy``: an untracked buy (the stream discovers positions itself)."""
        with self.lock:
            self._touch()
            intent = TxIntent(
                kind="buy",
                wallet=user,
                account=api_key,
                ref_id=0,
                amount=lamports,
                slippage_bps=slippage_bps,
                mint=mint,
            )
            return self.chain.build(intent)

    def trades(self, api_key: str) -> List[Dict[str, Any]]:
        """``/v1/history``: the account's closed positions as trade records, most recent first."""
        with self.lock:
            engine = self.engines.get(api_key)
            closed = list(engine.closed) if engine is not None else []
            return [trade_record(position, index + 1) for index, position in reversed(list(enumerate(closed)))]

    # -- RPC -------------------------------------------------------------------------------------

    def send_transaction(self, tx: VersionedTransaction, preflight: bool) -> str:
        """Accept a verified transaction for a later slot."""
        with self.lock:
            self._touch()
            return self.chain.submit(tx, preflight=self._simulate if preflight else None)

    def _simulate(self, intent: TxIntent) -> Optional[Dict[str, Any]]:
        engine = self.engines.get(intent.account)
        return engine.land(intent, dry_run=True)[0].err if engine is not None else None

    def called(self, method: str) -> None:
        """Count a JSON-RPC request and wake waiters (even while paused)."""
        with self.lock:
            self.rpc_calls[method] = self.rpc_calls.get(method, 0) + 1
            self.generation += 1
            self.changed.notify_all()

    def signature_statuses(
        self, signatures: List[str], search_history: bool
    ) -> Tuple[int, List[Optional[Dict[str, Any]]]]:
        """Statuses in the request's order."""
        with self.lock:
            self._touch()
            return self.chain.clock.slot, [self.chain.status(s, search_history) for s in signatures]

    def blockhash_valid(self, blockhash: str) -> Tuple[int, bool]:
        """Whether a blockhash can still land a transaction."""
        with self.lock:
            self._touch()
            return self.chain.clock.slot, self.chain.blockhash_valid(blockhash)

    def latest_blockhash(self) -> Tuple[int, str, int]:
        """The current slot's blockhash."""
        with self.lock:
            self._touch()
            blockhash, last_valid = self.chain.latest_blockhash()
            return self.chain.clock.slot, str(blockhash), last_valid

    def slot(self) -> int:
        """The current slot."""
        with self.lock:
            self._touch()
            return self.chain.clock.slot

    # -- test helpers ----------------------------------------------------------------------------

    def move_price(self, factor: float, position_id: Optional[int]) -> int:
        """Multiply open positions' prices in every market."""
        with self.lock:
            moved = sum(engine.move_price(factor, position_id) for engine in self.engines.values())
            self._touch()
            return moved

    def touch_waiters(self) -> None:
        """Something a waiter may care about changed outside the world (e.g. an RPC request is held)."""
        with self.lock:
            self.generation += 1
            self.changed.notify_all()

    def set_paused(self, paused: bool) -> None:
        """Freeze or restart simulated time."""
        with self.lock:
            self.paused = paused
            self.generation += 1
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` (evaluated without the lock) is true after some change."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                seen = self.generation
            if predicate():
                return True
            with self.lock:
                while self.generation == seen:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self.changed.wait(remaining)


def _untracked(intent: TxIntent, fail: bool) -> Landing:
    """An Exit API transaction of an account without a market: it does what it says."""
    if fail:
        return Landing(err=FORCED_FAILURE_ERROR, mint=intent.mint)
    if intent.kind == "sell":
        return Landing(tokens=intent.amount, mint=intent.mint)
    return Landing(quote_units=intent.amount, mint=intent.mint)


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


def _log(routed: Routed) -> None:
    """A readable log line for each notable event (the standalone simulator shows INFO)."""
    if logger.isEnabledFor(logging.INFO):
        for _, message in routed:
            describe = _NOTABLE.get(getattr(message, "TYPE", ""))
            if describe is not None:
                logger.info("%s", describe(message))


def _log_landed(landed: List[Settlement]) -> None:
    if logger.isEnabledFor(logging.INFO):
        for s in landed:
            outcome = "ok" if s.err is None else f"failed {s.err}"
            logger.info(
                "tx %s... landed in slot %d: %s #%d, %d tokens: %s",
                s.signature[:12],
                s.slot,
                s.kind,
                s.position_id,
                s.tokens or s.requested_tokens,
                outcome,
            )
