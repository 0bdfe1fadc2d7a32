"""The market engine of one simulated stream session: synchronous and deterministic.

The stream server calls :meth:`MarketEngine.tick` once per ``pnl_flush_ms`` of simulated time
and :meth:`MarketEngine.command` for each client message; the RPC server calls
:meth:`MarketEngine.settle` when a signed exit arrives. Each returns the server messages to
send. Same seed, scenario and inputs: same messages.
"""

from __future__ import annotations

import random
from typing import Dict, Iterator, List, Optional, Tuple

import attrs
from solders.pubkey import Pubkey

from ..proto import (
    BalanceUpdate,
    ClientMessage,
    ClosePosition,
    Configure,
    ExitSignalWithTx,
    LiquiditySnapshot,
    MarketContext,
    Ping,
    PnlUpdate,
    Pong,
    PositionClosed,
    PositionOpened,
    PumpFunContext,
    PumpSwapContext,
    RequestExitSignal,
    ServerMessage,
    SlippageBand,
    StrategyConfig,
    TradeTick,
    UpdatePositionStrategy,
    UpdateStrategy,
    UpdateWallets,
    UpdateWatchWallets,
)
from .market import price_steps
from .mirror import MirrorDesk
from .strategy import ExitDecision, PositionState, evaluate
from .txbuild import build_unsigned

__all__ = ["MarketEngine", "SimPosition"]

SPL_TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
_BANDS = ((100, 0.15), (200, 0.3), (500, 0.65), (1000, 1.0))


@attrs.define
class SimPosition:
    """One simulated position: what the stream announced, and where its price stands."""

    position_id: int
    wallet: str
    mint: str
    token_account: str
    entry_quote: int
    initial_tokens: int
    state: PositionState
    steps: Iterator[Tuple[float, bool]]
    price: float
    opened_ms: int
    graduated: bool = False
    override: Optional[StrategyConfig] = None
    pending: Optional[ExitDecision] = None
    realized_quote: int = 0
    depth: float = 1.0  # share of the position sellable within 10 % slippage
    mirror_source: Optional[str] = None  # the watched wallet this position mirrors


def _pubkey(rng: random.Random) -> str:
    return str(Pubkey(bytes(rng.getrandbits(8) for _ in range(32))))


class MarketEngine:
    """Positions, prices and exit rules for one configured session."""

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
        start_ms: int = 1_706_000_000_000,
    ) -> None:
        self._rng = random.Random(seed)
        self._scenario = scenario
        self.session_id = session_id
        self.wallets = list(configure.wallet_pubkeys)
        self.strategy = configure.strategy
        self._tick_ms = tick_ms
        self._open_every = open_every_ticks
        self._max_positions = max_positions
        self._now_ms = start_ms
        self._tick = 0
        self._next_id = 1
        self._nonce = 0
        self.positions: Dict[int, SimPosition] = {}
        self.closed: List[SimPosition] = []
        self.mirror = MirrorDesk(random.Random(seed ^ 0x5EED))
        self.mirror.watch(configure.watch_wallets, configure.mirror_config)

    @property
    def now_ms(self) -> int:
        """Simulated time in milliseconds: deterministic, advanced only by ticks."""
        return self._now_ms

    # -- time ------------------------------------------------------------------------------

    def tick(self) -> List[ServerMessage]:
        """Advance one flush interval: maybe open a position, move prices, evaluate exits."""
        self._tick += 1
        self._now_ms += self._tick_ms
        out: List[ServerMessage] = []
        due = self._tick == 1 or self._tick % self._open_every == 0
        if self.wallets and due and len(self.positions) < self._max_positions:
            out.extend(self._open(self.wallets[(self._tick // self._open_every) % len(self.wallets)]))
        out.extend(self.mirror.tick(self._tick, self._now_ms, self.session_id))
        for position in list(self.positions.values()):
            out.extend(self._advance(position))
        return out

    def _open(
        self,
        wallet: str,
        *,
        entry_quote: Optional[int] = None,
        mint: Optional[str] = None,
        mirror_source: Optional[str] = None,
    ) -> List[ServerMessage]:
        rng = self._rng
        position_id, self._next_id = self._next_id, self._next_id + 1
        tokens = rng.randint(10**8, 10**10)
        entry_quote = entry_quote or rng.randint(1, 20) * 50_000_000  # 0.05 .. 1 SOL
        price = entry_quote / tokens
        position = SimPosition(
            position_id=position_id,
            wallet=wallet,
            mint=mint or _pubkey(rng),
            token_account=_pubkey(rng),
            mirror_source=mirror_source,
            entry_quote=entry_quote,
            initial_tokens=tokens,
            state=PositionState(entry_price=price, tokens=tokens),
            steps=price_steps(self._scenario, random.Random(rng.getrandbits(64))),
            price=price,
            opened_ms=self._now_ms,
        )
        self.positions[position_id] = position
        return self.announce(position)

    def announce(self, position: SimPosition) -> List[ServerMessage]:
        """``balance_update`` and ``position_opened`` for a position (at open and on reconnect)."""
        wallet, tokens, price = position.wallet, position.state.tokens, position.price
        slot = self._slot()
        return [
            BalanceUpdate(
                wallet_pubkey=wallet,
                mint=position.mint,
                token_account=position.token_account,
                token_program=SPL_TOKEN,
                tokens=tokens,
                slot=slot,
            ),
            PositionOpened(
                position_id=position.position_id,
                wallet_pubkey=wallet,
                mint=position.mint,
                token_account=position.token_account,
                token_program=SPL_TOKEN,
                tokens=tokens,
                entry_quote_units=position.entry_quote,
                market_context=self._context(position),
                token_name=f"Sim Token {position.position_id}",
                token_symbol=f"SIM{position.position_id}",
                token_decimals=6,
                token_price_quote=max(1, round(price)),
                opened_at_ms=position.opened_ms,
                slot=slot,
                watched=position.mirror_source is not None,
                mirror_source=position.mirror_source,
            ),
        ]

    def _advance(self, position: SimPosition) -> List[ServerMessage]:
        step, graduated_now = next(position.steps)
        position.price *= step
        position.graduated = position.graduated or graduated_now
        position.depth = min(1.0, max(0.05, position.depth * (1.0 + self._rng.gauss(0.0, 0.05))))
        out: List[ServerMessage] = [self._trade(position) for _ in range(self._rng.randint(0, 2))]
        tokens = position.state.tokens
        profit = round((position.price - position.state.entry_price) * tokens)
        out.append(
            PnlUpdate(
                position_id=position.position_id,
                profit_units=profit,
                proceeds_units=max(0, round(position.price * tokens)),
                server_time_ms=self._now_ms,
                token_price_quote=max(0, round(position.price)),
                watched=position.mirror_source is not None,
            )
        )
        out.append(self._liquidity(position))
        if position.pending is None:
            decision = evaluate(
                position.override or self.strategy,
                position.state,
                position.price,
                graduated=graduated_now,
                sellable_tokens=self._sellable(position, 500),
            )
            if decision is not None:
                out.append(self._signal(position, decision))
        return out

    # -- commands --------------------------------------------------------------------------

    def command(self, message: ClientMessage) -> List[ServerMessage]:
        """Apply a client command; returns any direct answer."""
        if isinstance(message, Ping):
            return [Pong(server_time_ms=self._now_ms)]
        if isinstance(message, UpdateStrategy):
            self.strategy = message.strategy
        elif isinstance(message, UpdateWallets):
            self.wallets = list(message.wallet_pubkeys)
        elif isinstance(message, UpdatePositionStrategy):
            position = self.positions.get(message.position_id)
            if position is not None:
                position.override = message.strategy
        elif isinstance(message, ClosePosition):
            position = self._select(message.position_id, message.token_account)
            if position is not None:
                return self._close(position, "client_closed")
        elif isinstance(message, RequestExitSignal):
            position = self._select(message.position_id, message.token_account)
            if position is not None:
                return [self._signal(position, ExitDecision("manual"))]
        elif isinstance(message, UpdateWatchWallets):
            self.mirror.watch(message.watch_wallets)
        return []

    def manual_sell(self, wallet: str, mint: str, tokens: int) -> str:
        """An Exit API sell: tracked when it names an open position, else accepted untracked."""
        self._nonce += 1
        position = next((p for p in self.positions.values() if p.wallet == wallet and p.mint == mint), None)
        if position is None:
            return build_unsigned(wallet, "sell", 0, tokens, self._nonce)
        sell = min(tokens, position.state.tokens)
        position.pending = ExitDecision("manual", sell_tokens=sell if sell < position.state.tokens else None)
        return build_unsigned(wallet, "sell", position.position_id, sell, self._nonce)

    def settle(self, kind: str, position_id: int, tokens: int) -> Optional[List[ServerMessage]]:
        """A signed transaction arrived: settle it. None if it is not one the market expects."""
        if kind == "buy":
            return self._bought(position_id)
        if position_id == 0:
            return []  # an Exit API sell of nothing tracked: accepted
        position = self.positions.get(position_id)
        if kind != "sell" or position is None or position.pending is None:
            return None
        sold = min(tokens, position.state.tokens)
        position.state.tokens -= sold
        position.realized_quote += round(position.price * sold)
        reason, position.pending = position.pending.reason, None
        out: List[ServerMessage] = [
            BalanceUpdate(
                wallet_pubkey=position.wallet,
                mint=position.mint,
                token_account=position.token_account,
                token_program=SPL_TOKEN,
                tokens=position.state.tokens,
                slot=self._slot(),
            )
        ]
        if position.state.tokens == 0:
            out.extend(self._close(position, reason))
        return out

    def _bought(self, buy_id: int) -> Optional[List[ServerMessage]]:
        if buy_id == 0:
            return []  # an Exit API buy: accepted, not tracked
        buy = self.mirror.bought(buy_id)
        if buy is None:
            return None
        out = self._open(buy.user_wallet, entry_quote=buy.amount, mint=buy.mint, mirror_source=buy.watched_wallet)
        self.mirror.opened(buy.watched_wallet, self._next_id - 1)
        return out

    # -- helpers ---------------------------------------------------------------------------

    def _select(self, position_id: Optional[int], token_account: Optional[str]) -> Optional[SimPosition]:
        if position_id is not None:
            return self.positions.get(position_id)
        return next((p for p in self.positions.values() if p.token_account == token_account), None)

    def _signal(self, position: SimPosition, decision: ExitDecision) -> ExitSignalWithTx:
        position.pending = decision
        sell = decision.sell_tokens if decision.sell_tokens is not None else position.state.tokens
        self._nonce += 1
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
            triggered_at_ms=self._now_ms,
            market_context=self._context(position),
            unsigned_tx_b64=build_unsigned(position.wallet, "sell", position.position_id, sell, self._nonce),
            sell_tokens=decision.sell_tokens,
            level_index=decision.level_index,
            mirror_source=position.mirror_source,
            watched=position.mirror_source is not None,
        )

    def _close(self, position: SimPosition, reason: str) -> List[ServerMessage]:
        del self.positions[position.position_id]
        self.closed.append(position)
        out: List[ServerMessage] = [
            PositionClosed(
                position_id=position.position_id,
                wallet_pubkey=position.wallet,
                mint=position.mint,
                token_account=position.token_account,
                reason=reason,
                mirror_source=position.mirror_source,
                slot=self._slot(),
                watched=position.mirror_source is not None,
            )
        ]
        if position.mirror_source is not None:
            profit = position.realized_quote - position.entry_quote
            out.extend(self.mirror.closed(position.mirror_source, position.position_id, profit))
        return out

    def _trade(self, position: SimPosition) -> TradeTick:
        rng = self._rng
        amount = rng.randint(10**5, 10**8)
        return TradeTick(
            position_id=position.position_id,
            time_ms=self._now_ms,
            side=rng.choice(("buy", "sell")),
            token_amount=amount,
            quote_amount=round(amount * position.price),
            price_quote=max(0, round(position.price)),
            maker=_pubkey(rng),
        )

    def _sellable(self, position: SimPosition, slippage_bps: int) -> int:
        share = dict(_BANDS)[slippage_bps] * position.depth
        return int(position.state.tokens * share)

    def _liquidity(self, position: SimPosition) -> LiquiditySnapshot:
        bands = tuple(
            SlippageBand(
                slippage_bps=bps,
                max_tokens=self._sellable(position, bps),
                coverage_pct=round(100.0 * share * position.depth, 2),
            )
            for bps, share in _BANDS
        )
        trend = "growing" if position.depth > 0.8 else "stable" if position.depth > 0.4 else "draining"
        return LiquiditySnapshot(
            position_id=position.position_id, bands=bands, liquidity_trend=trend, server_time_ms=self._now_ms
        )

    def _context(self, position: SimPosition) -> MarketContext:
        if position.graduated or self._scenario in ("grind", "sideways"):
            pool = str(Pubkey.create_with_seed(Pubkey.from_string(position.mint), "pool", Pubkey.default()))
            return MarketContext(market_type="pump_swap", pumpswap=PumpSwapContext(pool=pool))
        return MarketContext(market_type="pump_fun", pumpfun=PumpFunContext())

    def _slot(self) -> int:
        return 280_000_000 + self._now_ms // 400 - 1_706_000_000_000 // 400

    def summary(self, position: SimPosition) -> Tuple[int, int, float]:
        """(entry quote, realized quote, PnL %) of a position."""
        pct = (position.realized_quote - position.entry_quote) / position.entry_quote * 100
        return position.entry_quote, position.realized_quote, pct
