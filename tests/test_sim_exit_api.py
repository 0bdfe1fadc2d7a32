"""The simulator's side of the Exit API: which API keys it accepts, and the account endpoints."""

from __future__ import annotations

import json

import pytest
import requests
from solders.keypair import Keypair
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

import lasersell_sync as ls
from lasersell_sync.simulator import Simulator
from tests.support import Collector

STRATEGY = ls.StrategyConfig(target_profit_pct=30, stop_loss_pct=10)
USER = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
MINT = "So11111111111111111111111111111111111111112"


def sell(user: str) -> ls.BuildSellTxRequest:
    return ls.BuildSellTxRequest(mint=MINT, user_pubkey=user, amount_tokens=1000, slippage_bps=500)


# -- api_keys ----------------------------------------------------------------------------------


def test_an_unknown_key_is_refused_on_the_upgrade_and_never_retried() -> None:
    with Simulator(seed=2, api_keys=["key-one", "key-two"]) as sim:
        assert sim.api_key == "key-one"
        session = ls.StreamSession("key-three", [sim.wallet_pubkey], STRATEGY, endpoint=sim.stream_url)
        with pytest.raises(ls.AuthenticationError):
            session.connect(timeout=5)
        session.close()
        with pytest.raises(InvalidStatus) as raw:  # what the wire says: 401 with a JSON error body
            connect(sim.stream_url, additional_headers={"x-api-key": "key-three"}, open_timeout=5)
        assert raw.value.response.status_code == 401
        assert json.loads(raw.value.response.body) == {"error": "invalid api key"}
        for key in ("key-one", "key-two"):  # each accepted key is its own account
            good = ls.StreamSession(key, [sim.wallet_pubkey], STRATEGY, endpoint=sim.stream_url)
            try:
                assert good.connect(timeout=5).session_id >= 1
            finally:
                good.close()


def test_an_unknown_key_gets_401_on_every_v1_path() -> None:
    with Simulator(seed=2, api_keys=("only-key",)) as sim:
        with ls.ExitApiClient("other-key", base_url=sim.api_url) as api:
            calls = [
                lambda: api.build_sell_tx(sell(sim.wallet_pubkey)),
                lambda: api.register_wallet(ls.prove_ownership(sim.wallet)),
                api.account,
                api.history,
                lambda: api.unregister_wallet(sim.wallet_pubkey),
            ]
            for call in calls:
                with pytest.raises(ls.ExitApiError) as info:
                    call()
                assert (info.value.kind, info.value.status, info.value.body) == ("http_status", 401, "invalid api key")
                assert "other-key" not in repr(info.value)
            assert api.health().ok  # /healthz is not an account call: no key needed
        with ls.ExitApiClient(sim.api_key, base_url=sim.api_url) as api:
            assert api.build_sell_tx(sell(sim.wallet_pubkey)).tx
            assert api.account().wallets == (sim.wallet_pubkey,)


def test_any_non_empty_key_is_accepted_by_default() -> None:
    with Simulator(seed=2) as sim:
        assert sim.api_key == "sim-api-key"
        session = ls.StreamSession("anything", [sim.wallet_pubkey], STRATEGY, endpoint=sim.stream_url)
        try:
            assert session.connect(timeout=5).session_id == 1
        finally:
            session.close()
        with ls.ExitApiClient("anything-else", base_url=sim.api_url) as api:
            assert api.build_sell_tx(sell(sim.wallet_pubkey)).tx


def test_api_keys_must_be_a_collection_of_non_empty_strings() -> None:
    with pytest.raises(TypeError, match="api_keys"):
        Simulator(api_keys="one-key")
    with pytest.raises(ValueError, match="api_keys"):
        Simulator(api_keys=["fine", ""])
    with pytest.raises(ValueError, match="at least one key"):
        Simulator(api_keys=[])  # would refuse every key, its own api_key included


# -- account, wallets, history, health ------------------------------------------------------------


def test_account_matches_what_hello_ok_announces() -> None:
    with Simulator(seed=5) as sim, ls.ExitApiClient(sim.api_key, base_url=sim.api_url) as api:
        session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], STRATEGY, endpoint=sim.stream_url)
        try:
            limits = session.connect(timeout=5).limits
        finally:
            session.close()
        account = api.account()
        assert (account.tier, account.tier_name) == (1, "tier_1")  # the default limits are Professional's
        assert (
            account.limits.max_wallets,
            account.limits.max_positions_per_wallet,
            account.limits.max_positions_per_session,
        ) == (limits.max_wallets_per_session, limits.max_positions_per_wallet, limits.max_positions_per_session)
        assert account.wallets == (sim.wallet_pubkey,)
        assert api.health() == ls.exit_api.HealthStatus(ok=True, http_status=200, status="ok")
    free = ls.proto.Limits(
        hi_capacity=256,
        pnl_flush_ms=100,
        max_positions_per_session=2,
        max_wallets_per_session=1,
        max_positions_per_wallet=2,
    )
    with Simulator(seed=5, limits=free) as sim, ls.ExitApiClient(sim.api_key, base_url=sim.api_url) as api:
        account = api.account()
        assert (account.tier, account.tier_name, account.limits.max_wallets) == (0, "free", 1)


def test_unregistered_wallets_are_refused_by_the_stream_again() -> None:
    stranger = Keypair()
    wallet = str(stranger.pubkey())
    with (
        Simulator(seed=6, require_registration=True) as sim,
        ls.ExitApiClient(sim.api_key, base_url=sim.api_url) as api,
    ):
        api.register_wallet(ls.prove_ownership(stranger))
        assert api.account().wallets == (sim.wallet_pubkey, wallet)
        session = ls.StreamSession(sim.api_key, [wallet], STRATEGY, endpoint=sim.stream_url)
        try:
            assert session.connect(timeout=5).session_id == 1
        finally:
            session.close()
        assert api.unregister_wallet(wallet) is True
        assert api.unregister_wallet(wallet) is False  # idempotent: already gone
        assert api.account().wallets == (sim.wallet_pubkey,)
        assert sim.registered_wallets == [sim.wallet_pubkey]
        session = ls.StreamSession(sim.api_key, [wallet], STRATEGY, endpoint=sim.stream_url)
        with pytest.raises(ls.StreamServerError) as info:
            session.connect(timeout=5)
        session.close()
        assert info.value.code == "wallet_not_registered"


def test_history_lists_the_trades_the_simulated_market_closed() -> None:
    closed = Collector("closed")
    with Simulator(seed=3, scenario="pump", speed=20) as sim:
        session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], STRATEGY, endpoint=sim.stream_url)
        sender = ls.TxSender()

        @session.on(ls.ExitSignalWithTx)
        def on_exit(event: ls.Event[ls.ExitSignalWithTx]) -> None:
            sender.send(
                ls.SendTargetRpc(url=sim.rpc_url), ls.sign_unsigned_tx(event.message.unsigned_tx_b64, sim.wallet)
            )

        session.on(ls.PositionClosed, lambda event: closed.add(event.message))
        with session, sender:
            closed.wait_count(2)
            sim.pause()  # nothing closes while the pages are compared
            with ls.ExitApiClient(sim.api_key, base_url=sim.api_url) as api:
                page = api.history()
                everything = list(api.iter_history(page_size=1))
                first = api.history(limit=1)
                second = api.history(limit=1, offset=1)
                by_mint = api.history(mint=page.trades[-1].mint)
                by_wallet = api.history(wallet=sim.wallet_pubkey)
                nobody = api.history(wallet=str(Keypair().pubkey()))
            with ls.ExitApiClient("another-account", base_url=sim.api_url) as other:
                assert other.history() == ls.exit_api.TradeHistoryPage(trades=(), total=0)
        assert sim.engine is not None
        settled = {p.position_id: p for p in sim.engine.closed}
    assert page.total == len(page.trades) == len(settled) >= 2
    assert [t.id for t in page.trades] == sorted((t.id for t in page.trades), reverse=True)  # most recent first
    announced = {c.position_id: c.reason for c in closed.snapshot()}
    for record in page.trades:
        position = settled[record.position_id]
        assert record.exit_reason == announced.get(record.position_id, record.exit_reason) == "target_profit"
        assert record.wallet_pubkey == sim.wallet_pubkey
        assert (record.entry_quote_units, record.exit_quote_units) == (position.entry_quote, position.realized_quote)
        assert record.profit_quote_units == position.realized_quote - position.entry_quote > 0
        assert record.tokens == position.initial_tokens
        assert record.market_kind == "PumpFun"
        assert (record.strategy_target_profit_pct, record.strategy_stop_loss_pct) == (30.0, 10.0)
        assert record.session_id == 1
        opened, closed_at = record.opened_at_datetime, record.closed_at_datetime
        assert opened is not None
        assert closed_at is not None
        assert opened <= closed_at
    assert everything == list(page.trades)
    assert (first.trades + second.trades) == page.trades[:2]
    assert first.total == second.total == page.total
    assert [t.mint for t in by_mint.trades] == [page.trades[-1].mint]
    assert by_mint.total == 1
    assert by_wallet == page
    assert nobody == ls.exit_api.TradeHistoryPage(trades=(), total=0)


def test_history_query_errors_and_cap_on_the_wire() -> None:
    with Simulator(seed=2) as sim:
        url, headers = sim.api_url + "/v1/history", {"x-api-key": sim.api_key}
        with requests.Session() as raw:
            assert raw.get(url + "?limit=1000", headers=headers, timeout=5).json() == {"trades": [], "total": 0}
            assert raw.get(url + "?mint=&wallet=", headers=headers, timeout=5).status_code == 200  # blank: no filter
            for query in ("limit=0", "offset=-1", "limit=ten", "mint=nope"):
                answer = raw.get(f"{url}?{query}", headers=headers, timeout=5)
                assert answer.status_code == 400, query
                assert "error" in answer.json()
            answer = raw.delete(sim.api_url + "/v1/wallets", json={"wallet_pubkey": "nope"}, headers=headers, timeout=5)
            assert (answer.status_code, answer.json()) == (400, {"error": "invalid wallet_pubkey"})
            assert raw.get(sim.api_url + "/healthz", timeout=5).json() == {"status": "ok"}
            assert raw.get(sim.api_url + "/nowhere", timeout=5).status_code == 404
            assert raw.get(sim.api_url + "/v1/nowhere", headers=headers, timeout=5).status_code == 404
            assert raw.post(sim.api_url + "/v1/sell", data=b"{", headers=headers, timeout=5).status_code == 400
