"""The market engine of one simulated account: synchronous and deterministic.

The simulator calls :meth:`MarketEngine.tick` once per ``pnl_flush_ms`` of simulated time,
:meth:`MarketEngine.command` for each client message and :meth:`MarketEngine.land` when the
chain lands a transaction the engine built. Each returns the server messages to send. Same
seed, scenario and inputs: same messages.

The market itself does not depend on the inputs: the n-th position the market opens has the same
token, size, entry and price path, and its pool the same other traders and depth, whatever the
bot did before. Each position draws from its own generator (keyed by seed, scenario and its
place in the opening order), once per tick of its life. What the bot's trades change is only
the bot's own lot: which positions are still open, what a sell gets (the price at landing) and,
once ``max_positions`` are open, how long the next opening waits.

A session hears only about the wallets it configured: positions of other wallets (an earlier
session's, or wallets removed with ``update_wallets``) keep their tokens and their price moves,
but they produce no messages and no exit signals, and commands cannot select them.
"""

from __future__ import annotations

import random
from typing import Dict, List, Optional, Tuple

import attrs

from ..proto import (
    ClientMessage,
    ClosePosition,
    Configure,
    ExitSignalWithTx,
    Ping,
    PnlUpdate,
    Pong,
    PositionClosed,
    RequestExitSignal,
    ServerMessage,
    UpdatePositionStrategy,
    UpdateStrategy,
    UpdateWallets,
    UpdateWatchWallets,
)
from .chain import FORCED_FAILURE_ERROR, INSUFFICIENT_FUNDS_ERROR, SLIPPAGE_ERROR, Chain, Landing, TxIntent
from .market import keyed_rng, price_steps
from .mirror import MirrorDesk
from .positions import (
    DEFAULT_SLIPPAGE_BPS,
    SPL_TOKEN,
    SimPosition,
    announce,
    balance,
    context,
    liquidity,
    quote_price,
    random_pubkey,
    sell_intent,
    sellable,
    trade,
)
from .strategy import ExitDecision, PositionState, evaluate, refreshed

__all__ = ["DEFAULT_SLIPPAGE_BPS", "SPL_TOKEN", "MarketEngine", "SimPosition", "untracked_sell"]


def untracked_sell(chain: Chain, account: str, wallet: str, mint: str, tokens: int, slippage_bps: int) -> str:
    """An Exit API sell of a token no market tracks: it lands selling what it says (price unknown)."""
    intent = TxIntent(
        kind="sell", wallet=wallet, account=account, ref_id=0, amount=tokens, slippage_bps=slippage_bps, mint=mint
    )
    return chain.build(intent)


class MarketEngine:
    """Positions, prices and exit rules for one account and its session.

    ``chain`` is the simulator's chain (its clock is the simulated time); without one the engine
    makes its own and advances its clock on every tick, which is what unit tests want.
    """

    def __init__(
        self,
        *,
        seed: int,
        scenario: str,
        session_id: int,
        configure: Configure,
        tick_ms: int = 100,
        open_every_ticks: int = 20,
        max_positions: int = 5,
        chain: Optional[Chain] = None,
        account: str = "",
    ) -> None:
        self._seed = seed
        self._scenario = scenario
        self.session_id = session_id
        self.account = account
        self.wallets = list(configure.wallet_pubkeys)
        self.strategy = configure.strategy
        self.chain = chain if chain is not None else Chain(seed=seed)
        self._owns_clock = chain is None
        self._tick_ms = tick_ms
        self._open_every = open_every_ticks
        self._max_positions = max_positions
        self._tick = 0
        self._opened = 0  # positions the market opened (mirror buys are the bot's, not counted)
        self._next_id = 1
        self.positions: Dict[int, SimPosition] = {}
        self.closed: List[SimPosition] = []
        self.mirror = MirrorDesk(seed, build=self._build_buy)
        self.mirror.watch(configure.watch_wallets, configure.mirror_config)

    @property
    def now_ms(self) -> int:
        """Simulated time in milliseconds: deterministic, advanced only by ticks."""
        return self.chain.clock.now_ms

    def _tracked(self, position: SimPosition) -> bool:
        return position.wallet in self.wallets

    # -- time ------------------------------------------------------------------------------

    def tick(self) -> List[ServerMessage]:
        """Advance one flush interval: maybe open a position, move prices, evaluate exits."""
        if self._owns_clock:
            self.chain.clock.advance(self._tick_ms)
        self._tick += 1
        out: List[ServerMessage] = []
        due = self._tick == 1 or self._tick % self._open_every == 0
        tracked = sum(1 for p in self.positions.values() if self._tracked(p))
        if self.wallets and due and tracked < self._max_positions:
            self._opened += 1
            wallet = self.wallets[(self._tick // self._open_every) % len(self.wallets)]
            out.extend(self._open(wallet, keyed_rng(self._seed, self._scenario, "position", self._opened)))
        out.extend(self.mirror.tick(self._tick, self.now_ms, self.session_id))
        for position in list(self.positions.values()):
            graduated_now, trades = self._move(position)  # nobody may listen, but the market moves
            if self._tracked(position):
                out.extend(trades)
                out.extend(self._report(position, graduated_now))
        return out

    def _open(
        self,
        wallet: str,
        rng: random.Random,
        *,
        entry_quote: Optional[int] = None,
        mint: Optional[str] = None,
        mirror_source: Optional[str] = None,
    ) -> List[ServerMessage]:
        """Open a position whose every draw comes from ``rng``, a generator of its own."""
        position_id, self._next_id = self._next_id, self._next_id + 1
        tokens = rng.randint(10**8, 10**10)
        drawn_entry = rng.randint(1, 20) * 50_000_000  # 0.05 .. 1 SOL; drawn always: the same draws
        drawn_mint = random_pubkey(rng)
        entry_quote = entry_quote or drawn_entry
        price = entry_quote / tokens
        position = SimPosition(
            position_id=position_id,
            wallet=wallet,
            mint=mint or drawn_mint,
            token_account=random_pubkey(rng),
            mirror_source=mirror_source,
            entry_quote=entry_quote,
            initial_tokens=tokens,
            state=PositionState(entry_price=price, tokens=tokens),
            steps=price_steps(self._scenario, random.Random(rng.getrandbits(64))),
            flow=random.Random(rng.getrandbits(64)),
            price=price,
            opened_ms=self.now_ms,
            strategy=self.strategy,
        )
        self.positions[position_id] = position
        return self.announce(position) if self._tracked(position) else []

    def announce(self, position: SimPosition) -> List[ServerMessage]:
        """``balance_update`` and ``position_opened`` for a position (at open and on reconnect)."""
        return announce(position, self.chain.clock.slot, context(position, self._scenario))

    def _move(self, position: SimPosition) -> Tuple[bool, List[ServerMessage]]:
        """One tick of the position's market: its price, its pool's depth, other traders' swaps.

        The same draws every tick, from the position's own generators, listened to or not, so
        the next tick (and every other position) does not depend on who was listening.
        """
        step, graduated_now = next(position.steps)
        position.price = _bounded(position, position.price * step)
        position.graduated = position.graduated or graduated_now
        flow = position.flow
        position.depth = min(1.0, max(0.05, position.depth * (1.0 + flow.gauss(0.0, 0.05))))
        now = self.now_ms
        return graduated_now, [trade(position, flow, now) for _ in range(flow.randint(0, 2))]

    def _report(self, position: SimPosition, graduated_now: bool) -> List[ServerMessage]:
        """The tick's ``pnl_update``, ``liquidity_snapshot`` and exit signal for a tracked position."""
        now = self.now_ms
        out: List[ServerMessage] = []
        tokens = position.state.tokens
        out.append(
            PnlUpdate(
                position_id=position.position_id,
                profit_units=round((position.price - position.state.entry_price) * tokens),
                proceeds_units=max(0, int(position.price * tokens)),
                server_time_ms=now,
                token_price_quote=quote_price(position.price),
                watched=position.mirror_source is not None,
            )
        )
        out.append(liquidity(position, now))
        if None not in position.pending:  # a ladder level in flight does not stop the next one
            decision = evaluate(
                position.override or self.strategy,
                position.state,
                position.price,
                graduated=graduated_now,
                sellable_tokens=sellable(position, 500),
            )
            if decision is not None:
                out.append(self._signal(position, decision))
        return out

    # -- sessions and commands -------------------------------------------------------------

    def reconfigure(self, configure: Configure, session_id: int) -> List[ServerMessage]:
        """A new session on this account: its wallets and strategy; re-announce what it tracks."""
        self.session_id = session_id
        self.wallets = list(configure.wallet_pubkeys)
        self.strategy = configure.strategy
        return [message for p in self.positions.values() if self._tracked(p) for message in self.announce(p)]

    def command(self, message: ClientMessage) -> List[ServerMessage]:
        """Apply a client command; returns any direct answer."""
        if isinstance(message, Ping):
            return [Pong(server_time_ms=self.now_ms)]
        if isinstance(message, UpdateStrategy):
            self.strategy = message.strategy
        elif isinstance(message, UpdateWallets):
            added = [w for w in message.wallet_pubkeys if w not in self.wallets]
            self.wallets = list(message.wallet_pubkeys)  # removed wallets: their positions go quiet
            return [m for p in self.positions.values() if p.wallet in added for m in self.announce(p)]
        elif isinstance(message, UpdatePositionStrategy):
            position = self.positions.get(message.position_id)
            if position is not None and self._tracked(position):
                position.override = message.strategy
        elif isinstance(message, ClosePosition):
            position = self._select(message.position_id, message.token_account)
            if position is not None:
                return self._close(position, "client_closed")
        elif isinstance(message, RequestExitSignal):
            position = self._select(message.position_id, message.token_account)
            if position is not None:
                return [self._signal(position, self._refresh(position), message.slippage_bps)]
        elif isinstance(message, UpdateWatchWallets):
            self.mirror.watch(message.watch_wallets)
        return []

    def _refresh(self, position: SimPosition) -> ExitDecision:
        """A requested exit: the oldest pending partial tranche again (a retry), built from the
        tokens held now (:func:`.strategy.refreshed`), else the whole position."""
        pending = next((d for d in position.pending.values() if d.sell_tokens is not None), None)
        if pending is not None:
            strategy = position.override or self.strategy
            return refreshed(pending, strategy, position.state.tokens, sellable(position, 500))
        return ExitDecision("manual")

    def manual_sell(self, wallet: str, mint: str, tokens: int, slippage_bps: int) -> Tuple[str, str]:
        """An Exit API sell and its route's market type; tracked when it names an open position."""
        position = next((p for p in self.positions.values() if p.wallet == wallet and p.mint == mint), None)
        if position is None:
            return untracked_sell(self.chain, self.account, wallet, mint, tokens, slippage_bps), "pump_fun"
        partial = tokens < position.state.tokens
        position.pending[None] = ExitDecision("manual", sell_tokens=tokens if partial else None)
        position.last_reason = "manual"
        market_type = context(position, self._scenario).market_type
        return self._build_sell(position, tokens, slippage_bps), market_type

    def move_price(self, factor: float, position_id: Optional[int] = None) -> int:
        """Multiply open positions' prices (one, or all); returns how many moved."""
        moved = [p for p in self.positions.values() if position_id is None or p.position_id == position_id]
        for position in moved:
            position.price *= factor
        return len(moved)

    # -- the chain -------------------------------------------------------------------------

    def land(self, intent: TxIntent, fail: bool = False, dry_run: bool = False) -> Tuple[Landing, List[ServerMessage]]:
        """What a landed transaction did, and the messages it causes; ``dry_run`` changes nothing."""
        if intent.kind == "buy":
            failed = Landing(err=FORCED_FAILURE_ERROR, mint=intent.mint)
            return (failed, []) if fail else self._land_buy(intent, dry_run)
        where = Landing(position_id=intent.ref_id, mint=intent.mint, token_account=intent.token_account)
        if fail:
            return attrs.evolve(where, err=FORCED_FAILURE_ERROR), []
        if intent.ref_id == 0:
            return attrs.evolve(where, tokens=intent.amount), []  # an Exit API sell of something untracked
        position = self.positions.get(intent.ref_id) or next(
            (p for p in reversed(self.closed) if p.position_id == intent.ref_id), None
        )
        if position is None or intent.amount > position.state.tokens:
            return attrs.evolve(where, err=INSUFFICIENT_FUNDS_ERROR), []
        proceeds = int(position.price * intent.amount)
        if proceeds < intent.min_out:
            return attrs.evolve(where, err=SLIPPAGE_ERROR), []
        landing = attrs.evolve(where, tokens=intent.amount, quote_units=proceeds)
        if dry_run:
            return landing, []
        position.state.tokens -= intent.amount
        position.realized_quote += proceeds
        decision = position.pending.pop(intent.level, None)
        if position.position_id not in self.positions:  # no longer tracked: the tokens just move
            return landing, []
        tracked = self._tracked(position)
        out: List[ServerMessage] = [balance(position, self.chain.clock.slot)] if tracked else []
        if position.state.tokens == 0:
            reason = decision.reason if decision is not None else position.last_reason
            out.extend(self._close(position, reason, announce=tracked))
        return landing, out

    def _land_buy(self, intent: TxIntent, dry_run: bool) -> Tuple[Landing, List[ServerMessage]]:
        if intent.ref_id == 0 or dry_run or intent.ref_id not in self.mirror.pending:
            return Landing(quote_units=intent.amount, mint=intent.mint), []  # an Exit API buy: untracked
        buy = self.mirror.pending.pop(intent.ref_id)
        rng = keyed_rng(self._seed, self._scenario, "mirror", buy.mint)  # the token's, whenever it lands
        out = self._open(buy.user_wallet, rng, entry_quote=buy.amount, mint=buy.mint, mirror_source=buy.watched_wallet)
        position = self.positions[self._next_id - 1]
        self.mirror.opened(buy.watched_wallet, position.position_id)
        landing = Landing(
            tokens=position.initial_tokens,
            quote_units=buy.amount,
            position_id=position.position_id,
            mint=position.mint,
            token_account=position.token_account,
        )
        return landing, out

    def _build_sell(
        self, position: SimPosition, tokens: int, slippage_bps: Optional[int], level: Optional[int] = None
    ) -> str:
        return self.chain.build(sell_intent(position, self.account, tokens, slippage_bps, level))

    def _build_buy(self, wallet: str, buy_id: int, lamports: int, mint: str, slippage_bps: int) -> str:
        intent = TxIntent(
            kind="buy",
            wallet=wallet,
            account=self.account,
            ref_id=buy_id,
            amount=lamports,
            slippage_bps=slippage_bps,
            mint=mint,
        )
        return self.chain.build(intent)

    # -- helpers ---------------------------------------------------------------------------

    def _select(self, position_id: Optional[int], token_account: Optional[str]) -> Optional[SimPosition]:
        if position_id is not None:
            position = self.positions.get(position_id)
        else:
            position = next((p for p in self.positions.values() if p.token_account == token_account), None)
        return position if position is not None and self._tracked(position) else None

    def _signal(
        self, position: SimPosition, decision: ExitDecision, slippage_bps: Optional[int] = None
    ) -> ExitSignalWithTx:
        position.pending[decision.level_index] = decision
        position.last_reason = decision.reason
        sell = decision.sell_tokens if decision.sell_tokens is not None else position.state.tokens
        return ExitSignalWithTx(
            session_id=self.session_id,
            position_id=position.position_id,
            wallet_pubkey=position.wallet,
            mint=position.mint,
            token_account=position.token_account,
            token_program=SPL_TOKEN,
            position_tokens=position.state.tokens,
            profit_units=round((position.price - position.state.entry_price) * sell),
            reason=decision.reason,
            triggered_at_ms=self.now_ms,
            market_context=context(position, self._scenario),
            unsigned_tx_b64=self._build_sell(position, sell, slippage_bps, decision.level_index),
            sell_tokens=decision.sell_tokens,
            level_index=decision.level_index,
            mirror_source=position.mirror_source,
            watched=position.mirror_source is not None,
        )

    def _close(self, position: SimPosition, reason: str, announce: bool = True) -> List[ServerMessage]:
        del self.positions[position.position_id]
        self.closed.append(position)
        position.closed_as = (self.now_ms, reason, self.session_id, context(position, self._scenario).market_type)
        out: List[ServerMessage] = []
        if announce:
            out.append(
                PositionClosed(
                    position_id=position.position_id,
                    wallet_pubkey=position.wallet,
                    mint=position.mint,
                    token_account=position.token_account,
                    reason=reason,
                    mirror_source=position.mirror_source,
                    slot=self.chain.clock.slot,
                    watched=position.mirror_source is not None,
                )
            )
        if position.mirror_source is not None:
            profit = position.realized_quote - position.entry_quote
            out.extend(self.mirror.closed(position.mirror_source, position.position_id, profit))
        return out

    def summary(self, position: SimPosition) -> Tuple[int, int, float]:
        """(entry quote, realized quote, PnL %) of a position."""
        pct = (position.realized_quote - position.entry_quote) / position.entry_quote * 100
        return position.entry_quote, position.realized_quote, pct


_MAX_MULTIPLE = 1_000.0  # a token held long enough stops climbing (no price overflows the wire)
_MIN_MULTIPLE = 1e-6  # nor falls to nothing


def _bounded(position: SimPosition, price: float) -> float:
    """A market price kept within a realistic range of the entry price, however long it runs."""
    entry = position.state.entry_price
    return min(max(price, entry * _MIN_MULTIPLE), entry * _MAX_MULTIPLE)
