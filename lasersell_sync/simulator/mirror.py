"""Copy trading in the simulator: watched wallets buy, the user's wallet mirrors them.

Every few ticks a watched wallet with ``auto_buy`` "buys" a new token. The mirror config decides
the answer, as the service does: a ``mirror_buy_signal`` carrying a real unsigned buy for the
user's wallet, or a ``mirror_buy_failed`` with the reason (cooldown, position cap, thin
liquidity). A settled buy becomes a watched position; closing ``max_consecutive_losses`` losers
in a row disables the wallet with ``mirror_wallet_auto_disabled`` until ``update_watch_wallets``
names it again.

What a watched wallet buys is the market's, not the bot's: the token offered at a tick and the
liquidity it shows come from a generator keyed by the seed and the tick, so they are the same
whether the bot took earlier offers or not. Only the answer (a signal or which refusal) follows
the bot's own state: its cooldowns, its open mirror positions, its losses.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Set, Tuple

import attrs
from solders.pubkey import Pubkey

from ..proto import (
    MarketContext,
    MirrorBuyFailed,
    MirrorBuySignal,
    MirrorConfig,
    MirrorWalletAutoDisabled,
    PumpFunContext,
    ServerMessage,
    WatchWalletEntry,
)
from .market import keyed_rng

__all__ = ["BuildBuy", "MirrorDesk", "PendingBuy"]

_DEFAULT_SLIPPAGE = 2500

BuildBuy = Callable[[str, int, int, str, int], str]
"""``(wallet, buy id, lamports, mint, slippage bps) -> base64 unsigned buy transaction``."""


@attrs.define
class PendingBuy:
    """A mirror buy the stream offered and the RPC has not settled yet."""

    buy_id: int
    watched_wallet: str
    user_wallet: str
    mint: str
    amount: int


class MirrorDesk:
    """Mirror-trading state of one session."""

    def __init__(self, seed: int, build: BuildBuy, every_ticks: int = 30) -> None:
        self._seed = seed
        self._build = build
        self._every = every_ticks
        self.entries: List[WatchWalletEntry] = []
        self.config = MirrorConfig()
        self.pending: Dict[int, PendingBuy] = {}
        self._next_id = 1
        self._last_buy_ms: Dict[str, int] = {}
        self._open: Dict[str, Set[int]] = {}  # watched wallet -> its open mirror position ids
        self._losses: Dict[str, int] = {}
        self.disabled: Set[str] = set()

    def watch(self, entries: Tuple[WatchWalletEntry, ...], config: Optional[MirrorConfig] = None) -> None:
        """Replace the watched set (``update_watch_wallets``); naming a disabled wallet re-enables it."""
        self.entries = list(entries)
        self.disabled -= {entry.pubkey for entry in entries}
        if config is not None:
            self.config = config

    def tick(self, tick: int, now_ms: int, session_id: int) -> List[ServerMessage]:
        """Every few ticks a watched wallet buys: the mirror signal (or refusal) for the user, if any."""
        active = [e for e in self.entries if e.auto_buy is not None and e.pubkey not in self.disabled]
        if not active or tick % self._every:
            return []
        rng = keyed_rng(self._seed, "mirror-offer", tick)  # the same draws, whatever is answered
        new_mint = str(Pubkey(bytes(rng.getrandbits(8) for _ in range(32))))
        liquidity_sol = rng.uniform(0, 100)  # the pool's liquidity, drawn whether it matters or not
        entry = active[(tick // self._every) % len(active)]
        auto_buy = entry.auto_buy
        assert auto_buy is not None
        config = self.config
        reason = None
        last = self._last_buy_ms.get(entry.pubkey)
        if last is not None and config.cooldown_sec and now_ms - last < config.cooldown_sec * 1000:
            reason = "cooldown_active"
        elif (
            config.max_positions_per_wallet and len(self._open.get(entry.pubkey, ())) >= config.max_positions_per_wallet
        ):
            reason = "max_positions_reached"
        elif config.min_liquidity_sol is not None and liquidity_sol < config.min_liquidity_sol:
            reason = "below_min_liquidity"
        if reason is not None:
            return [MirrorBuyFailed(watched_wallet=entry.pubkey, mint=new_mint, reason=reason)]
        self._last_buy_ms[entry.pubkey] = now_ms
        buy_id, self._next_id = self._next_id, self._next_id + 1
        self.pending[buy_id] = PendingBuy(
            buy_id, entry.pubkey, auto_buy.wallet_pubkey, new_mint, auto_buy.amount_quote_units
        )
        slippage = config.buy_slippage_bps or _DEFAULT_SLIPPAGE
        return [
            MirrorBuySignal(
                session_id=session_id,
                watched_wallet=entry.pubkey,
                mint=new_mint,
                user_wallet=auto_buy.wallet_pubkey,
                amount_quote_units=auto_buy.amount_quote_units,
                input="SOL",
                unsigned_tx_b64=self._build(
                    auto_buy.wallet_pubkey, buy_id, auto_buy.amount_quote_units, new_mint, slippage
                ),
                slippage_bps=slippage,
                market_context=MarketContext(market_type="pump_fun", pumpfun=PumpFunContext()),
            )
        ]

    def bought(self, buy_id: int) -> Optional[PendingBuy]:
        """A signed mirror buy landed: the buy to turn into a position, if it was pending."""
        return self.pending.pop(buy_id, None)

    def opened(self, watched_wallet: str, position_id: int) -> None:
        """Count a mirror position against its watched wallet's position cap."""
        self._open.setdefault(watched_wallet, set()).add(position_id)

    def closed(self, watched_wallet: str, position_id: int, profit: int) -> List[ServerMessage]:
        """A mirror position closed; may trip the consecutive-loss breaker."""
        self._open.get(watched_wallet, set()).discard(position_id)
        if profit >= 0:
            self._losses[watched_wallet] = 0
            return []
        losses = self._losses[watched_wallet] = self._losses.get(watched_wallet, 0) + 1
        limit = self.config.max_consecutive_losses
        if limit and losses >= limit and watched_wallet not in self.disabled:
            self.disabled.add(watched_wallet)
            return [
                MirrorWalletAutoDisabled(
                    watched_wallet=watched_wallet, reason="consecutive_loss_limit_reached", loss_count=losses
                )
            ]
        return []
