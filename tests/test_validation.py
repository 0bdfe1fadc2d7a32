"""Client-side validation: strategies (PROTOCOL.md 7.9 and Q9), and the input checks shared by commands and requests."""

from __future__ import annotations

import warnings
from typing import Any, get_args

import attrs
import pytest

import lasersell_sync as ls
from lasersell_sync._checks import SEND_MODES, U64_MAX, check_choice
from lasersell_sync.proto.scalars import U64
from lasersell_sync.stream.input_checks import check_slippage, check_tip, selector
from lasersell_sync.tx import SEND_MODE_OF

K = "11111111111111111111111111111112"


def strategy(**overrides: Any) -> ls.StrategyConfig:
    fields: Any = {"target_profit_pct": 50.0, "stop_loss_pct": 10.0, **overrides}
    return ls.StrategyConfig(**fields)


def level(profit: Any, sell: Any = 25.0, trailing: Any = 0.0) -> ls.TakeProfitLevel:
    return ls.TakeProfitLevel(profit_pct=profit, sell_pct=sell, trailing_stop_pct=trailing)


def test_a_sane_strategy_passes() -> None:
    ls.proto.validate_strategy(strategy(trailing_stop_pct=5, take_profit_levels=(level(20), level(40, 100))))
    ls.proto.ensure_exit_condition(strategy())


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
        ls.proto.validate_strategy(strategy(**overrides))


def test_invalid_strategy_error_is_a_value_error() -> None:
    assert issubclass(ls.InvalidStrategyError, ValueError)
    assert issubclass(ls.InvalidStrategyError, ls.LaserSellError)


def test_validate_rejects_non_strategy() -> None:
    with pytest.raises(ls.InvalidStrategyError, match="must be a StrategyConfig"):
        ls.proto.validate_strategy({"target_profit_pct": 1})  # type: ignore[arg-type]


# -- at construction: StrategyConfig checks itself, with the same messages -------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"target_profit_pct": "30"}, "strategy.target_profit_pct must be a number, got str"),
        ({"target_profit_pct": None}, "strategy.target_profit_pct must be a number, got NoneType"),
        ({"stop_loss_pct": -15}, "strategy.stop_loss_pct must be >= 0"),
        ({"trailing_stop_pct": float("nan")}, "strategy.trailing_stop_pct must be a finite number"),
        ({"take_profit_levels": (level(20), level(10))}, r"take_profit_levels\[1\].profit_pct must be greater"),
    ],
)
def test_a_strategy_is_checked_where_it_is_built(overrides: Any, message: str) -> None:
    fields: Any = {"target_profit_pct": 50.0, "stop_loss_pct": 10.0, **overrides}
    with pytest.raises(ls.InvalidStrategyError, match=message):
        ls.StrategyConfig(**fields)  # not later, at StreamSession or at the server
    with pytest.raises(ls.InvalidStrategyError, match=message):
        attrs.evolve(strategy(), **overrides)  # nor around the constructor


@pytest.mark.parametrize(
    ("keyword", "meant"),
    [
        ("take_profit_pct", "target_profit_pct"),
        ("stoploss_pct", "stop_loss_pct"),
        ("stop_loss", "stop_loss_pct"),
        ("trailing_stop", "trailing_stop_pct"),
        ("take_profit_level", "take_profit_levels"),
    ],
)
def test_a_misspelled_keyword_names_the_field_it_probably_meant(keyword: str, meant: str) -> None:
    fields: Any = {"target_profit_pct": 50.0, "stop_loss_pct": 10.0, keyword: 5}
    fields.pop(meant, None)
    with pytest.raises(TypeError) as info:
        ls.StrategyConfig(**fields)
    assert str(info.value) == (
        f"StrategyConfig() got an unexpected keyword argument {keyword!r}; did you mean {meant!r}?"
    )


def test_an_unknown_keyword_with_no_near_field_lists_the_fields() -> None:
    with pytest.raises(TypeError, match="'colour'; its fields are target_profit_pct, stop_loss_pct, "):
        ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=10, colour="red")  # type: ignore[call-arg]


def test_a_fraction_where_a_percent_is_meant_is_warned_about_at_the_line_that_wrote_it() -> None:
    with pytest.warns(ls.StrategyWarning) as caught:
        ls.StrategyConfig(target_profit_pct=0.3, stop_loss_pct=0.15)
    messages = [str(w.message) for w in caught]
    assert messages == [
        "strategy.target_profit_pct=0.3 is 0.3 %; for 30 %, write target_profit_pct=30 "
        "(percentages are plain numbers, not fractions)",
        "strategy.stop_loss_pct=0.15 is 0.15 %; for 15 %, write stop_loss_pct=15 "
        "(percentages are plain numbers, not fractions)",
    ]
    assert {w.filename for w in caught} == {__file__}


def test_whole_percents_raise_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ls.StrategyConfig(target_profit_pct=30, stop_loss_pct=15, trailing_stop_pct=1)


def test_a_decoded_strategy_is_data_for_the_server_to_judge() -> None:
    frame = '{"type":"update_strategy","strategy":{"target_profit_pct":-5,"stop_loss_pct":0.2}}'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decoded = ls.proto.decode_client(frame)  # the codec decodes; a server answers invalid_strategy
    assert isinstance(decoded, ls.proto.UpdateStrategy)
    with pytest.raises(ls.InvalidStrategyError, match=r"strategy\.target_profit_pct must be >= 0"):
        ls.proto.validate_strategy(decoded.strategy)
    with pytest.raises(ls.InvalidStrategyError):
        ls.StrategyConfig(target_profit_pct=-5, stop_loss_pct=1)  # the same thread still checks


NOTHING = {"target_profit_pct": 0.0, "stop_loss_pct": 0.0}


def test_no_exit_condition_is_rejected() -> None:
    with pytest.raises(ls.InvalidStrategyError, match=r"at least one of strategy\.target_profit_pct"):
        ls.proto.ensure_exit_condition(strategy(**NOTHING))


def test_sell_on_graduation_alone_is_not_an_exit_condition() -> None:
    with pytest.raises(ls.InvalidStrategyError, match="at least one"):
        ls.proto.ensure_exit_condition(strategy(**NOTHING, sell_on_graduation=True), deadline_timeout_sec=0)


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
    ls.proto.ensure_exit_condition(strategy(**{**NOTHING, **overrides}), deadline_timeout_sec=deadline)


@pytest.mark.parametrize(
    ("deadline", "message"), [(-1, "must be >= 0"), (1.5, "must be an integer"), (True, "integer")]
)
def test_bad_deadlines(deadline: Any, message: str) -> None:
    with pytest.raises(ls.InvalidStrategyError, match=message):
        ls.proto.ensure_exit_condition(strategy(), deadline_timeout_sec=deadline)


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
    assert check_choice(ls.exit_api.TxMode.FAST, "mode", {"fast", "secure"}) is ls.exit_api.TxMode.FAST


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
