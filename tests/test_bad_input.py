"""Bad frames raise ProtocolError naming the message type and the field, and nothing else."""

from __future__ import annotations

import re
from typing import Callable, Optional

import pytest

import lasersell_sync as ls
from lasersell_sync.proto import jsonlib
from tests.support import FIXTURES, fixture_bytes


@pytest.fixture(params=["default", "stdlib"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the installed backend and again with the standard-library parser."""
    if request.param == "stdlib":
        monkeypatch.setattr(jsonlib, "loads", jsonlib.loads_exact)
    return request.param


# (fixture, message type, field, words the message must contain)
INVALID_FIXTURES = [
    ("server_missing_type.json", None, "type", "'type' is missing"),
    ("server_type_not_string.json", None, "type", "not a string"),
    ("server_not_an_object.json", None, None, "must be a JSON object, got array"),
    ("server_pnl_update_missing_position_id.json", "pnl_update", "position_id", "required field missing"),
    ("server_position_opened_string_position_id.json", "position_opened", "position_id", "got string"),
    ("server_trade_tick_bool_amount.json", "trade_tick", "token_amount", "got boolean true"),
    (
        "server_position_opened_missing_token_account.json",
        "position_opened",
        "token_account",
        "required field missing",
    ),
    ("server_hello_ok_limits_missing_hi_capacity.json", "hello_ok", "limits.hi_capacity", "required"),
    ("server_pnl_update_negative_proceeds.json", "pnl_update", "proceeds_units", "out of range for u64"),
    ("server_liquidity_snapshot_bands_not_array.json", "liquidity_snapshot", "bands", "expected an array"),
    ("client_ping_missing_client_time_ms.json", "ping", "client_time_ms", "required field missing"),
    (
        "client_configure_strategy_missing_stop_loss.json",
        "configure",
        "strategy.stop_loss_pct",
        "required field missing",
    ),
    (
        "client_take_profit_level_go_sdk_keys.json",
        "update_strategy",
        "strategy.take_profit_levels[0].profit_pct",
        "required field missing",
    ),
]


def test_every_invalid_fixture_is_listed() -> None:
    assert {p.name for p in (FIXTURES / "invalid").glob("*.json")} == {row[0] for row in INVALID_FIXTURES}


@pytest.mark.parametrize(("name", "message_type", "field", "words"), INVALID_FIXTURES)
def test_invalid_fixture_is_rejected(
    backend: str, name: str, message_type: Optional[str], field: Optional[str], words: str
) -> None:
    decode: Callable[[bytes], object] = ls.proto.decode_client if name.startswith("client_") else ls.proto.decode_server
    with pytest.raises(ls.ProtocolError) as info:
        decode(fixture_bytes(f"invalid/{name}"))
    error = info.value
    assert error.message_type == message_type
    assert error.field == field
    assert words in str(error)
    if message_type:
        assert message_type in str(error)
    if field:
        assert f"'{field}'" in str(error)


PNL = '{{"type":"pnl_update","position_id":{pid},"profit_units":{profit},"proceeds_units":1,"server_time_ms":1}}'


@pytest.mark.parametrize(
    ("frame", "field", "words"),
    [
        (PNL.format(pid="null", profit=1), "position_id", r"expected an integer \(u64\), got null"),
        (PNL.format(pid=2**64, profit=1), "position_id", "out of range for u64"),
        (PNL.format(pid=-1, profit=1), "position_id", "out of range for u64"),
        (PNL.format(pid=1.5, profit=1), "position_id", r"got number 1\.5"),
        (PNL.format(pid=1e300, profit=1), "position_id", "out of range for u64"),
        (PNL.format(pid=2.0**60, profit=1), "position_id", "expected an exact integer"),  # beyond 2**53
        (PNL.format(pid='"1"', profit=1), "position_id", "got string '1'"),
        (PNL.format(pid="[1]", profit=1), "position_id", "got array"),
        (PNL.format(pid="{}", profit=1), "position_id", "got object"),
        (PNL.format(pid=1, profit=2**63), "profit_units", "out of range for i64"),
        # orjson reads this as the float -2.0**63, which is in range but not exact
        (PNL.format(pid=1, profit=-(2**63) - 1), "profit_units", "out of range for i64|exact integer"),
        (PNL.format(pid=1, profit="true"), "profit_units", "got boolean true"),
    ],
)
def test_integer_fields_are_strict(backend: str, frame: str, field: str, words: str) -> None:
    with pytest.raises(ls.ProtocolError) as info:
        ls.proto.decode_server(frame)
    assert info.value.message_type == "pnl_update"
    assert info.value.field == field
    assert re.search(words, str(info.value)), str(info.value)


def test_integral_float_within_exact_range_is_accepted(backend: str) -> None:
    """PROTOCOL Q22: 5.0 in an integer field is tolerated, converted exactly."""
    message = ls.proto.decode_server(PNL.format(pid="5.0", profit="-3.0"))
    assert isinstance(message, ls.PnlUpdate)
    assert (message.position_id, message.profit_units) == (5, -3)
    assert type(message.position_id) is int


def test_u16_range(backend: str) -> None:
    frame = (
        '{"type":"liquidity_snapshot","position_id":1,"liquidity_trend":"stable","server_time_ms":1,'
        '"bands":[{"slippage_bps":100,"max_tokens":1,"coverage_pct":1},'
        '{"slippage_bps":65536,"max_tokens":1,"coverage_pct":1}]}'
    )
    with pytest.raises(ls.ProtocolError, match=r"out of range for u16") as info:
        ls.proto.decode_server(frame)
    assert info.value.field == "bands[1].slippage_bps"


def test_u16_slippage_on_client_command(backend: str) -> None:
    with pytest.raises(ls.ProtocolError) as info:
        ls.proto.decode_client('{"type":"request_exit_signal","position_id":1,"slippage_bps":70000}')
    assert (info.value.message_type, info.value.field) == ("request_exit_signal", "slippage_bps")


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b'{"type":"pong","server_time_ms":1,"x":"\xc3"}', "not valid UTF-8"),
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b'{"type":"pong",}', "not valid JSON"),
        (b"NaN", "not valid JSON"),
        (b'{"type":"pong","server_time_ms":Infinity}', "not valid JSON"),
        (b'{"type":"pong","server_time_ms":-Infinity}', "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
        (b"null", "got null"),
        (b"42", "got number 42"),
        (b'"hello_ok"', "got string"),
        (b"true", "got boolean true"),
        (b"[]", "got array"),
    ],
)
def test_unparseable_frames(backend: str, frame: bytes, words: str) -> None:
    with pytest.raises(ls.ProtocolError) as info:
        ls.proto.decode_server(frame)
    assert words in str(info.value)
    assert info.value.message_type is None


def test_float_field_rejects_non_numbers(backend: str) -> None:
    frame = (
        '{"type":"liquidity_snapshot","position_id":1,"liquidity_trend":"stable","server_time_ms":1,'
        '"bands":[{"slippage_bps":1,"max_tokens":1,"coverage_pct":"60"}]}'
    )
    with pytest.raises(ls.ProtocolError, match=r"expected a number, got string '60'") as info:
        ls.proto.decode_server(frame)
    assert info.value.field == "bands[0].coverage_pct"


def test_huge_number_in_float_field(backend: str) -> None:
    frame = (
        '{"type":"liquidity_snapshot","position_id":1,"liquidity_trend":"stable","server_time_ms":1,'
        '"bands":[{"slippage_bps":1,"max_tokens":1,"coverage_pct":1e400}]}'
    )
    with pytest.raises(ls.ProtocolError, match=r"not valid JSON|not a finite number"):
        ls.proto.decode_server(frame)


def test_string_and_bool_fields_are_strict(backend: str) -> None:
    with pytest.raises(ls.ProtocolError, match=r"field 'code': expected a string, got number 5"):
        ls.proto.decode_server('{"type":"error","code":5,"message":"m"}')
    with pytest.raises(ls.ProtocolError, match=r"field 'success': expected a boolean, got string 'true'"):
        ls.proto.decode_client('{"type":"mirror_buy_result","mint":"m","success":"true"}')
    with pytest.raises(ls.ProtocolError, match=r"field 'watched': expected a boolean, got number 1"):
        ls.proto.decode_server(PNL.format(pid=1, profit=1)[:-1] + ',"watched":1}')


def test_nested_object_must_be_an_object(backend: str) -> None:
    with pytest.raises(ls.ProtocolError, match=r"field 'limits': expected an object, got array") as info:
        ls.proto.decode_server('{"type":"hello_ok","session_id":1,"server_time_ms":1,"limits":[]}')
    assert info.value.field == "limits"


def test_null_for_required_nested_object(backend: str) -> None:
    with pytest.raises(ls.ProtocolError, match=r"field 'strategy'") as info:
        ls.proto.decode_client('{"type":"update_strategy","strategy":null}')
    assert info.value.message_type == "update_strategy"


def test_every_bad_field_is_reported(backend: str) -> None:
    with pytest.raises(ls.ProtocolError) as info:
        ls.proto.decode_server('{"type":"error","code":1}')
    text = str(info.value)
    assert "field 'code'" in text
    assert "field 'message': required field missing" in text


def test_wallet_list_items_must_be_strings(backend: str) -> None:
    with pytest.raises(ls.ProtocolError) as info:
        ls.proto.decode_client('{"type":"update_wallets","wallet_pubkeys":["a",7]}')
    assert info.value.field == "wallet_pubkeys[1]"


def test_non_frame_arguments_raise_protocol_error() -> None:
    with pytest.raises(ls.ProtocolError, match="must be str or bytes"):
        ls.proto.decode_server(42)  # type: ignore[arg-type]


def test_bytearray_and_memoryview_frames_decode() -> None:
    raw = fixture_bytes("server_pong.json")
    assert (
        ls.proto.decode_server(bytearray(raw))
        == ls.proto.decode_server(memoryview(raw))
        == ls.Pong(server_time_ms=1706000000001)
    )


def test_long_garbage_is_truncated_in_the_message() -> None:
    with pytest.raises(ls.ProtocolError) as info:
        ls.proto.decode_server("x" * 10_000)
    assert len(str(info.value)) < 400


def test_protocol_error_is_a_value_error_and_a_lasersell_error() -> None:
    assert issubclass(ls.ProtocolError, ValueError)
    assert issubclass(ls.ProtocolError, ls.LaserSellError)
