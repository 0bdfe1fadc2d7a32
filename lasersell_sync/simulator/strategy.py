"""Exit-rule evaluation the way the LaserSell service applies a strategy, as a pure function.

Given a strategy, a position's running state and the latest price, :func:`evaluate` says whether
an exit fires and how much it sells. PnL percent is relative to the entry cost per token, so it
does not change when part of the position is sold. The rules, checked in this order on each
price: the next ``take_profit_levels`` step (a ladder, when set, replaces ``target_profit_pct``;
each level's ``sell_pct`` is a percent of the tokens held when its signal is built, and a level's
``trailing_stop_pct`` becomes the position's trailing stop from then on); ``target_profit_pct``;
the breakeven trail (once the peak reaches ``breakeven_trail_pct``, falling back to the entry
price exits); ``stop_loss_pct``; ``trailing_stop_pct`` (measured from a positive peak); and
``sell_on_graduation``. A percent of 0 switches its rule off.
"""

from __future__ import annotations

from typing import Optional

import attrs

from ..proto import StrategyConfig

__all__ = ["ExitDecision", "PositionState", "evaluate", "level_tokens", "pnl_pct", "refreshed"]


@attrs.define
class PositionState:
    """What the engine remembers about one position between price ticks."""

    entry_price: float  # quote atomic units per token at entry
    tokens: int  # tokens still held
    peak_pnl_pct: float = float("-inf")
    levels_fired: int = 0
    trailing_override: Optional[float] = None
    breakeven_armed: bool = False


@attrs.frozen
class ExitDecision:
    """An exit that fired: the reason the stream reports and how much it sells."""

    reason: str
    sell_tokens: Optional[int] = None  # None: the whole position
    level_index: Optional[int] = None
    sell_pct: Optional[float] = None  # a ladder level's percent of the tokens held, re-applied by a fresh signal


def pnl_pct(state: PositionState, price: float) -> float:
    """Profit in percent of the entry price per token, the unit every strategy threshold uses."""
    return (price - state.entry_price) / state.entry_price * 100.0


def evaluate(
    strategy: StrategyConfig,
    state: PositionState,
    price: float,
    *,
    graduated: bool = False,
    sellable_tokens: Optional[int] = None,
) -> Optional[ExitDecision]:
    """Update ``state`` for a new price and return the exit that fires, if any.

    ``sellable_tokens`` is the liquidity available within the slippage the server accepts; with
    ``liquidity_guard`` a ladder sell is scaled down to it.
    """
    if state.tokens <= 0:
        return None
    pnl = pnl_pct(state, price)
    state.peak_pnl_pct = max(state.peak_pnl_pct, pnl)
    levels = strategy.take_profit_levels
    if state.levels_fired < len(levels):
        level = levels[state.levels_fired]
        if pnl >= level.profit_pct:
            return _fire_level(strategy, state, state.levels_fired, sellable_tokens)
    if not levels and strategy.target_profit_pct > 0 and pnl >= strategy.target_profit_pct:
        return ExitDecision("target_profit")
    if strategy.breakeven_trail_pct > 0 and state.peak_pnl_pct >= strategy.breakeven_trail_pct:
        state.breakeven_armed = True
    if state.breakeven_armed and pnl <= 0:
        return ExitDecision("breakeven")
    if strategy.stop_loss_pct > 0 and pnl <= -strategy.stop_loss_pct:
        return ExitDecision("stop_loss")
    trailing = state.trailing_override if state.trailing_override is not None else strategy.trailing_stop_pct
    if trailing > 0 and state.peak_pnl_pct > 0 and state.peak_pnl_pct - pnl >= trailing:
        return ExitDecision("trailing_stop")
    if strategy.sell_on_graduation and graduated:
        return ExitDecision("graduation")
    return None


def _fire_level(strategy: StrategyConfig, state: PositionState, index: int, sellable: Optional[int]) -> ExitDecision:
    level = strategy.take_profit_levels[index]
    state.levels_fired += 1
    if level.trailing_stop_pct > 0:
        state.trailing_override = level.trailing_stop_pct
    amount = level_tokens(strategy, level.sell_pct, state.tokens, sellable)
    return ExitDecision("chained_tp", sell_tokens=amount, level_index=index, sell_pct=level.sell_pct)


def level_tokens(strategy: StrategyConfig, sell_pct: float, held: int, sellable: Optional[int]) -> int:
    """What a ladder level sells: ``sell_pct`` of the ``held`` tokens (100 % is all of them),
    scaled down to ``sellable`` under ``liquidity_guard``; never more than is held."""
    amount = held if sell_pct >= 100 else int(held * sell_pct / 100)
    if strategy.liquidity_guard and sellable is not None:
        amount = min(amount, sellable)
    return max(1, min(amount, held))


def refreshed(pending: ExitDecision, strategy: StrategyConfig, held: int, sellable: Optional[int]) -> ExitDecision:
    """A fresh signal for a partial exit still unsold (the answer to ``request_exit_signal``).

    It is built from the tokens held now, like any signal (``position_tokens`` is what is held
    at signal time): a ladder level re-applies its percent to them, so a last level of 100 %
    sells what is left once an earlier level has sold; a set amount (a partial Exit API sell) is
    capped at them. Repeating an amount computed from a balance that has since shrunk would
    only fail on chain again, however often it was retried.
    """
    if pending.sell_pct is not None:
        amount = level_tokens(strategy, pending.sell_pct, held, sellable)
    elif pending.sell_tokens is not None:
        amount = max(1, min(pending.sell_tokens, held))
    else:
        return ExitDecision("manual")  # the whole position, whatever is held
    return ExitDecision("manual", sell_tokens=amount, level_index=pending.level_index, sell_pct=pending.sell_pct)
