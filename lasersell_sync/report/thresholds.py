"""A strategy's thresholds as prices, and the trailing stop as it moved with the price.

The service states every threshold as a PnL percent of the entry cost (``target_profit_pct``,
``stop_loss_pct``, each ladder level's ``profit_pct``; the trailing stop in percentage points
below the best PnL so far, armed once that was above 0). A report draws them on the price axis:
X % is ``entry price x (1 + X / 100)``. That is exact where PnL follows the price (the simulator)
and close on the service, whose PnL is what a sale would return, slippage included: a signal
there fires slightly after the drawn line is crossed, the more so in a thin pool.

With a ladder, ``target_profit_pct`` is not drawn (the protocol ignores it then), and a level's
own ``trailing_stop_pct`` replaces the trailing distance once that level's signal arrived.
"""

from __future__ import annotations

from typing import Iterable, List, Mapping, Optional, Sequence

from ..proto import StrategyConfig
from .model import PricePoint, Threshold, TrailStep

__all__ = ["price_at_pct", "threshold_lines", "trailing_steps"]


def price_at_pct(entry_price: float, pct: float) -> float:
    """The price at which PnL is ``pct`` percent of the entry."""
    return entry_price * (1 + pct / 100)


def pct_at_price(entry_price: float, price: float) -> float:
    """The PnL percent of ``price`` against the entry price."""
    return (price / entry_price - 1) * 100


def threshold_lines(strategy: StrategyConfig, entry_price: float) -> List[Threshold]:
    """Take profit (without a ladder), stop loss and each ladder level, as prices."""
    lines: List[Threshold] = []
    levels = strategy.take_profit_levels
    if strategy.target_profit_pct > 0 and not levels:
        pct = strategy.target_profit_pct
        lines.append(Threshold("take_profit", pct, price_at_pct(entry_price, pct), f"take profit +{pct:g} %"))
    if strategy.stop_loss_pct > 0:
        pct = -strategy.stop_loss_pct
        lines.append(Threshold("stop_loss", pct, price_at_pct(entry_price, pct), f"stop loss {pct:g} %"))
    for index, level in enumerate(levels):
        label = f"level {index}: +{level.profit_pct:g} %, sell {level.sell_pct:g} %"
        lines.append(Threshold("ladder", level.profit_pct, price_at_pct(entry_price, level.profit_pct), label, index))
    return lines


def trailing_steps(
    strategy: StrategyConfig,
    entry_price: float,
    prices: Sequence[PricePoint],
    level_signals: Mapping[int, float],
    until: Optional[float] = None,
) -> List[TrailStep]:
    """Where the trailing stop stood over time: a step each time it moved.

    ``level_signals`` maps a ladder level's index to the time its first signal arrived (its
    ``trailing_stop_pct``, when above 0, applies from then on). ``until``: no steps after it
    (the position closed). Empty when no trailing distance is ever set or the price never rose
    above the entry.
    """
    changes = sorted(
        (t, level.trailing_stop_pct)
        for index, level in enumerate(strategy.take_profit_levels)
        if level.trailing_stop_pct > 0 and (t := level_signals.get(index)) is not None
    )
    distance, peak = strategy.trailing_stop_pct, float("-inf")
    steps: List[TrailStep] = []
    for point in _until(prices, until):
        while changes and changes[0][0] <= point.t:
            distance = changes.pop(0)[1]
        peak = max(peak, pct_at_price(entry_price, point.price))
        if distance <= 0 or peak <= 0:
            continue
        pct = peak - distance
        if steps and steps[-1].pct == pct:
            continue
        if steps and steps[-1].t == point.t:  # prices of one burst share its arrival time: one step
            steps.pop()
        steps.append(TrailStep(point.t, price_at_pct(entry_price, pct), pct))
    return steps


def _until(prices: Iterable[PricePoint], until: Optional[float]) -> Iterable[PricePoint]:
    return prices if until is None else (point for point in prices if point.t <= until)
