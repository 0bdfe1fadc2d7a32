"""The simulator's market engine: deterministic, closes the loop on settlement, obeys commands."""

from __future__ import annotations

from typing import Any, List

import pytest
from solders.keypair import Keypair

import lasersell_sync as ls
from lasersell_sync.simulator.engine import MarketEngine
from lasersell_sync.simulator.market import SCENARIOS
from lasersell_sync.simulator.txbuild import read_memo

WALLET = Keypair()
STRATEGY = ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=20, trailing_stop_pct=10)


def engine(scenario: str = "pump", seed: int = 7, **kw: Any) -> MarketEngine:
    configure = ls.Configure(wallet_pubkeys=(str(WALLET.pubkey()),), strategy=kw.pop("strategy", STRATEGY))
    return MarketEngine(seed=seed, scenario=scenario, session_id=1, configure=configure, **kw)


def run(sim: MarketEngine, ticks: int) -> List[Any]:
    out: List[Any] = []
    for _ in range(ticks):
        out.extend(sim.tick())
    return out


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_same_seed_same_messages(scenario: str) -> None:
    first = [ls.encode_server(m) for m in run(engine(scenario), 150)]
    second = [ls.encode_server(m) for m in run(engine(scenario), 150)]
    assert first == second
    assert first != [ls.encode_server(m) for m in run(engine(scenario, seed=8), 150)]


def test_every_message_is_valid_on_the_wire() -> None:
    for message in run(engine("mixed"), 300):
        assert ls.decode_server(ls.encode_server(message)) == message


def test_a_signed_exit_settles_and_closes_the_position() -> None:
    sim = engine("pump")
    signal = next(m for m in run(sim, 200) if isinstance(m, ls.ExitSignalWithTx))
    signed = ls.sign_unsigned_tx(signal.unsigned_tx_b64, WALLET)  # fee payer = the position's wallet
    memo = read_memo(signed)
    assert memo == ("sell", signal.position_id, signal.position_tokens)
    settled = sim.settle(*memo)
    assert settled is not None
    balance, closed = settled
    assert isinstance(balance, ls.BalanceUpdate)
    assert balance.tokens == 0
    assert isinstance(closed, ls.PositionClosed)
    assert (closed.position_id, closed.reason) == (signal.position_id, "target_profit")
    assert signal.position_id not in sim.positions
    assert sim.settle(*memo) is None  # a second submission settles nothing


def test_exit_signal_fires_once_until_settled_or_requested() -> None:
    sim = engine("dump")
    messages = run(sim, 200)
    signals = [m for m in messages if isinstance(m, ls.ExitSignalWithTx)]
    assert len({s.position_id for s in signals}) == len(signals)  # never two for one position
    again = sim.command(ls.RequestExitSignal(position_id=signals[0].position_id, slippage_bps=900))
    assert [type(m) for m in again] == [ls.ExitSignalWithTx]
    assert again[0].reason == "manual"


def test_ladder_levels_sell_parts_of_the_position() -> None:
    ladder = (ls.TakeProfitLevel(profit_pct=10, sell_pct=50), ls.TakeProfitLevel(profit_pct=30, sell_pct=100))
    sim = engine("grind", strategy=ls.StrategyConfig(target_profit_pct=0, stop_loss_pct=50, take_profit_levels=ladder))
    fired = []
    for _ in range(400):
        for message in sim.tick():
            if isinstance(message, ls.ExitSignalWithTx) and message.position_id == 1:
                fired.append(message)
                sim.settle("sell", 1, message.sell_tokens or message.position_tokens)
    assert [(m.reason, m.level_index) for m in fired] == [("chained_tp", 0), ("chained_tp", 1)]
    assert fired[0].sell_tokens == fired[0].position_tokens // 2
    assert fired[1].sell_tokens == fired[1].position_tokens  # the rest


def test_commands() -> None:
    sim = engine("sideways")
    opened = next(m for m in run(sim, 1) if isinstance(m, ls.PositionOpened))
    assert sim.command(ls.Ping(client_time_ms=1)) == [ls.Pong(server_time_ms=sim.now_ms)]
    (closed,) = sim.command(ls.ClosePosition(token_account=opened.token_account))
    assert isinstance(closed, ls.PositionClosed)
    assert closed.reason == "client_closed"
    assert sim.command(ls.ClosePosition(position_id=999)) == []
    loose = ls.StrategyConfig(target_profit_pct=0.1, stop_loss_pct=0.1)
    sim.command(ls.UpdateStrategy(strategy=loose))
    assert sim.strategy == loose
    sim.command(ls.UpdateWallets(wallet_pubkeys=()))
    assert not [m for m in run(sim, 40) if isinstance(m, ls.PositionOpened)]  # no wallets, no new positions


def mirror_engine(**config: Any) -> MarketEngine:
    watched = ls.WatchWalletEntry(
        pubkey=str(Keypair().pubkey()),
        auto_buy=ls.AutoBuyConfig(wallet_pubkey=str(WALLET.pubkey()), amount_quote_units=10**8),
    )
    configure = ls.Configure(
        wallet_pubkeys=(str(WALLET.pubkey()),),
        strategy=ls.StrategyConfig(target_profit_pct=0, stop_loss_pct=5),
        watch_wallets=(watched,),
        mirror_config=ls.MirrorConfig(**config),
    )
    return MarketEngine(seed=5, scenario="dump", session_id=1, configure=configure, open_every_ticks=10**6)


def test_mirror_buy_signal_settles_into_a_watched_position() -> None:
    sim = mirror_engine(cooldown_sec=0)
    signal = next(m for m in run(sim, 40) if isinstance(m, ls.MirrorBuySignal))
    assert signal.user_wallet == str(WALLET.pubkey())
    assert signal.slippage_bps == 2500
    signed = ls.sign_unsigned_tx(signal.unsigned_tx_b64, WALLET)
    memo = read_memo(signed)
    assert memo is not None
    assert memo[0] == "buy"
    settled = sim.settle(*memo)
    assert settled is not None
    opened = next(m for m in settled if isinstance(m, ls.PositionOpened))
    assert (opened.watched, opened.mirror_source, opened.mint) == (True, signal.watched_wallet, signal.mint)
    assert opened.entry_quote_units == signal.amount_quote_units
    assert sim.settle(*memo) is None  # one buy, one position


def test_mirror_failures_follow_the_config() -> None:
    capped = mirror_engine(cooldown_sec=0, max_positions_per_wallet=1)
    first = next(m for m in run(capped, 40) if isinstance(m, ls.MirrorBuySignal))
    capped.settle("buy", 1, first.amount_quote_units)
    failure = next(m for m in run(capped, 60) if isinstance(m, ls.MirrorBuyFailed))
    assert failure.reason == "max_positions_reached"
    cooling = mirror_engine(cooldown_sec=3600)
    messages = [m for m in run(cooling, 100) if isinstance(m, (ls.MirrorBuySignal, ls.MirrorBuyFailed))]
    assert [type(m).__name__ for m in messages[:3]] == ["MirrorBuySignal", "MirrorBuyFailed", "MirrorBuyFailed"]
    assert {m.reason for m in messages[1:] if isinstance(m, ls.MirrorBuyFailed)} == {"cooldown_active"}


def test_consecutive_losses_disable_the_wallet_until_it_is_watched_again() -> None:
    sim = mirror_engine(cooldown_sec=0, max_consecutive_losses=2)
    disabled = []
    for _ in range(600):
        for message in sim.tick():
            if isinstance(message, ls.MirrorBuySignal):
                memo = read_memo(ls.decode_unsigned_tx(message.unsigned_tx_b64))
                assert memo is not None
                sim.settle(*memo)
            elif isinstance(message, ls.ExitSignalWithTx):  # the dump scenario stops everything out
                settled = sim.settle("sell", message.position_id, message.position_tokens) or []
                disabled += [m for m in settled if isinstance(m, ls.MirrorWalletAutoDisabled)]
        if disabled:
            break
    (event,) = disabled
    assert (event.reason, event.loss_count) == ("consecutive_loss_limit_reached", 2)
    assert not [m for m in run(sim, 120) if isinstance(m, (ls.MirrorBuySignal, ls.MirrorBuyFailed))]
    sim.command(ls.UpdateWatchWallets(watch_wallets=tuple(sim.mirror.entries)))  # re-enable (Q15)
    assert [m for m in run(sim, 120) if isinstance(m, ls.MirrorBuySignal)]
