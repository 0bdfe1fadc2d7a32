"""Every server fixture decodes to exactly the value PROTOCOL.md / fixtures/README.md give."""

from __future__ import annotations

import json
from typing import Any, Dict

import attrs
import pytest

import lasersell_sync as ls
from tests.support import FIXTURES, fixture_bytes, fixture_json

SPL = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
T22 = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
K1, K2, K3, K4, K5 = (str(n) * 32 for n in range(1, 6))
WSOL = "So11111111111111111111111111111111111111112"
PUMPSWAP_DOCS = ls.proto.MarketContext(
    market_type="pump_swap", pumpswap=ls.proto.PumpSwapContext(pool="PoolAddress...")
)

EXPECTED: Dict[str, Any] = {
    "server_hello_ok.json": ls.HelloOk(
        session_id=42,
        server_time_ms=1706000000000,
        limits=ls.proto.Limits(
            hi_capacity=1024,
            pnl_flush_ms=1000,
            max_positions_per_session=100,
            max_wallets_per_session=10,
            max_positions_per_wallet=20,
            max_sessions_per_api_key=5,
            max_watch_wallets_per_session=0,
        ),
    ),
    "server_hello_ok_tier_professional.json": ls.HelloOk(
        session_id=42,
        server_time_ms=1706000000000,
        limits=ls.proto.Limits(
            hi_capacity=256,
            pnl_flush_ms=100,
            max_positions_per_session=500,
            max_wallets_per_session=5,
            max_positions_per_wallet=100,
            max_sessions_per_api_key=1,
        ),
    ),
    "server_hello_ok_proto_roundtrip.json": ls.HelloOk(
        session_id=42,
        server_time_ms=1700000000000,
        limits=ls.proto.Limits(
            hi_capacity=256,
            pnl_flush_ms=100,
            max_positions_per_session=256,
            max_wallets_per_session=8,
            max_positions_per_wallet=64,
            max_sessions_per_api_key=1,
            max_watch_wallets_per_session=10,
        ),
    ),
    "server_hello_ok_minimal_limits.json": ls.HelloOk(
        session_id=1,
        server_time_ms=1706000000000,
        limits=ls.proto.Limits(hi_capacity=256, pnl_flush_ms=100, max_positions_per_session=2),
    ),
    "server_pong.json": ls.Pong(server_time_ms=1706000000001),
    "server_extra_fields_ignored.json": ls.Pong(server_time_ms=1706000000002),
    "server_error_invalid_strategy.json": ls.ErrorMessage(
        code="invalid_strategy", message="target_profit_pct must be >= 0"
    ),
    "server_error_capacity_exceeded.json": ls.ErrorMessage(
        code="capacity_exceeded", message="max_positions_per_session limit reached"
    ),
    "server_error_wallet_not_registered.json": ls.ErrorMessage(
        code="wallet_not_registered", message=f"wallet {K1} is not registered to this account"
    ),
    "server_balance_update.json": ls.BalanceUpdate(
        wallet_pubkey="Abc123...",
        mint="TokenMint...",
        token_account="ATA...",
        token_program=SPL,
        tokens=5000000,
        slot=280000000,
    ),
    "server_balance_update_minimal.json": ls.BalanceUpdate(wallet_pubkey=K1, mint=K2, tokens=0, slot=280000050),
    "server_position_opened.json": ls.PositionOpened(
        position_id=1,
        wallet_pubkey="Abc123...",
        mint="TokenMint...",
        token_account="ATA...",
        token_program=SPL,
        tokens=5000000,
        entry_quote_units=100000000,
        market_context=PUMPSWAP_DOCS,
        slot=280000000,
    ),
    "server_position_opened_full.json": ls.PositionOpened(
        position_id=7,
        wallet_pubkey=K5,
        mint=K1,
        token_account=K2,
        token_program=T22,
        tokens=123456789012,
        entry_quote_units=250000000,
        market_context=ls.proto.MarketContext(
            market_type="raydium_launchpad",
            raydium_launchpad=ls.proto.RaydiumLaunchpadContext(
                pool=K1, config=K2, platform=K3, quote_mint=WSOL, user_quote_account=K4
            ),
        ),
        token_name="Lamppoli",
        token_symbol="LAMP",
        token_decimals=6,
        token_price_quote=28,
        market_cap_quote=28000000000,
        pool_liquidity_quote=85000000000,
        opened_at_ms=1706000000000,
        slot=280000000,
        watched=True,
        mirror_source="WatchedWalletPubkey...",
    ),
    "server_position_opened_unknown_market_type.json": ls.PositionOpened(
        position_id=9,
        wallet_pubkey=K5,
        mint=K1,
        token_account=K2,
        tokens=1000,
        entry_quote_units=1000000,
        market_context=ls.proto.MarketContext(market_type="future_dex", extra={"future_dex": {"pool": K3}}),
        slot=280000001,
    ),
    "server_position_closed.json": ls.PositionClosed(
        position_id=1,
        wallet_pubkey="Abc123...",
        mint="TokenMint...",
        token_account="ATA...",
        reason="stop_loss",
        slot=280000100,
    ),
    "server_position_closed_watched.json": ls.PositionClosed(
        position_id=7,
        wallet_pubkey=K5,
        mint=K1,
        reason="trailing_stop",
        mirror_source="WatchedWalletPubkey...",
        slot=280000200,
        watched=True,
    ),
    "server_exit_signal_with_tx.json": ls.ExitSignalWithTx(
        session_id=42,
        position_id=1,
        wallet_pubkey="Abc123...",
        mint="TokenMint...",
        token_account="ATA...",
        token_program=SPL,
        position_tokens=5000000,
        profit_units=50000000,
        reason="target_profit",
        triggered_at_ms=1706000005000,
        market_context=PUMPSWAP_DOCS,
        unsigned_tx_b64="AQAAAA...",
    ),
    "server_exit_signal_with_tx_proto_roundtrip.json": ls.ExitSignalWithTx(
        session_id=7,
        position_id=8,
        wallet_pubkey=K5,
        mint=K1,
        token_account=K2,
        position_tokens=10,
        profit_units=5,
        reason="tp",
        triggered_at_ms=123,
        market_context=ls.proto.MarketContext(
            market_type="raydium_cpmm",
            raydium_cpmm=ls.proto.RaydiumCpmmContext(pool=K1, config=K2, quote_mint=K3, user_quote_account=K4),
        ),
        unsigned_tx_b64="dGVzdA==",
    ),
    "server_exit_signal_with_tx_partial.json": ls.ExitSignalWithTx(
        session_id=1,
        position_id=2,
        wallet_pubkey=K1,
        mint=K2,
        position_tokens=1000,
        profit_units=50,
        reason="chained_tp",
        triggered_at_ms=999,
        unsigned_tx_b64="dGVzdA==",
        sell_tokens=300,
        level_index=0,
    ),
    "server_exit_signal_with_tx_manual.json": ls.ExitSignalWithTx(
        session_id=7,
        position_id=42,
        wallet_pubkey=K1,
        mint=WSOL,
        position_tokens=25,
        profit_units=12,
        reason="manual",
        triggered_at_ms=1700000000001,
        unsigned_tx_b64="dGVzdF90eA==",
    ),
    "server_exit_signal_with_tx_mirror_loss.json": ls.ExitSignalWithTx(
        session_id=42,
        position_id=7,
        wallet_pubkey=K5,
        mint=K1,
        token_account=K2,
        token_program=SPL,
        position_tokens=123456789012,
        profit_units=-37500000,
        reason="stop_loss",
        triggered_at_ms=1706000009000,
        market_context=ls.proto.MarketContext(market_type="pump_fun", pumpfun=ls.proto.PumpFunContext()),
        unsigned_tx_b64="dGVzdA==",
        mirror_source="WatchedWalletPubkey...",
        watched=True,
    ),
    "server_mirror_buy_signal.json": ls.MirrorBuySignal(
        session_id=42,
        watched_wallet="WatchedWalletPubkey...",
        mint="TokenMint...",
        user_wallet="YourWalletPubkey...",
        amount_quote_units=100000000,
        input="SOL",
        unsigned_tx_b64="AQAAAA...",
        slippage_bps=2500,
        send_mode="helius_sender",
        tip_lamports=1000,
        market_context=PUMPSWAP_DOCS,
    ),
    "server_mirror_buy_signal_minimal.json": ls.MirrorBuySignal(
        session_id=42,
        watched_wallet=K3,
        mint=K1,
        user_wallet=K5,
        amount_quote_units=5000000,
        input="USD1",
        unsigned_tx_b64="dGVzdA==",
        slippage_bps=2500,
    ),
    "server_mirror_buy_failed.json": ls.MirrorBuyFailed(
        watched_wallet="WatchedWalletPubkey...", mint="TokenMint...", reason="insufficient_balance"
    ),
    "server_mirror_wallet_auto_disabled.json": ls.MirrorWalletAutoDisabled(
        watched_wallet="WatchedWalletPubkey...", reason="consecutive_loss_limit_reached", loss_count=3
    ),
    "server_pnl_update.json": ls.PnlUpdate(
        position_id=1, profit_units=25000000, proceeds_units=125000000, server_time_ms=1706000003000
    ),
    "server_pnl_update_proto_roundtrip.json": ls.PnlUpdate(
        position_id=5, profit_units=12, proceeds_units=34, server_time_ms=999
    ),
    "server_pnl_update_extended.json": ls.PnlUpdate(
        position_id=7,
        profit_units=-12500000,
        proceeds_units=237500000,
        server_time_ms=1706000004000,
        token_price_quote=24,
        market_cap_quote=24000000000,
        watched=True,
    ),
    "server_liquidity_snapshot.json": ls.LiquiditySnapshot(
        position_id=1,
        bands=(
            ls.proto.SlippageBand(slippage_bps=100, max_tokens=500000, coverage_pct=10.0),
            ls.proto.SlippageBand(slippage_bps=200, max_tokens=1200000, coverage_pct=24.0),
            ls.proto.SlippageBand(slippage_bps=500, max_tokens=3000000, coverage_pct=60.0),
            ls.proto.SlippageBand(slippage_bps=1000, max_tokens=5000000, coverage_pct=100.0),
        ),
        liquidity_trend="stable",
        server_time_ms=1706000003000,
    ),
    "server_liquidity_snapshot_proto_roundtrip.json": ls.LiquiditySnapshot(
        position_id=5,
        bands=(
            ls.proto.SlippageBand(slippage_bps=100, max_tokens=5000, coverage_pct=50.0),
            ls.proto.SlippageBand(slippage_bps=500, max_tokens=10000, coverage_pct=100.0),
        ),
        liquidity_trend="growing",
        server_time_ms=999,
    ),
    "server_liquidity_snapshot_draining_watched.json": ls.LiquiditySnapshot(
        position_id=7,
        bands=(
            ls.proto.SlippageBand(slippage_bps=100, max_tokens=0, coverage_pct=0.0),
            ls.proto.SlippageBand(slippage_bps=200, max_tokens=1500, coverage_pct=1.2),
            ls.proto.SlippageBand(slippage_bps=500, max_tokens=9000, coverage_pct=7.5),
            ls.proto.SlippageBand(slippage_bps=1000, max_tokens=20000, coverage_pct=16.66),
        ),
        liquidity_trend="draining",
        server_time_ms=1706000004000,
        watched=True,
    ),
    "server_liquidity_snapshot_empty_bands.json": ls.LiquiditySnapshot(
        position_id=3, bands=(), liquidity_trend="stable", server_time_ms=1706000004500
    ),
    "server_trade_tick.json": ls.TradeTick(
        position_id=1,
        time_ms=1706000005000,
        side="buy",
        token_amount=500000,
        quote_amount=25000000,
        price_quote=50000,
        maker="TraderWallet...",
        tx_signature="5abc...",
    ),
    "server_trade_tick_proto_roundtrip.json": ls.TradeTick(
        position_id=7,
        time_ms=1700000000123,
        side="buy",
        token_amount=50000000,
        quote_amount=1200000000,
        price_quote=24000,
        maker=K1,
        tx_signature=K2,
    ),
    "server_trade_tick_minimal.json": ls.TradeTick(
        position_id=7,
        time_ms=1706000006000,
        side="sell",
        token_amount=18446744073709551615,
        quote_amount=0,
        price_quote=0,
        watched=True,
    ),
    "server_unknown_type.json": ls.UnknownMessage(
        type="session_notice",
        fields={"notice_id": 17, "text": "maintenance window at 03:00 UTC", "extra": {"nested": [1, 2, 3]}},
    ),
}

MARKET_CONTEXTS: Dict[str, ls.proto.MarketContext] = {
    "market_context_pump_fun.json": ls.proto.MarketContext(market_type="pump_fun", pumpfun=ls.proto.PumpFunContext()),
    "market_context_pump_swap.json": ls.proto.MarketContext(
        market_type="pump_swap", pumpswap=ls.proto.PumpSwapContext(pool=K1, global_config=K2)
    ),
    "market_context_pump_swap_pool_only.json": PUMPSWAP_DOCS,
    "market_context_meteora_dbc.json": ls.proto.MarketContext(
        market_type="meteora_dbc", meteora_dbc=ls.proto.MeteoraDbcContext(pool=K1, config=K2, quote_mint=K3)
    ),
    "market_context_meteora_damm_v2.json": ls.proto.MarketContext(
        market_type="meteora_damm_v2", meteora_damm_v2=ls.proto.MeteoraDammV2Context(pool=K1)
    ),
    "market_context_raydium_launchpad.json": ls.proto.MarketContext(
        market_type="raydium_launchpad",
        raydium_launchpad=ls.proto.RaydiumLaunchpadContext(
            pool=K1, config=K2, platform=K3, quote_mint=K4, user_quote_account=K5
        ),
    ),
    "market_context_raydium_cpmm.json": ls.proto.MarketContext(
        market_type="raydium_cpmm",
        raydium_cpmm=ls.proto.RaydiumCpmmContext(pool=K1, config=K2, quote_mint=K3, user_quote_account=K4),
    ),
    "market_context_type_only.json": ls.proto.MarketContext(market_type="meteora_damm_v2"),
}


def test_every_server_fixture_has_an_expectation() -> None:
    on_disk = {p.name for p in FIXTURES.glob("server_*.json")}
    assert on_disk == set(EXPECTED)
    assert {p.name for p in FIXTURES.glob("market_context_*.json")} == set(MARKET_CONTEXTS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_server_fixture_decodes_to_expected_value(name: str) -> None:
    decoded = ls.proto.decode_server(fixture_bytes(name))
    assert decoded == EXPECTED[name]
    assert type(decoded) is type(EXPECTED[name])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_server_fixture_round_trips(name: str) -> None:
    decoded = ls.proto.decode_server(fixture_bytes(name))
    assert ls.proto.decode_server(ls.proto.encode_server(decoded)) == decoded
    # str and bytes frames decode identically
    assert ls.proto.decode_server(fixture_bytes(name).decode()) == decoded


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_server_encoding_matches_fixture_json(name: str) -> None:
    """Encoding writes the fixture's keys back: no null, defaults omitted where the wire omits them."""
    source = fixture_json(name)
    encoded = json.loads(ls.proto.encode_server(ls.proto.decode_server(fixture_bytes(name))))
    assert next(iter(encoded)) == "type"
    if name == "server_extra_fields_ignored.json":
        source = {k: source[k] for k in ("type", "server_time_ms")}
    if "limits" in source:
        # all seven limits are always written, as the official serializer does
        assert set(encoded["limits"]) == LIMIT_KEYS
        assert source["limits"].items() <= encoded["limits"].items()
        source["limits"] = encoded["limits"]
    assert encoded == source


LIMIT_KEYS = {
    "hi_capacity",
    "pnl_flush_ms",
    "max_positions_per_session",
    "max_wallets_per_session",
    "max_positions_per_wallet",
    "max_sessions_per_api_key",
    "max_watch_wallets_per_session",
}


def test_integer_fields_decode_as_exact_ints() -> None:
    tick = ls.proto.decode_server(fixture_bytes("server_trade_tick_minimal.json"))
    assert isinstance(tick, ls.TradeTick)
    assert type(tick.token_amount) is int
    assert tick.token_amount == 2**64 - 1


def test_integer_coverage_pct_decodes_as_float() -> None:
    snapshot = ls.proto.decode_server(fixture_bytes("server_liquidity_snapshot_draining_watched.json"))
    assert isinstance(snapshot, ls.LiquiditySnapshot)
    assert type(snapshot.bands[0].coverage_pct) is float


def test_level_index_zero_is_not_none() -> None:
    signal = ls.proto.decode_server(fixture_bytes("server_exit_signal_with_tx_partial.json"))
    assert isinstance(signal, ls.ExitSignalWithTx)
    assert signal.level_index == 0
    assert signal.level_index is not None


def test_unknown_market_type_is_kept_and_written_back() -> None:
    name = "server_position_opened_unknown_market_type.json"
    opened = ls.proto.decode_server(fixture_bytes(name))
    assert isinstance(opened, ls.PositionOpened)
    assert opened.market_context is not None
    assert opened.market_context.market_type == "future_dex"
    assert ls.proto.to_wire(opened.market_context) == fixture_json(name)["market_context"]


@pytest.mark.parametrize("name", sorted(MARKET_CONTEXTS))
def test_market_context_fixture(name: str) -> None:
    value = ls.proto.from_wire(ls.proto.MarketContext, fixture_json(name))
    assert value == MARKET_CONTEXTS[name]
    assert ls.proto.to_wire(value) == fixture_json(name)


def test_messages_are_frozen_and_hashable() -> None:
    pong = ls.proto.decode_server(fixture_bytes("server_pong.json"))
    with pytest.raises(AttributeError):
        pong.server_time_ms = 1  # type: ignore[misc]
    snapshot = ls.proto.decode_server(fixture_bytes("server_liquidity_snapshot.json"))
    assert hash(snapshot) == hash(ls.proto.decode_server(fixture_bytes("server_liquidity_snapshot.json")))


@pytest.mark.parametrize("name", sorted(name for name in EXPECTED if name.startswith("server_position_opened")))
def test_a_position_handle_copies_every_field_of_its_position_opened(name: str) -> None:
    opened = ls.proto.decode_server(fixture_bytes(name))
    assert isinstance(opened, ls.PositionOpened)
    handle = ls.PositionHandle.from_opened(opened)
    fields = [field.name for field in attrs.fields(ls.PositionHandle)]
    assert len(fields) == 17
    assert {field: getattr(handle, field) for field in fields} == {field: getattr(opened, field) for field in fields}
    assert handle.market_type == (opened.market_context.market_type if opened.market_context else None)
