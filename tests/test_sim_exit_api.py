"""The simulator's side of the Exit API: which API keys it accepts, and the account endpoints."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

import lasersell_sync as ls
from lasersell_sync.simulator import Simulator

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
            ]
            for call in calls:
                with pytest.raises(ls.ExitApiError) as info:
                    call()
                assert (info.value.kind, info.value.status, info.value.body) == ("http_status", 401, "invalid api key")
                assert "other-key" not in repr(info.value)
        with ls.ExitApiClient(sim.api_key, base_url=sim.api_url) as api:
            assert api.build_sell_tx(sell(sim.wallet_pubkey)).tx


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
