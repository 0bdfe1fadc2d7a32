"""Client-side strategy checks (the official SDKs' rules), so a bad strategy fails before it is sent.

The server answers a bad strategy with ``invalid_strategy`` only after a round trip, and during
a handshake that costs the whole connection; these checks fail fast with a precise message.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Optional

from ..errors import InvalidStrategyError
from .types import StrategyConfig, TakeProfitLevel

__all__ = ["MAX_TAKE_PROFIT_LEVELS", "ensure_exit_condition", "validate_strategy"]

MAX_TAKE_PROFIT_LEVELS = 10
logger = logging.getLogger(__name__)


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidStrategyError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise InvalidStrategyError(f"{name} must be a finite number")
    return float(value)


def _non_negative(name: str, value: Any) -> float:
    number = _number(name, value)
    if number < 0:
        raise InvalidStrategyError(f"{name} must be >= 0")
    return number


def validate_strategy(strategy: StrategyConfig) -> None:
    """Check every field of a strategy for sane values.

    Percentages must be finite and >= 0; ladder levels must have ``profit_pct`` > 0 strictly
    ascending, ``sell_pct`` in (0, 100], level ``trailing_stop_pct`` >= 0, at most 10 levels.

    Raises:
        InvalidStrategyError: naming the field, e.g. ``strategy.stop_loss_pct must be >= 0``.
    """
    if not isinstance(strategy, StrategyConfig):
        raise InvalidStrategyError(f"strategy must be a StrategyConfig, got {type(strategy).__name__}")
    for name in ("target_profit_pct", "stop_loss_pct", "trailing_stop_pct", "breakeven_trail_pct"):
        _non_negative(f"strategy.{name}", getattr(strategy, name))
    for name in ("sell_on_graduation", "liquidity_guard"):
        if not isinstance(getattr(strategy, name), bool):
            raise InvalidStrategyError(f"strategy.{name} must be a bool")
    if strategy.stop_loss_pct > 100:
        logger.warning(
            "strategy.stop_loss_pct=%g can never trigger: a position cannot lose more than 100 %%",
            strategy.stop_loss_pct,
        )
    levels: Any = strategy.take_profit_levels
    if not isinstance(levels, (tuple, list)):
        raise InvalidStrategyError(
            f"strategy.take_profit_levels must be a sequence of TakeProfitLevel, got {type(levels).__name__}"
        )
    if len(levels) > MAX_TAKE_PROFIT_LEVELS:
        raise InvalidStrategyError(
            f"strategy.take_profit_levels has {len(levels)} levels; at most {MAX_TAKE_PROFIT_LEVELS} are allowed"
        )
    previous = 0.0
    for index, level in enumerate(levels):
        where = f"strategy.take_profit_levels[{index}]"
        if not isinstance(level, TakeProfitLevel):
            raise InvalidStrategyError(
                f"{where} must be a TakeProfitLevel(profit_pct=..., sell_pct=...), got {type(level).__name__}"
            )
        profit = _number(f"{where}.profit_pct", level.profit_pct)
        if profit <= 0:
            raise InvalidStrategyError(f"{where}.profit_pct must be > 0")
        if index and profit <= previous:
            raise InvalidStrategyError(f"{where}.profit_pct must be greater than the previous level's ({previous:g})")
        previous = profit
        sell = _number(f"{where}.sell_pct", level.sell_pct)
        if not 0 < sell <= 100:
            raise InvalidStrategyError(f"{where}.sell_pct must be in (0, 100]")
        _non_negative(f"{where}.trailing_stop_pct", level.trailing_stop_pct)


def ensure_exit_condition(strategy: StrategyConfig, deadline_timeout_sec: Optional[int] = None) -> None:
    """Require at least one way out: take profit, stop loss, trailing stop, deadline or a ladder.

    ``sell_on_graduation`` alone does not count: a token may never graduate. Call :func:`validate_strategy`
    first; this only checks the combination.

    Raises:
        InvalidStrategyError: when nothing would ever exit the position, or a negative deadline.
    """
    deadline = deadline_timeout_sec or 0
    if isinstance(deadline, bool) or not isinstance(deadline, int):
        raise InvalidStrategyError(f"deadline_timeout_sec must be an integer, got {type(deadline).__name__}")
    if deadline < 0:
        raise InvalidStrategyError("deadline_timeout_sec must be >= 0")
    if (
        strategy.target_profit_pct > 0
        or strategy.stop_loss_pct > 0
        or strategy.trailing_stop_pct > 0
        or deadline > 0
        or strategy.take_profit_levels
    ):
        return
    raise InvalidStrategyError(
        "at least one of strategy.target_profit_pct, strategy.stop_loss_pct, "
        "strategy.trailing_stop_pct, strategy.take_profit_levels or deadline_timeout_sec must be set (> 0)"
    )
