"""A seed's market does not depend on the bot: its trades and its timing change only its own fills.

Issue 20 (item 9): five runs of ``examples/auto_sell.py --seed 1`` showed two different markets,
because the engine drew everything (later positions' entries, tokens and price paths, other
traders' swaps) from one random generator that the bot's sells advanced or not. Here bots that
sell at once, sell late or never sell run against the same seed and must hear the same prices.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest
from solders.keypair import Keypair

import lasersell_sync as ls
from lasersell_sync.simulator import Simulator
from lasersell_sync.simulator.engine import MarketEngine

SEED = 1
POSITIONS = 4  # positions compared per run
PRICES = 6  # pnl updates a position the bot keeps must show before the run ends
EVERY = 10  # ticks between two positions opening
STRATEGY = ls.StrategyConfig(target_profit_pct=20, stop_loss_pct=10, trailing_stop_pct=8)
ANY_PRICE = 10_000  # a sell at 100 % slippage always lands: the bot's sells never fail


class Bot:
    """Listens to every frame of one stream connection and sells per ``style``, waiting on no clock.

    ``eager`` sells each position as soon as it opens, ``late`` sells a position once the next one
    opened, ``never`` holds everything. A sell is a ``request_exit_signal`` at any price, then
    the signed transaction sent to the simulator's RPC.
    """

    def __init__(self, sim: Simulator, style: str) -> None:
        self.sim = sim
        self.style = style
        self.conn: Optional[ls.StreamConnection] = None
        self.opened: Dict[int, Tuple[Any, ...]] = {}
        self.prices: Dict[int, List[Optional[int]]] = {}  # pnl_update token_price_quote per position
        self.trades: Dict[int, List[Tuple[Any, ...]]] = {}  # trade_tick per position (time left out)
        self.selling: Set[int] = set()
        self.closed: Set[int] = set()
        self.sells: List[str] = []
        self.done = threading.Event()
        self._sender = ls.TxSender()
        self._lock = threading.Lock()

    def run(self) -> None:
        """Connect, wait until the first ``POSITIONS`` positions are seen through, disconnect."""
        configure = ls.proto.Configure(wallet_pubkeys=(self.sim.wallet_pubkey,), strategy=STRATEGY)
        with self._sender:
            conn = ls.StreamConnection(
                self.sim.api_key, configure, on_message=self.on_message, endpoint=self.sim.stream_url
            )
            with conn:
                with self._lock:
                    self.conn = conn
                    self._check()  # a position may have opened before conn was set
                assert self.done.wait(30), f"{self.style}: {self.opened.keys()} {self.closed} {self.prices}"

    def on_message(self, message: Any, received_at: float) -> None:
        with self._lock:
            if isinstance(message, ls.PositionOpened):
                self.opened[message.position_id] = (
                    message.mint,
                    message.token_account,
                    message.tokens,
                    message.entry_quote_units,
                    message.token_price_quote,
                    message.market_context,
                )
            elif isinstance(message, ls.PnlUpdate):
                self.prices.setdefault(message.position_id, []).append(message.token_price_quote)
            elif isinstance(message, ls.TradeTick):
                self.trades.setdefault(message.position_id, []).append(
                    (message.side, message.token_amount, message.quote_amount, message.price_quote, message.maker)
                )
            elif isinstance(message, ls.PositionClosed):
                self.closed.add(message.position_id)
            elif isinstance(message, ls.ExitSignalWithTx) and message.reason == "manual":
                signed = ls.sign_unsigned_tx(message.unsigned_tx_b64, self.sim.wallet)
                self.sells.append(self._sender.send(ls.SendTargetRpc(url=self.sim.rpc_url), signed))
            self._check()

    def _check(self) -> None:
        """Ask for the sells this bot wants now; set ``done`` when every compared position is through."""
        if self.conn is None:
            return
        wanted = set(self.opened) if self.style == "eager" else set()
        if self.style == "late":
            wanted = {pid for pid in self.opened if pid + 1 in self.opened}
        for pid in sorted(wanted - self.selling - self.closed):
            if pid <= POSITIONS:
                self.selling.add(pid)
                self.conn.send(ls.proto.RequestExitSignal(position_id=pid, slippage_bps=ANY_PRICE))
        through = all(
            pid in self.closed or (pid not in self.selling and len(self.prices.get(pid, ())) >= PRICES)
            for pid in range(1, POSITIONS + 1)
        )
        if through and all(pid in self.opened for pid in range(1, POSITIONS + 1)):
            self.done.set()


def run_bot(style: str, scenario: str) -> Bot:
    with Simulator(seed=SEED, scenario=scenario, speed=20, open_every_ticks=EVERY) as sim:
        bot = Bot(sim, style)
        bot.run()
    return bot


def same_prefix(first: List[Any], second: List[Any]) -> int:
    """How long the common part is; fails unless one sequence starts with the other."""
    n = min(len(first), len(second))
    assert first[:n] == second[:n]
    return n


@pytest.mark.parametrize("scenario", ["mixed", "pump"])
def test_bots_that_sell_at_different_times_see_the_same_market(scenario: str) -> None:
    reference = run_bot("never", scenario)
    assert not reference.closed
    for style in ("eager", "late"):
        bot = run_bot(style, scenario)
        assert bot.sells, style  # it really traded
        assert bot.closed, style
        compared = 0
        for pid in range(1, POSITIONS + 1):
            assert bot.opened[pid] == reference.opened[pid], (style, pid)  # same token, tokens, entry
            compared += same_prefix(bot.prices.get(pid, []), reference.prices[pid])
            same_prefix(bot.trades.get(pid, []), reference.trades.get(pid, []))
        if style == "late":  # its positions lived on after the others sold: their paths went on
            assert compared >= (POSITIONS - 1) * (EVERY - 2), compared


# -- the engine alone: no threads, no clock --------------------------------------------------

WALLET = Keypair()


def _engine(seed: int = SEED, **kw: Any) -> MarketEngine:
    configure = ls.proto.Configure(wallet_pubkeys=(str(WALLET.pubkey()),), strategy=STRATEGY, **kw.pop("configure", {}))
    return MarketEngine(seed=seed, scenario="mixed", session_id=1, configure=configure, **kw)


def _land(sim: MarketEngine, unsigned_tx_b64: str) -> List[Any]:
    intent = sim.chain.intent_of(ls.sign_unsigned_tx(unsigned_tx_b64, WALLET))
    assert intent is not None
    landing, messages = sim.land(intent)
    assert landing.err is None, landing.err
    return messages


def _market(sim: MarketEngine, ticks: int, sell: bool) -> Dict[str, List[Any]]:
    """Per token (mint): its entry, then every price and trade the stream showed, in order."""
    seen: Dict[str, List[Any]] = {}
    mints: Dict[int, str] = {}
    for _ in range(ticks):
        for message in sim.tick():
            if isinstance(message, ls.PositionOpened):
                mints[message.position_id] = message.mint
                seen[message.mint] = [(message.tokens, message.entry_quote_units, message.token_price_quote)]
            elif isinstance(message, ls.PnlUpdate):
                seen[mints[message.position_id]].append(message.token_price_quote)
            elif isinstance(message, ls.TradeTick):
                seen[mints[message.position_id]].append((message.side, message.price_quote, message.maker))
            elif isinstance(message, ls.ExitSignalWithTx) and sell:
                _land(sim, message.unsigned_tx_b64)
    return seen


def test_selling_does_not_change_the_engine_s_market() -> None:
    """Every exit landed at once, or none: the same tokens, entries, prices and trades."""
    selling = _market(_engine(), 400, sell=True)
    holding = _market(_engine(), 400, sell=False)
    assert len(selling) > len(holding) >= 5  # the holder hit max_positions; the seller did not
    for mint, events in holding.items():
        assert mint in selling
        same_prefix(selling[mint], events)
        assert selling[mint][0] == events[0]


def test_mirror_buys_do_not_change_the_watched_wallets_tokens() -> None:
    """Landing mirror buys (or not) changes the user's positions, not what the watched wallet buys."""
    watched = ls.WatchWalletEntry(
        pubkey=str(Keypair().pubkey()),
        auto_buy=ls.AutoBuyConfig(wallet_pubkey=str(WALLET.pubkey()), amount_quote_units=10**8),
    )
    mirror = {
        "watch_wallets": (watched,),
        "mirror_config": ls.MirrorConfig(cooldown_sec=0, max_positions_per_wallet=1, min_liquidity_sol=30),
    }

    def offers(buy: bool) -> Tuple[List[str], List[Tuple[str, int, int]]]:
        sim = _engine(configure=mirror, open_every_ticks=25)
        mints: List[str] = []
        for _ in range(300):
            for message in sim.tick():
                if isinstance(message, (ls.MirrorBuySignal, ls.MirrorBuyFailed)):
                    mints.append(message.mint)
                if isinstance(message, ls.MirrorBuySignal) and buy:
                    _land(sim, message.unsigned_tx_b64)
        everything = sorted([*sim.closed, *sim.positions.values()], key=lambda p: p.position_id)
        market = [(p.mint, p.entry_quote, p.initial_tokens) for p in everything if p.mirror_source is None]
        return mints, market

    bought, bought_market = offers(buy=True)
    passed, passed_market = offers(buy=False)
    assert bought == passed  # the same tokens offered, taken or not
    assert len(bought) >= 5
    # the market's own positions, in opening order (mirror positions count towards max_positions,
    # so the buyer may have opened fewer of them in the time)
    assert same_prefix(bought_market, passed_market) >= 2
