"""Client-side strategy checks (the official SDKs' rules), so a bad strategy fails before it is sent.

The server answers a bad strategy with ``invalid_strategy`` only after a round trip, and during
a handshake that costs the whole connection; these checks fail fast with a precise message.
"""

from __future__ import annotations

from typing import Optional

from ..errors import InvalidStrategyError
from .strategy_rules import MAX_TAKE_PROFIT_LEVELS, check_strategy_fields
from .types import StrategyConfig, TakeProfitLevel

__all__ = ["MAX_TAKE_PROFIT_LEVELS", "ensure_exit_condition", "validate_strategy"]


def validate_strategy(strategy: StrategyConfig) -> None:
    """Check every field of a strategy for sane values.

    ``StrategyConfig`` runs the same checks when it is built, so this matters for a strategy
    that did not come through its constructor. Percentages must be finite and >= 0; ladder
    levels must have ``profit_pct`` > 0 strictly ascending, ``sell_pct`` in (0, 100], level
    ``trailing_stop_pct`` >= 0, at most 10 levels.

    Raises:
        InvalidStrategyError: naming the field, e.g. ``strategy.stop_loss_pct must be >= 0``.
    """
    if not isinstance(strategy, StrategyConfig):
        raise InvalidStrategyError(f"strategy must be a StrategyConfig, got {type(strategy).__name__}")
    check_strategy_fields(strategy, TakeProfitLevel)


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
