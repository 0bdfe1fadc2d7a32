"""Every client fixture decodes to the documented value; encoding is the canonical JSON."""

from __future__ import annotations

import json
from typing import Any, Dict

import pytest

import lasersell_sync as ls
from tests.support import FIXTURES, fixture_bytes, fixture_json

K1, K2, K3, K4, K5 = (str(n) * 32 for n in range(1, 6))
TWO_WALLETS = (K1, K2)
BASIC = ls.StrategyConfig(target_profit_pct=5.0, stop_loss_pct=1.5)

EXPECTED: Dict[str, Any] = {
    "client_ping.json": ls.proto.Ping(client_time_ms=1706000000000),
    "client_configure.json": ls.proto.Configure(wallet_pubkeys=TWO_WALLETS, strategy=BASIC),
    "client_configure_compact.json": ls.proto.Configure(wallet_pubkeys=TWO_WALLETS, strategy=BASIC),
    "client_configure_legacy_wallet_pubkey.json": ls.proto.Configure(wallet_pubkeys=(K1,), strategy=BASIC),
    "client_configure_legacy_wallet_pubkey__canonical.json": ls.proto.Configure(wallet_pubkeys=(K1,), strategy=BASIC),
    "client_configure_strategy_minimal.json": ls.proto.Configure(
        wallet_pubkeys=(K1,), strategy=ls.StrategyConfig(target_profit_pct=25.0, stop_loss_pct=5.0)
    ),
    "client_configure_take_profit_levels.json": ls.proto.Configure(
        wallet_pubkeys=(K1,),
        strategy=ls.StrategyConfig(
            target_profit_pct=0.0,
            stop_loss_pct=5.0,
            trailing_stop_pct=10.0,
            take_profit_levels=(
                ls.TakeProfitLevel(profit_pct=50.0, sell_pct=30.0, trailing_stop_pct=5.0),
                ls.TakeProfitLevel(profit_pct=100.0, sell_pct=30.0, trailing_stop_pct=3.0),
            ),
            liquidity_guard=True,
        ),
    ),
    "client_configure_lifecycle_doc.json": ls.proto.Configure(
        wallet_pubkeys=("WALLET_PUBKEY_1", "WALLET_PUBKEY_2"),
        strategy=ls.StrategyConfig(target_profit_pct=5.0, stop_loss_pct=1.5, trailing_stop_pct=3.0),
        send_mode="helius_sender",
        tip_lamports=1000,
    ),
    "client_configure_docs_full.json": ls.proto.Configure(
        wallet_pubkeys=("WalletPubkey1...", "WalletPubkey2..."),
        strategy=ls.StrategyConfig(target_profit_pct=5.0, stop_loss_pct=1.5, trailing_stop_pct=3.0),
        send_mode="helius_sender",
        tip_lamports=1000,
        watch_wallets=(
            ls.WatchWalletEntry(pubkey="WatchWalletPubkey1..."),
            ls.WatchWalletEntry(
                pubkey="WatchWalletPubkey2...",
                auto_buy=ls.AutoBuyConfig(wallet_pubkey="YourBuyWallet...", amount_quote_units=100000000),
            ),
        ),
        mirror_config=ls.MirrorConfig(
            max_positions_per_wallet=1,
            cooldown_sec=30,
            skip_creator_tokens=False,
            max_active_sol=5.0,
            buy_slippage_bps=2500,
        ),
    ),
    "client_configure_mirror_full.json": ls.proto.Configure(
        wallet_pubkeys=(K5,),
        strategy=ls.StrategyConfig(
            target_profit_pct=50.0,
            stop_loss_pct=25.0,
            sell_on_graduation=True,
            take_profit_levels=(ls.TakeProfitLevel(profit_pct=20.0, sell_pct=25.0),),
            breakeven_trail_pct=10.0,
        ),
        send_mode="astralane",
        tip_lamports=1000000,
        watch_wallets=(
            ls.WatchWalletEntry(
                pubkey=K3,
                auto_buy=ls.AutoBuyConfig(wallet_pubkey=K5, amount_quote_units=100000000, amount_usd1_units=5000000),
                mirror_sell=True,
            ),
            ls.WatchWalletEntry(pubkey=K4),
        ),
        mirror_config=ls.MirrorConfig(
            skip_creator_tokens=True,
            min_liquidity_sol=10.5,
            max_entry_drift_pct=5.0,
            max_consecutive_losses=3,
        ),
    ),
    "client_update_strategy.json": ls.proto.UpdateStrategy(
        strategy=ls.StrategyConfig(
            target_profit_pct=15.0, stop_loss_pct=3.0, trailing_stop_pct=7.0, sell_on_graduation=True
        )
    ),
    "client_close_position_by_id.json": ls.proto.ClosePosition(position_id=1),
    "client_close_position_by_token_account.json": ls.proto.ClosePosition(token_account="ATA..."),
    "client_request_exit_signal_by_id.json": ls.proto.RequestExitSignal(position_id=1, slippage_bps=3000),
    "client_request_exit_signal_by_token_account.json": ls.proto.RequestExitSignal(
        token_account="ATA...", slippage_bps=3000
    ),
    "client_request_exit_signal_deadline.json": ls.proto.RequestExitSignal(token_account=K2),
    "client_sell_now_alias.json": ls.proto.RequestExitSignal(position_id=123, slippage_bps=42),
    "client_sell_now_alias__canonical.json": ls.proto.RequestExitSignal(position_id=123, slippage_bps=42),
    "client_update_wallets.json": ls.proto.UpdateWallets(wallet_pubkeys=("WalletPubkey1...", "WalletPubkey3...")),
    "client_update_wallets_single_string.json": ls.proto.UpdateWallets(wallet_pubkeys=(K1,)),
    "client_update_wallets_single_string__canonical.json": ls.proto.UpdateWallets(wallet_pubkeys=(K1,)),
    "client_update_position_strategy.json": ls.proto.UpdatePositionStrategy(
        position_id=1,
        strategy=ls.StrategyConfig(target_profit_pct=200.0, stop_loss_pct=5.0, trailing_stop_pct=10.0),
    ),
    "client_update_watch_wallets.json": ls.proto.UpdateWatchWallets(
        watch_wallets=(
            ls.WatchWalletEntry(pubkey="WatchWalletPubkey1..."),
            ls.WatchWalletEntry(
                pubkey="WatchWalletPubkey2...",
                auto_buy=ls.AutoBuyConfig(wallet_pubkey="YourBuyWallet...", amount_quote_units=100000000),
            ),
        )
    ),
    "client_update_watch_wallets_empty.json": ls.proto.UpdateWatchWallets(watch_wallets=()),
    "client_mirror_buy_result.json": ls.proto.MirrorBuyResult(mint="TokenMint...", success=True),
    "client_mirror_buy_result_failure.json": ls.proto.MirrorBuyResult(mint=K1, success=False),
}

# Fixtures whose JSON is not canonical, and the fixture holding their canonical encoding.
CANONICAL = {
    "client_configure.json": "client_configure_compact.json",
    "client_configure_legacy_wallet_pubkey.json": "client_configure_legacy_wallet_pubkey__canonical.json",
    "client_sell_now_alias.json": "client_sell_now_alias__canonical.json",
    "client_update_wallets_single_string.json": "client_update_wallets_single_string__canonical.json",
}


def test_every_client_fixture_has_an_expectation() -> None:
    assert {p.name for p in FIXTURES.glob("client_*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_client_fixture_decodes_to_expected_value(name: str) -> None:
    decoded = ls.proto.decode_client(fixture_bytes(name))
    assert decoded == EXPECTED[name]
    assert type(decoded) is type(EXPECTED[name])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_client_fixture_round_trips(name: str) -> None:
    decoded = ls.proto.decode_client(fixture_bytes(name))
    assert ls.proto.decode_client(ls.proto.encode_client(decoded)) == decoded


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_non_canonical_fixture_encodes_to_its_canonical_form(name: str) -> None:
    canonical = CANONICAL[name]
    decoded = ls.proto.decode_client(fixture_bytes(name))
    assert decoded == ls.proto.decode_client(fixture_bytes(canonical))
    assert json.loads(ls.proto.encode_client(decoded)) == fixture_json(canonical)


def test_compact_configure_is_byte_exact_apart_from_layout() -> None:
    """The recommended encoding: compact separators, type first, no nulls, canonical key order."""
    text = ls.proto.encode_client(EXPECTED["client_configure_compact.json"])
    expected = json.dumps(fixture_json("client_configure_compact.json"), separators=(",", ":"))
    assert text == expected


def test_legacy_aliases_are_never_written() -> None:
    configure = ls.proto.encode_client(
        ls.proto.decode_client(fixture_bytes("client_configure_legacy_wallet_pubkey.json"))
    )
    assert '"wallet_pubkey"' not in configure
    assert '"wallet_pubkeys":["' + K1 + '"]' in configure
    request = ls.proto.encode_client(ls.proto.decode_client(fixture_bytes("client_sell_now_alias.json")))
    assert request.startswith('{"type":"request_exit_signal"')


def test_configure_omits_unset_optionals_and_empty_watch_wallets() -> None:
    wire = json.loads(ls.proto.encode_client(ls.proto.Configure(wallet_pubkeys=(K1,), strategy=BASIC)))
    assert set(wire) == {"type", "wallet_pubkeys", "strategy"}
    assert "take_profit_levels" not in wire["strategy"]  # omitted when empty
    assert wire["strategy"]["trailing_stop_pct"] == 0.0  # other defaults always written


def test_update_watch_wallets_always_writes_the_list() -> None:
    assert ls.proto.encode_client(ls.proto.UpdateWatchWallets(watch_wallets=())) == (
        '{"type":"update_watch_wallets","watch_wallets":[]}'
    )


def test_watch_wallet_entry_always_writes_mirror_sell() -> None:
    wire = ls.proto.to_wire(ls.WatchWalletEntry(pubkey=K1))
    assert wire == {"pubkey": K1, "mirror_sell": False}


def test_mirror_config_writes_documented_defaults() -> None:
    """An absent key means 0 to the server, so all five defaulted fields are sent (Q14)."""
    assert ls.proto.to_wire(ls.MirrorConfig()) == {
        "max_positions_per_wallet": 1,
        "cooldown_sec": 30,
        "skip_creator_tokens": False,
        "max_active_sol": 5.0,
        "buy_slippage_bps": 2500,
    }


def test_mirror_config_decodes_absent_keys_as_the_protocol_zero() -> None:
    frame = '{"type":"configure","wallet_pubkeys":["w"],"strategy":{"target_profit_pct":1,"stop_loss_pct":1},"mirror_config":{}}'
    configure = ls.proto.decode_client(frame)
    assert isinstance(configure, ls.proto.Configure)
    assert configure.mirror_config == ls.MirrorConfig(
        max_positions_per_wallet=0,
        cooldown_sec=0,
        skip_creator_tokens=False,
        max_active_sol=0.0,
        buy_slippage_bps=0,
    )


def test_float_fields_given_as_ints_are_written_as_floats() -> None:
    text = ls.proto.encode_client(
        ls.proto.UpdateStrategy(strategy=ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=10))
    )
    assert '"target_profit_pct":50.0' in text
    assert '"stop_loss_pct":10.0' in text


def test_null_in_defaulted_fields_means_absent() -> None:
    frame = (
        '{"type":"update_strategy","strategy":{"target_profit_pct":1,"stop_loss_pct":2,'
        '"trailing_stop_pct":null,"sell_on_graduation":null,"take_profit_levels":null}}'
    )
    message = ls.proto.decode_client(frame)
    assert message == ls.proto.UpdateStrategy(strategy=ls.StrategyConfig(target_profit_pct=1.0, stop_loss_pct=2.0))


def test_decode_client_rejects_unknown_types() -> None:
    with pytest.raises(ls.ProtocolError, match="unknown client message type 'subscribe'") as info:
        ls.proto.decode_client('{"type":"subscribe"}')
    assert info.value.message_type == "subscribe"


def test_selectors_decode_in_any_combination() -> None:
    """The server side accepts both or neither selector (PROTO); the session enforces exactly one."""
    assert ls.proto.decode_client('{"type":"close_position"}') == ls.proto.ClosePosition()
    both = ls.proto.decode_client('{"type":"close_position","position_id":1,"token_account":"a"}')
    assert both == ls.proto.ClosePosition(position_id=1, token_account="a")


def test_to_wire_rejects_non_protocol_values() -> None:
    with pytest.raises(TypeError, match="not a LaserSell protocol value"):
        ls.proto.to_wire(object())


def test_the_converter_has_tagged_unions_for_both_directions() -> None:
    from lasersell_sync.proto.converter import converter

    assert converter.structure(
        {"type": "sell_now", "position_id": 1}, ls.proto.ClientMessage
    ) == ls.proto.RequestExitSignal(position_id=1)
    assert converter.structure({"type": "pong", "server_time_ms": 3}, ls.proto.ServerMessage) == ls.Pong(
        server_time_ms=3
    )
    assert converter.unstructure(ls.Pong(server_time_ms=3), ls.proto.ServerMessage) == {
        "type": "pong",
        "server_time_ms": 3,
    }
    with pytest.raises(ls.ProtocolError, match="field 'server_time_ms'"):
        converter.structure({"type": "pong"}, ls.proto.ServerMessage)
