"""Client-side validation: strategies (PROTOCOL.md 7.9 and Q9), and the input checks shared by commands and requests."""

from __future__ import annotations

from typing import Any, get_args

import pytest

import lasersell_sync as ls
from lasersell_sync._checks import SEND_MODES, U64_MAX, check_choice
from lasersell_sync.proto.scalars import U64
from lasersell_sync.stream.commands import check_slippage, check_tip, selector
from lasersell_sync.tx import SEND_MODE_OF

K = "11111111111111111111111111111112"


def strategy(**overrides: Any) -> ls.StrategyConfig:
    fields: Any = {"target_profit_pct": 50.0, "stop_loss_pct": 10.0, **overrides}
    return ls.StrategyConfig(**fields)


def level(profit: Any, sell: Any = 25.0, trailing: Any = 0.0) -> ls.TakeProfitLevel:
    return ls.TakeProfitLevel(profit_pct=profit, sell_pct=sell, trailing_stop_pct=trailing)


def test_a_sane_strategy_passes() -> None:
    ls.validate_strategy(strategy(trailing_stop_pct=5, take_profit_levels=(level(20), level(40, 100))))
    ls.ensure_exit_condition(strategy())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"target_profit_pct": -1.0}, "strategy.target_profit_pct must be >= 0"),
        ({"stop_loss_pct": float("nan")}, "strategy.stop_loss_pct must be a finite number"),
        ({"trailing_stop_pct": float("inf")}, "strategy.trailing_stop_pct must be a finite number"),
        ({"breakeven_trail_pct": -0.5}, "strategy.breakeven_trail_pct must be >= 0"),
        ({"target_profit_pct": "50"}, "strategy.target_profit_pct must be a number, got str"),
        ({"stop_loss_pct": True}, "strategy.stop_loss_pct must be a number, got bool"),
        ({"liquidity_guard": 1}, "strategy.liquidity_guard must be a bool"),
        ({"take_profit_levels": (level(0),)}, r"take_profit_levels\[0\].profit_pct must be > 0"),
        (
            {"take_profit_levels": (level(20), level(20))},
            r"take_profit_levels\[1\].profit_pct must be greater",
        ),
        (
            {"take_profit_levels": (level(20), level(10))},
            r"take_profit_levels\[1\].profit_pct must be greater",
        ),
        ({"take_profit_levels": (level(20, 0),)}, r"take_profit_levels\[0\].sell_pct must be in \(0, 100\]"),
        ({"take_profit_levels": (level(20, 100.5),)}, r"sell_pct must be in \(0, 100\]"),
        (
            {"take_profit_levels": (level(20, 50, -1),)},
            r"take_profit_levels\[0\].trailing_stop_pct must be >= 0",
        ),
        ({"take_profit_levels": (level(float("nan")),)}, r"profit_pct must be a finite number"),
        ({"take_profit_levels": tuple(level(i + 1) for i in range(11))}, "11 levels; at most 10"),
    ],
)
def test_invalid_strategies_are_rejected_with_the_field_named(overrides: Any, message: str) -> None:
    with pytest.raises(ls.InvalidStrategyError, match=message):
        ls.validate_strategy(strategy(**overrides))


def test_invalid_strategy_error_is_a_value_error() -> None:
    assert issubclass(ls.InvalidStrategyError, ValueError)
    assert issubclass(ls.InvalidStrategyError, ls.LaserSellError)


def test_validate_rejects_non_strategy() -> None:
    with pytest.raises(ls.InvalidStrategyError, match="must be a StrategyConfig"):
        ls.validate_strategy({"target_profit_pct": 1})  # type: ignore[arg-type]


NOTHING = {"target_profit_pct": 0.0, "stop_loss_pct": 0.0}


def test_no_exit_condition_is_rejected() -> None:
    with pytest.raises(ls.InvalidStrategyError, match=r"at least one of strategy\.target_profit_pct"):
        ls.ensure_exit_condition(strategy(**NOTHING))


def test_sell_on_graduation_alone_is_not_an_exit_condition() -> None:
    with pytest.raises(ls.InvalidStrategyError, match="at least one"):
        ls.ensure_exit_condition(strategy(**NOTHING, sell_on_graduation=True), deadline_timeout_sec=0)


@pytest.mark.parametrize(
    ("overrides", "deadline"),
    [
        ({"target_profit_pct": 1.0}, None),
        ({"stop_loss_pct": 1.0}, None),
        ({"trailing_stop_pct": 1.0}, None),
        ({"take_profit_levels": (level(10),)}, None),
        ({}, 120),
    ],
)
def test_any_single_exit_condition_is_enough(overrides: Any, deadline: Any) -> None:
    ls.ensure_exit_condition(strategy(**{**NOTHING, **overrides}), deadline_timeout_sec=deadline)


@pytest.mark.parametrize(
    ("deadline", "message"), [(-1, "must be >= 0"), (1.5, "must be an integer"), (True, "integer")]
)
def test_bad_deadlines(deadline: Any, message: str) -> None:
    with pytest.raises(ls.InvalidStrategyError, match=message):
        ls.ensure_exit_condition(strategy(), deadline_timeout_sec=deadline)


# -- the shared input checks (lasersell_sync._checks): one definition for the stream and the Exit API


def test_the_u64_bound_is_the_one_the_codec_enforces() -> None:
    bounds = get_args(U64)[1]
    assert (bounds.name, bounds.low, bounds.high) == ("u64", 0, U64_MAX) == ("u64", 0, 2**64 - 1)


def test_the_send_modes_are_the_targets_send_modes() -> None:
    assert set(SEND_MODE_OF.values()) == SEND_MODES


@pytest.mark.parametrize(
    ("value", "accepted"),
    [(None, True), ("rpc", True), ("astralane", True), ("carrier_pigeon", False), (7, False), (["rpc"], False)],
)
def test_check_choice(value: Any, accepted: bool) -> None:
    if accepted:
        assert check_choice(value, "send_mode", SEND_MODES) == value
    else:
        with pytest.raises(
            ValueError, match=r"send_mode must be one of \['astralane', 'helius_sender', 'rpc'\] or None"
        ):
            check_choice(value, "send_mode", SEND_MODES, suffix=" or None")


def test_check_choice_accepts_an_enum_member_by_its_value() -> None:
    assert check_choice(ls.TxMode.FAST, "mode", {"fast", "secure"}) is ls.TxMode.FAST


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            lambda: ls.BuildSellTxRequest(mint=K, user_pubkey=K, amount_tokens=1, slippage_bps=10_001).validate(),
            "slippage_bps",
        ),
        (
            lambda: ls.BuildSellTxRequest(mint=K, user_pubkey=K, amount_tokens=2**64, slippage_bps=1).validate(),
            "amount_tokens",
        ),
    ],
)
def test_exit_api_requests_use_the_shared_bounds(command: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"{message} must be within"):
        command()


def test_session_commands_use_the_shared_bounds() -> None:
    assert check_slippage(10_000) == 10_000
    with pytest.raises(ValueError, match=r"slippage_bps must be within 0..10000"):
        check_slippage(10_001)
    with pytest.raises(ValueError, match=r"tip_lamports must be within 0..18446744073709551615"):
        check_tip(2**64)
    assert selector(2**64 - 1) == {"position_id": 2**64 - 1}
