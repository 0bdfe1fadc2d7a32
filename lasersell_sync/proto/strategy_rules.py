"""The rules a strategy's fields obey, checked where a ``StrategyConfig`` is built.

A strategy that breaks them fails at the line that wrote it, not later at ``StreamSession``
or after a round trip to the server. The models in ``types.py`` call these at construction;
``validation.py`` calls them again for objects that did not come through the constructor.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import math
import threading
import warnings
from typing import Any, Callable, Collection, Dict, Iterator, TypeVar

from ..errors import InvalidStrategyError, StrategyWarning

__all__ = [
    "MAX_TAKE_PROFIT_LEVELS",
    "check_strategy_fields",
    "checking",
    "keyword_hints",
    "unchecked",
    "warn_about_fractions",
]

MAX_TAKE_PROFIT_LEVELS = 10
PERCENT_FIELDS = ("target_profit_pct", "stop_loss_pct", "trailing_stop_pct", "breakeven_trail_pct")

# Names other SDKs and everyday speech use for a field, mapped to ours.
_ALIASES: Dict[str, str] = {
    "take_profit_pct": "target_profit_pct",
    "take_profit": "target_profit_pct",
    "target_profit": "target_profit_pct",
    "tp_pct": "target_profit_pct",
    "stop_loss": "stop_loss_pct",
    "stoploss_pct": "stop_loss_pct",
    "sl_pct": "stop_loss_pct",
    "trailing_stop": "trailing_stop_pct",
    "trailing_pct": "trailing_stop_pct",
    "levels": "take_profit_levels",
    "ladder": "take_profit_levels",
}

C = TypeVar("C", bound=type)
_local = threading.local()


@contextlib.contextmanager
def unchecked() -> Iterator[None]:
    """Build strategies on this thread without their checks, for as long as the block runs.

    Decoding uses it: a strategy on the wire is data for a server to judge (it answers
    ``invalid_strategy``), not a mistake in the code that decodes it.
    """
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth = depth


def checking() -> bool:
    """Whether a strategy built now on this thread is checked (outside :func:`unchecked`)."""
    return not getattr(_local, "depth", 0)


def number(name: str, value: Any) -> float:
    """``value`` as a float if it is a finite int or float (not a bool); else an error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidStrategyError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise InvalidStrategyError(f"{name} must be a finite number")
    return float(value)


def non_negative(name: str, value: Any) -> float:
    """A finite number >= 0, or an error naming ``name``."""
    result = number(name, value)
    if result < 0:
        raise InvalidStrategyError(f"{name} must be >= 0")
    return result


def check_strategy_fields(strategy: Any, level_class: Any) -> None:
    """Each field of ``strategy`` on its own: numbers, bools, and the ladder's order and bounds.

    Raises:
        InvalidStrategyError: naming the field, e.g. ``strategy.stop_loss_pct must be >= 0``.
    """
    for name in PERCENT_FIELDS:
        non_negative(f"strategy.{name}", getattr(strategy, name))
    for name in ("sell_on_graduation", "liquidity_guard"):
        if not isinstance(getattr(strategy, name), bool):
            raise InvalidStrategyError(f"strategy.{name} must be a bool")
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
        if not isinstance(level, level_class):
            raise InvalidStrategyError(
                f"{where} must be a TakeProfitLevel(profit_pct=..., sell_pct=...), got {type(level).__name__}"
            )
        profit = number(f"{where}.profit_pct", level.profit_pct)
        if profit <= 0:
            raise InvalidStrategyError(f"{where}.profit_pct must be > 0")
        if index and profit <= previous:
            raise InvalidStrategyError(f"{where}.profit_pct must be greater than the previous level's ({previous:g})")
        previous = profit
        sell = number(f"{where}.sell_pct", level.sell_pct)
        if not 0 < sell <= 100:
            raise InvalidStrategyError(f"{where}.sell_pct must be in (0, 100]")
        non_negative(f"{where}.trailing_stop_pct", level.trailing_stop_pct)


def warn_about_fractions(strategy: Any, stacklevel: int) -> None:
    """Warn about values that are valid but almost certainly not what was meant.

    A fraction such as ``0.3`` where ``30`` (percent) was meant would sell at 0.3 % profit; a
    stop loss above 100 % can never trigger.
    """
    for name in ("target_profit_pct", "stop_loss_pct", "trailing_stop_pct"):
        value = getattr(strategy, name)
        if 0 < value < 1:
            warnings.warn(
                f"strategy.{name}={value:g} is {value:g} %; for {value * 100:g} %, write "
                f"{name}={value * 100:g} (percentages are plain numbers, not fractions)",
                StrategyWarning,
                stacklevel=stacklevel + 1,
            )
    if strategy.stop_loss_pct > 100:
        warnings.warn(
            f"strategy.stop_loss_pct={strategy.stop_loss_pct:g} can never trigger: "
            "a position cannot lose more than 100 %",
            StrategyWarning,
            stacklevel=stacklevel + 1,
        )


def unknown_keyword_message(owner: str, keyword: str, known: Collection[str]) -> str:
    """``owner() got an unexpected keyword argument 'x'``, with the field that was probably meant."""
    message = f"{owner}() got an unexpected keyword argument {keyword!r}"
    guess = _ALIASES.get(keyword)
    if guess not in known:
        close = difflib.get_close_matches(keyword, list(known), n=1, cutoff=0.6)
        guess = close[0] if close else None
    if guess is not None:
        return f"{message}; did you mean {guess!r}?"
    return f"{message}; its fields are {', '.join(known)}"


def keyword_hints(cls: C) -> C:
    """Make an attrs class name the field that a misspelled keyword argument probably meant.

    Python's own message (``unexpected keyword argument 'take_profit_pct'``) leaves the user to
    find ``target_profit_pct`` in the docs.
    """
    original: Callable[..., None] = cls.__init__  # type: ignore[misc]
    known = [field.name for field in cls.__attrs_attrs__]  # type: ignore[attr-defined]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        for keyword in kwargs:
            if keyword not in known:
                raise TypeError(unknown_keyword_message(cls.__name__, keyword, known))
        original(self, *args, **kwargs)

    __init__.__doc__ = original.__doc__
    __init__.__signature__ = inspect.signature(original)  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = __init__  # type: ignore[misc]
    return cls
