"""The simulator's market engine: deterministic, closes the loop on settlement, obeys commands."""

from __future__ import annotations

from typing import Any, List

import pytest
from solders.keypair import Keypair

import lasersell_sync as ls
from lasersell_sync.simulator.chain import INSUFFICIENT_FUNDS_ERROR, SLIPPAGE_ERROR, TxIntent
from lasersell_sync.simulator.engine import MarketEngine
from lasersell_sync.simulator.market import SCENARIOS

WALLET = Keypair()
STRATEGY = ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=20, trailing_stop_pct=10)


def engine(scenario: str = "pump", seed: int = 7, **kw: Any) -> MarketEngine:
    configure = ls.proto.Configure(wallet_pubkeys=(str(WALLET.pubkey()),), strategy=kw.pop("strategy", STRATEGY))
    return MarketEngine(seed=seed, scenario=scenario, session_id=1, configure=configure, **kw)


def intent(sim: MarketEngine, unsigned_tx_b64: str) -> TxIntent:
    """What a transaction the engine built does, read back from the signed transaction."""
    found = sim.chain.intent_of(ls.sign_unsigned_tx(unsigned_tx_b64, WALLET))  # fee payer = the wallet
    assert found is not None
    return found


def land(sim: MarketEngine, unsigned_tx_b64: str) -> List[Any]:
    """Land a transaction the engine built; the messages it caused (its on-chain error must be None)."""
    landing, messages = sim.land(intent(sim, unsigned_tx_b64))
    assert landing.err is None, landing.err
    return messages


def run(sim: MarketEngine, ticks: int) -> List[Any]:
    out: List[Any] = []
    for _ in range(ticks):
        out.extend(sim.tick())
    return out


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_same_seed_same_messages(scenario: str) -> None:
    first = [ls.proto.encode_server(m) for m in run(engine(scenario), 150)]
    second = [ls.proto.encode_server(m) for m in run(engine(scenario), 150)]
    assert first == second
    assert first != [ls.proto.encode_server(m) for m in run(engine(scenario, seed=8), 150)]


def test_every_message_is_valid_on_the_wire() -> None:
    for message in run(engine("mixed"), 300):
        assert ls.proto.decode_server(ls.proto.encode_server(message)) == message


def test_a_signed_exit_settles_and_closes_the_position() -> None:
    sim = engine("pump")
    signal = next(m for _ in range(200) for m in sim.tick() if isinstance(m, ls.ExitSignalWithTx))
    sold = intent(sim, signal.unsigned_tx_b64)
    assert (sold.kind, sold.ref_id, sold.amount) == ("sell", signal.position_id, signal.position_tokens)
    assert sold.slippage_bps == 2000  # the default of pushed signals
    balance, closed = land(sim, signal.unsigned_tx_b64)
    assert isinstance(balance, ls.BalanceUpdate)
    assert balance.tokens == 0
    assert isinstance(closed, ls.PositionClosed)
    assert (closed.position_id, closed.reason) == (signal.position_id, "target_profit")
    assert signal.position_id not in sim.positions
    again, messages = sim.land(sold)  # the same sell once more: nothing is left to sell
    assert (again.err, again.tokens, messages) == (INSUFFICIENT_FUNDS_ERROR, 0, [])


def test_a_sell_commits_to_a_minimum_output_from_its_slippage() -> None:
    sim = engine("sideways", strategy=ls.StrategyConfig(target_profit_pct=0, stop_loss_pct=0))
    opened = next(m for m in run(sim, 1) if isinstance(m, ls.PositionOpened))
    (signal,) = sim.command(ls.proto.RequestExitSignal(position_id=opened.position_id, slippage_bps=500))
    sold = intent(sim, signal.unsigned_tx_b64)
    value = int(sim.positions[opened.position_id].price * opened.tokens)
    assert sold.min_out == value * 9500 // 10_000  # exact lamports, no rounded price
    assert sold.min_out > 10**6
    sim.move_price(0.94)  # 6 % down: more than 5 % slippage
    failed, messages = sim.land(sold)
    assert (failed.err, failed.tokens, messages) == (SLIPPAGE_ERROR, 0, [])
    assert sim.positions[opened.position_id].state.tokens == opened.tokens  # nothing sold
    (wider,) = sim.command(ls.proto.RequestExitSignal(position_id=opened.position_id, slippage_bps=700))
    assert intent(sim, wider.unsigned_tx_b64).slippage_bps == 700  # the requested slippage
    sim.move_price(0.94)  # the same move again: 7 % covers it
    assert [type(m) for m in land(sim, wider.unsigned_tx_b64)] == [ls.BalanceUpdate, ls.PositionClosed]


def test_exit_signal_fires_once_until_settled_or_requested() -> None:
    sim = engine("dump")
    messages = run(sim, 200)
    signals = [m for m in messages if isinstance(m, ls.ExitSignalWithTx)]
    assert len({s.position_id for s in signals}) == len(signals)  # never two for one position
    again = sim.command(ls.proto.RequestExitSignal(position_id=signals[0].position_id, slippage_bps=900))
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
                land(sim, message.unsigned_tx_b64)
    assert [(m.reason, m.level_index) for m in fired] == [("chained_tp", 0), ("chained_tp", 1)]
    assert fired[0].sell_tokens == fired[0].position_tokens // 2
    assert fired[1].sell_tokens == fired[1].position_tokens  # the rest


@pytest.mark.parametrize("last_pct", [100.0, 50.0])
def test_a_fresh_signal_for_a_level_is_built_from_the_tokens_held_when_it_is_asked_for(last_pct: float) -> None:
    # level 1 fires while level 0 is unsold: it sells its percent of all the tokens held then
    ladder = (ls.TakeProfitLevel(profit_pct=20, sell_pct=50), ls.TakeProfitLevel(profit_pct=40, sell_pct=last_pct))
    sim = engine(
        "sideways", strategy=ls.StrategyConfig(target_profit_pct=0, stop_loss_pct=0, take_profit_levels=ladder)
    )
    opened = next(m for m in run(sim, 1) if isinstance(m, ls.PositionOpened))
    sim.move_price(1.6, opened.position_id)
    level0, level1 = [m for m in run(sim, 2) if isinstance(m, ls.ExitSignalWithTx)]
    assert (level0.level_index, level0.sell_tokens, level0.position_tokens) == (0, opened.tokens // 2, opened.tokens)
    assert (level1.level_index, level1.position_tokens) == (1, opened.tokens)
    assert level1.sell_tokens == int(opened.tokens * last_pct / 100)
    land(sim, level0.unsigned_tx_b64)
    held = opened.tokens - opened.tokens // 2
    if level1.sell_tokens > held:  # the stale level 1 now sells more than is held: it fails on chain
        failed, messages = sim.land(intent(sim, level1.unsigned_tx_b64))
        assert (failed.err, messages) == (INSUFFICIENT_FUNDS_ERROR, [])
    (fresh,) = sim.command(ls.proto.RequestExitSignal(position_id=opened.position_id, slippage_bps=2020))
    assert (fresh.level_index, fresh.position_tokens) == (1, held)  # held when the answer is built
    assert fresh.sell_tokens == (held if last_pct == 100 else int(held * last_pct / 100))
    assert intent(sim, fresh.unsigned_tx_b64).amount == fresh.sell_tokens
    land(sim, fresh.unsigned_tx_b64)
    left = sim.positions.get(opened.position_id)
    assert (left.state.tokens if left else 0) == held - fresh.sell_tokens  # 100 %: none left, it closed


def test_commands() -> None:
    sim = engine("sideways")
    opened = next(m for m in run(sim, 1) if isinstance(m, ls.PositionOpened))
    assert sim.command(ls.proto.Ping(client_time_ms=1)) == [ls.Pong(server_time_ms=sim.now_ms)]
    (closed,) = sim.command(ls.proto.ClosePosition(token_account=opened.token_account))
    assert isinstance(closed, ls.PositionClosed)
    assert closed.reason == "client_closed"
    assert sim.command(ls.proto.ClosePosition(position_id=999)) == []
    with pytest.warns(ls.StrategyWarning, match="is 0.1 %"):  # tiny on purpose
        loose = ls.StrategyConfig(target_profit_pct=0.1, stop_loss_pct=0.1)
    sim.command(ls.proto.UpdateStrategy(strategy=loose))
    assert sim.strategy == loose
    sim.command(ls.proto.UpdateWallets(wallet_pubkeys=()))
    assert not [m for m in run(sim, 40) if isinstance(m, ls.PositionOpened)]  # no wallets, no new positions


def mirror_engine(**config: Any) -> MarketEngine:
    watched = ls.WatchWalletEntry(
        pubkey=str(Keypair().pubkey()),
        auto_buy=ls.AutoBuyConfig(wallet_pubkey=str(WALLET.pubkey()), amount_quote_units=10**8),
    )
    configure = ls.proto.Configure(
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
    bought = intent(sim, signal.unsigned_tx_b64)
    assert (bought.kind, bought.amount, bought.mint) == ("buy", signal.amount_quote_units, signal.mint)
    opened = next(m for m in land(sim, signal.unsigned_tx_b64) if isinstance(m, ls.PositionOpened))
    assert (opened.watched, opened.mirror_source, opened.mint) == (True, signal.watched_wallet, signal.mint)
    assert opened.entry_quote_units == signal.amount_quote_units
    count = len(sim.positions)
    assert sim.land(bought)[1] == []  # one buy, one position
    assert len(sim.positions) == count


def test_mirror_failures_follow_the_config() -> None:
    capped = mirror_engine(cooldown_sec=0, max_positions_per_wallet=1)
    first = next(m for m in run(capped, 40) if isinstance(m, ls.MirrorBuySignal))
    land(capped, first.unsigned_tx_b64)
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
                land(sim, message.unsigned_tx_b64)
            elif isinstance(message, ls.ExitSignalWithTx):  # the dump scenario stops everything out
                settled = land(sim, message.unsigned_tx_b64)
                disabled += [m for m in settled if isinstance(m, ls.MirrorWalletAutoDisabled)]
        if disabled:
            break
    (event,) = disabled
    assert (event.reason, event.loss_count) == ("consecutive_loss_limit_reached", 2)
    assert not [m for m in run(sim, 120) if isinstance(m, (ls.MirrorBuySignal, ls.MirrorBuyFailed))]
    sim.command(ls.proto.UpdateWatchWallets(watch_wallets=tuple(sim.mirror.entries)))  # re-enable (Q15)
    assert [m for m in run(sim, 120) if isinstance(m, ls.MirrorBuySignal)]
