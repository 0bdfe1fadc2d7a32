"""The simulator's exit rules against hand-computed price paths (entry price 100)."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

import pytest

import lasersell_sync as ls
from lasersell_sync.simulator.strategy import ExitDecision, PositionState, evaluate, refreshed


def run(
    strategy: ls.StrategyConfig, prices: Sequence[float], tokens: int = 1000, **kw: Any
) -> List[Tuple[int, ExitDecision]]:
    """Feed prices; apply partial sells; return (tick index, decision) for every exit that fires."""
    state = PositionState(entry_price=100.0, tokens=tokens)
    fired = []
    for tick, price in enumerate(prices):
        decision = evaluate(strategy, state, price, **kw)
        if decision is not None:
            fired.append((tick, decision))
            state.tokens -= decision.sell_tokens if decision.sell_tokens is not None else state.tokens
            if state.tokens <= 0:
                break
    return fired


def strategy(**fields: Any) -> ls.StrategyConfig:
    return ls.StrategyConfig(**{"target_profit_pct": 0.0, "stop_loss_pct": 0.0, **fields})


def test_take_profit_fires_at_the_first_tick_at_or_above_target() -> None:
    assert run(strategy(target_profit_pct=50), [100, 120, 149.9, 150, 170]) == [(3, ExitDecision("target_profit"))]


def test_stop_loss_fires_at_the_first_tick_at_or_below() -> None:
    assert run(strategy(stop_loss_pct=10), [100, 95, 90.1, 90, 50]) == [(3, ExitDecision("stop_loss"))]


def test_trailing_stop_measures_points_of_entry_cost_from_the_peak() -> None:
    # peak 30 % at tick 2; exit when profit falls 5 points to 25 % (SDK README example)
    assert run(strategy(trailing_stop_pct=5), [100, 110, 130, 126, 125.5, 125]) == [(5, ExitDecision("trailing_stop"))]


def test_trailing_stop_is_not_armed_before_a_positive_peak() -> None:
    assert run(strategy(trailing_stop_pct=5), [100, 90, 80, 60, 40]) == []
    # the docs' table: peak 8 %, exit at 2.5 % (drop of 5.5 >= 5)
    assert run(strategy(trailing_stop_pct=5), [100, 108, 104, 102.5]) == [(3, ExitDecision("trailing_stop"))]


def test_ladder_sells_fractions_of_the_remaining_position() -> None:
    ladder = (
        ls.TakeProfitLevel(profit_pct=20, sell_pct=25),
        ls.TakeProfitLevel(profit_pct=50, sell_pct=50),
        ls.TakeProfitLevel(profit_pct=100, sell_pct=100),
    )
    fired = run(strategy(target_profit_pct=30, take_profit_levels=ladder), [100, 125, 140, 160, 210])
    assert fired == [
        (1, ExitDecision("chained_tp", sell_tokens=250, level_index=0, sell_pct=25)),  # 25 % of 1000
        (3, ExitDecision("chained_tp", sell_tokens=375, level_index=1, sell_pct=50)),  # 50 % of the 750 left
        (4, ExitDecision("chained_tp", sell_tokens=375, level_index=2, sell_pct=100)),  # all that is left
    ]  # target_profit_pct is ignored while a ladder is set (PROTO, Q11)


def test_a_level_trailing_stop_replaces_the_session_trailing_stop() -> None:
    ladder = (ls.TakeProfitLevel(profit_pct=20, sell_pct=50, trailing_stop_pct=2),)
    fired = run(strategy(trailing_stop_pct=10, take_profit_levels=ladder), [100, 120, 125, 123.5, 123])
    assert fired[1] == (4, ExitDecision("trailing_stop"))  # peak 25 %: 1.5 points down holds, 2.0 fires


def test_breakeven_trail_moves_the_stop_to_entry() -> None:
    fired = run(strategy(stop_loss_pct=20, breakeven_trail_pct=10), [100, 105, 111, 104, 100])
    assert fired == [(4, ExitDecision("breakeven"))]
    assert run(strategy(stop_loss_pct=20, breakeven_trail_pct=10), [100, 105, 99, 81, 80]) == [
        (4, ExitDecision("stop_loss"))
    ]


def test_liquidity_guard_scales_a_ladder_sell_down() -> None:
    ladder = (ls.TakeProfitLevel(profit_pct=10, sell_pct=50),)
    guarded = strategy(take_profit_levels=ladder, liquidity_guard=True)
    assert run(guarded, [100, 110], sellable_tokens=120) == [
        (1, ExitDecision("chained_tp", sell_tokens=120, level_index=0, sell_pct=50))
    ]
    unguarded = strategy(take_profit_levels=ladder)
    assert run(unguarded, [100, 110], sellable_tokens=120) == [
        (1, ExitDecision("chained_tp", sell_tokens=500, level_index=0, sell_pct=50))
    ]


def test_a_fresh_signal_re_applies_a_level_to_the_tokens_held_now() -> None:
    ladder = (ls.TakeProfitLevel(profit_pct=10, sell_pct=50), ls.TakeProfitLevel(profit_pct=20, sell_pct=100))
    plain = strategy(take_profit_levels=ladder)
    half = ExitDecision("chained_tp", sell_tokens=500, level_index=0, sell_pct=50)
    rest = ExitDecision("chained_tp", sell_tokens=1000, level_index=1, sell_pct=100)  # fired at 1000 held
    assert refreshed(half, plain, 1000, None) == ExitDecision("manual", 500, 0, 50)  # nothing sold: the same
    assert refreshed(rest, plain, 500, None) == ExitDecision("manual", 500, 1, 100)  # what is left, not 1000
    assert refreshed(half, plain, 300, None).sell_tokens == 150  # 50 % of what is held now
    guarded = strategy(take_profit_levels=ladder, liquidity_guard=True)
    assert refreshed(rest, guarded, 500, 120).sell_tokens == 120  # scaled down to the pool, as when it fired
    manual = ExitDecision("manual", sell_tokens=700)  # an Exit API partial sell: a set amount
    assert refreshed(manual, plain, 400, None) == ExitDecision("manual", 400)  # never more than is held
    assert refreshed(manual, plain, 900, None) == ExitDecision("manual", 700)


def test_sell_on_graduation() -> None:
    assert run(strategy(stop_loss_pct=50, sell_on_graduation=True), [100, 101], graduated=True) == [
        (0, ExitDecision("graduation"))
    ]
    assert run(strategy(stop_loss_pct=50), [100, 101], graduated=True) == []


@pytest.mark.parametrize("prices", [[100.0] * 5, [100, 101, 99, 100.5]])
def test_sideways_chop_fires_nothing(prices: Optional[List[float]]) -> None:
    assert run(strategy(target_profit_pct=50, stop_loss_pct=10, trailing_stop_pct=5), prices or []) == []
