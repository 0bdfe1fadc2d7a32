"""ExitApiClient against a real HTTP server on 127.0.0.1: payloads, envelopes, errors, retries."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

import lasersell_sync as ls
from lasersell_sync.backoff import RetryPolicy
from tests.httpserver import Recorded, Reply, ScriptedHttp, reply
from tests.support import fixture_json

KEY = "exit-api-SECRET-key"
MINT, USER, FEE = (str(Pubkey.new_unique()) for _ in range(3))
OK = {"status": "ok", "tx": "AQAB", "route": {"market_type": "pumpfun"}}
NO_WAIT = RetryPolicy(max_attempts=2, initial_backoff=0.0, max_backoff=0.0, jitter=0.0)


def with_keys(value: Any) -> Any:
    """A fixture with its placeholder public keys replaced by real ones."""
    text = json.dumps(value)
    for placeholder, real in (("TOKEN_MINT_ADDRESS", MINT), ("YOUR_WALLET_PUBKEY", USER), ("FEE_WALLET_PUBKEY", FEE)):
        text = text.replace(placeholder, real)
    return json.loads(text)


@pytest.fixture
def api(http: ScriptedHttp) -> Iterator[ls.ExitApiClient]:
    with ls.ExitApiClient(KEY, base_url=http.url + "///", retry=NO_WAIT, timeout=2.0, connect_timeout=1.0) as client:
        yield client


def sell(**overrides: Any) -> ls.BuildSellTxRequest:
    fields: Dict[str, Any] = {"mint": MINT, "user_pubkey": USER, "amount_tokens": 1000000, "slippage_bps": 2000}
    return ls.BuildSellTxRequest(**{**fields, **overrides})


def buy(**overrides: Any) -> ls.BuildBuyTxRequest:
    fields: Dict[str, Any] = {"mint": MINT, "user_pubkey": USER, "slippage_bps": 2000, "amount": 0.1}
    return ls.BuildBuyTxRequest(**{**fields, **overrides})


def test_minimal_sell_sends_the_official_payload_and_headers(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue("/v1/sell", reply(200, OK))
    response = api.build_sell_tx(sell())
    assert response == ls.exit_api.BuildTxResponse(tx="AQAB", route={"market_type": "pumpfun"}, debug=None)
    (request,) = http.requests
    assert (request.method, request.path) == ("POST", "/v1/sell")
    assert request.headers["x-api-key"] == KEY
    assert request.headers["content-type"] == "application/json"
    assert request.body == json.dumps(with_keys(fixture_json("rest_sell_request.json")), separators=(",", ":")).encode()


def test_full_sell_request_matches_the_schema(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue("/v1/sell", reply(200, OK))
    api.build_sell_tx(
        sell(
            output=ls.exit_api.SellOutput.USD1,
            mode="fast",
            market_context=ls.proto.MarketContext(
                market_type="pump_swap", pumpswap=ls.proto.PumpSwapContext(pool="PoolAddr...")
            ),
            send_mode="helius_sender",
            tip_lamports=1000,
            partner_fee_recipient=FEE,
            partner_fee_bps=25,
        )
    )
    assert http.requests[0].json() == with_keys(fixture_json("rest_sell_request_full.json"))
    assert list(http.requests[0].json()) == list(fixture_json("rest_sell_request_full.json"))  # key order


@pytest.mark.parametrize(
    ("request_", "fixture"),
    [
        (buy(), "rest_buy_request.json"),
        (
            buy(
                amount=None,
                amount_in_total=100000000,
                send_mode="rpc",
                tip_lamports=1000,
                partner_fee_recipient=FEE,
                partner_fee_lamports=5000000,
            ),
            "rest_buy_request_atomic.json",
        ),
    ],
)
def test_buy_requests_match_the_fixtures(
    http: ScriptedHttp, api: ls.ExitApiClient, request_: Any, fixture: str
) -> None:
    http.queue("/v1/buy", reply(200, OK))
    assert api.build_buy_tx(request_).tx == "AQAB"
    assert http.requests[0].json() == with_keys(fixture_json(fixture))
    assert list(http.requests[0].json()) == list(fixture_json(fixture))


def test_partial_sell_helper_sends_only_the_position_basics(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue("/v1/sell", reply(200, OK))
    message = ls.proto.decode_server(
        json.dumps(
            {
                "type": "position_opened",
                "position_id": 1,
                "wallet_pubkey": USER,
                "mint": MINT,
                "token_account": "TA",
                "tokens": 9,
                "entry_quote_units": 9,
                "slot": 1,
                "market_context": {"market_type": "pump_fun", "pumpfun": {}},
            }
        )
    )
    assert isinstance(message, ls.PositionOpened)
    handle = ls.PositionHandle.from_opened(message)
    api.build_partial_sell_tx(handle, amount_tokens=3000000, slippage_bps=500)
    expected = fixture_json("rest_sell_request_partial_helper.json")  # its placeholder keys are not valid keys
    expected.update(mint=MINT, user_pubkey=USER)
    assert http.requests[0].json() == expected
    assert list(http.requests[0].json()) == list(expected)


def test_partial_sell_helper_takes_anything_with_a_mint_and_a_wallet(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    """The Exit API sits below the stream: it asks for two attributes, not for a PositionHandle."""

    class Holding:
        mint = MINT
        wallet_pubkey = USER

    http.queue("/v1/sell", reply(200, OK))
    api.build_partial_sell_tx(Holding(), amount_tokens=5, slippage_bps=100)
    body = http.requests[0].json()
    assert (body["mint"], body["user_pubkey"], body["amount_tokens"], body["slippage_bps"]) == (MINT, USER, 5, 100)


@pytest.mark.parametrize(
    ("fixture", "tx", "debug"),
    [
        ("rest_sell_response_ok.json", "abc", None),
        ("rest_sell_response_openapi.json", None, "any"),
        ("rest_response_legacy_unsigned_tx.json", "legacy_tx", None),
        ("rest_response_bare_tx.json", "bare_tx", None),
        ("rest_response_status_ok_unsigned_tx_b64.json", "dGVzdA==", {"build_ms": 3}),
    ],
)
def test_every_success_envelope_parses(
    http: ScriptedHttp, api: ls.ExitApiClient, fixture: str, tx: Any, debug: Any
) -> None:
    body = fixture_json(fixture)
    http.queue("/v1/sell", reply(200, body))
    response = api.build_sell_tx(sell())
    assert response.tx == (tx if tx is not None else body["tx"])
    assert response.route == body.get("route")
    if debug != "any":
        assert response.debug == debug


@pytest.mark.parametrize(
    ("body", "kind", "words", "envelope"),
    [
        (
            fixture_json("rest_response_envelope_not_ready.json"),
            "envelope_status",
            "status=not_ready: indexing",
            "not_ready",
        ),
        (fixture_json("rest_response_envelope_error_message.json"), "envelope_status", "no viable route", "error"),
        (fixture_json("rest_response_status_ok_missing_tx.json"), "parse", "status=ok payload missing tx", None),
        (fixture_json("rest_response_unrecognized.json"), "parse", "did not match any supported schema", None),
        ("<html>oops</html>", "parse", "not valid JSON", None),
        ([1, 2], "parse", "must be an object", None),
    ],
)
def test_bad_2xx_bodies_are_typed_errors_and_not_retried(
    http: ScriptedHttp, api: ls.ExitApiClient, body: Any, kind: str, words: str, envelope: Any
) -> None:
    http.queue("/v1/sell", reply(200, body), reply(200, OK))
    with pytest.raises(ls.ExitApiError) as info:
        api.build_sell_tx(sell())
    assert info.value.kind == kind
    assert words in str(info.value)
    assert info.value.envelope_status == envelope
    assert not info.value.is_retryable
    assert len(http.requests) == 1


@pytest.mark.parametrize(
    ("status", "fixture", "summary", "attempts"),
    [
        (400, "rest_error_body_error.json", "invalid mint address", 1),
        (400, "rest_error_body_unsupported.json", None, 1),
        (404, "rest_error_body_not_indexed.json", "mint not indexed yet; try again shortly", 1),
        (422, "rest_error_body_error.json", "invalid mint address", 1),
        (429, "rest_error_body_rate_limited.json", "rate limit exceeded", 2),
        (500, "rest_error_body_error.json", "invalid mint address", 2),
        (503, "rest_error_body_error.json", "invalid mint address", 2),
    ],
)
def test_http_errors_are_summarised_and_retried_only_when_transient(
    http: ScriptedHttp, api: ls.ExitApiClient, status: int, fixture: str, summary: Any, attempts: int
) -> None:
    body = fixture_json(fixture)
    http.queue("/v1/sell", reply(status, body), reply(status, body))
    with pytest.raises(ls.ExitApiError) as info:
        api.build_sell_tx(sell())
    error = info.value
    assert (error.kind, error.status) == ("http_status", status)
    assert error.body == (summary if summary is not None else body["message"])
    assert error.is_retryable is (attempts == 2)
    assert len(http.requests) == attempts


def test_long_non_json_error_bodies_are_clipped(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue("/v1/sell", reply(400, "x" * 1000))
    with pytest.raises(ls.ExitApiError) as info:
        api.build_sell_tx(sell())
    assert info.value.body == "x" * 220


def test_a_transient_failure_then_success(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue("/v1/sell", reply(503, {"error": "busy"}), reply(200, OK))
    assert api.build_sell_tx_b64(sell()) == "AQAB"
    assert len(http.requests) == 2


def test_retry_after_is_honoured_within_its_cap(http: ScriptedHttp) -> None:
    import time

    stamps = []

    def record(request: Recorded) -> Reply:
        stamps.append(time.monotonic())
        if len(stamps) == 1:
            return reply(429, {"error": "rate limit exceeded"}, headers={"retry-after": "0.2"})
        return reply(200, OK)

    http.handlers["/v1/sell"] = record
    with ls.ExitApiClient(KEY, base_url=http.url, retry=NO_WAIT, max_retry_after=5.0) as client:
        assert client.build_sell_tx_b64(sell()) == "AQAB"
    assert stamps[1] - stamps[0] >= 0.2  # waited at least what the server asked


def test_timeouts_are_typed_and_retried(http: ScriptedHttp) -> None:
    http.queue("/v1/sell", reply(200, OK, delay=5.0), reply(200, OK, delay=5.0))
    client = ls.ExitApiClient(KEY, base_url=http.url, retry=NO_WAIT, timeout=0.1)
    with client, pytest.raises(ls.ExitApiError) as info:
        client.build_sell_tx(sell())
    assert info.value.kind == "timeout"
    assert info.value.is_retryable
    assert len(http.requests) == 2


def test_refused_connections_are_transport_errors() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ls.ExitApiClient(KEY, base_url=f"http://127.0.0.1:{port}", retry=NO_WAIT)
    with client, pytest.raises(ls.ExitApiError) as info:
        client.build_sell_tx(sell())
    assert info.value.kind == "transport"
    assert KEY not in str(info.value)


def test_sequential_calls_reuse_one_connection(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.defaults["/v1/sell"] = reply(200, OK)
    for _ in range(10):
        api.build_sell_tx(sell())
    assert len(http.requests) == 10
    assert http.connections == 1


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        (sell(mint="not-a-key"), "mint is not a valid Solana public key"),
        (sell(user_pubkey=""), "user_pubkey must be a base58"),
        (sell(amount_tokens=0), "amount_tokens must be within 1.."),
        (sell(amount_tokens=True), "amount_tokens must be an integer"),
        (sell(slippage_bps=10_001), "slippage_bps must be within 0..10000"),
        (sell(output="BTC"), "output must be one of"),
        (sell(mode="turbo"), "mode must be one of"),
        (sell(send_mode="carrier_pigeon"), "send_mode must be one of"),
        (sell(partner_fee_recipient=FEE, partner_fee_bps=51), "partner_fee_bps must be within 0..50"),
        (sell(partner_fee_recipient=FEE, partner_fee_lamports=50_000_001), "partner_fee_lamports must be within"),
        (sell(partner_fee_recipient=FEE, partner_fee_bps=1, partner_fee_lamports=1), "mutually exclusive"),
        (sell(partner_fee_bps=1), "needs partner_fee_recipient"),
        (buy(amount_in_total=5), "exactly one of amount"),
        (buy(amount=None), "exactly one of amount"),
        (buy(amount=float("nan")), "finite number > 0"),
        (buy(amount=-1.0), "finite number > 0"),
        (buy(input="BTC"), "input must be one of"),
    ],
)
def test_bad_input_fails_before_any_request(
    http: ScriptedHttp, api: ls.ExitApiClient, request_: Any, words: str
) -> None:
    call = api.build_sell_tx if isinstance(request_, ls.BuildSellTxRequest) else api.build_buy_tx
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(".", r"\.")):
        call(request_)
    assert http.requests == []


def test_register_wallet_sends_a_verifiable_proof_once(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    keypair = Keypair()

    def verify(request: Recorded) -> Reply:
        body = request.json()
        pubkey = Pubkey.from_string(body["wallet_pubkey"])
        ok = Signature.from_string(body["signature"]).verify(pubkey, body["message"].encode())
        return (
            reply(200, {"wallet_pubkey": body["wallet_pubkey"], "registered": True})
            if ok
            else reply(403, {"error": "bad signature"})
        )

    http.handlers["/v1/wallets/register"] = verify
    proof = ls.prove_ownership(keypair)
    api.register_wallet(proof, label="My Trading Wallet")
    body = http.requests[0].json()
    assert body == {
        "wallet_pubkey": str(keypair.pubkey()),
        "signature": proof.signature,
        "message": proof.message,
        "label": "My Trading Wallet",
    }

    forged = ls.proto.WalletProof(
        wallet_pubkey=str(keypair.pubkey()), signature=str(Keypair().sign_message(b"x")), message=proof.message
    )
    with pytest.raises(ls.ExitApiError) as info:
        api.register_wallet(forged)
    assert (info.value.kind, info.value.status, info.value.body) == ("http_status", 403, "bad signature")
    assert len(http.requests) == 2  # no retry for registration


def test_register_is_never_retried_even_on_503(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue("/v1/wallets/register", reply(503, {"error": "busy"}), reply(200, {}))
    with pytest.raises(ls.ExitApiError):
        api.register_wallet(ls.prove_ownership(Keypair()))
    assert len(http.requests) == 1


def test_secrets_stay_out_of_reprs(http: ScriptedHttp) -> None:
    client = ls.ExitApiClient(KEY, base_url=http.url + "/")
    assert KEY not in repr(client)
    assert client.base_url == http.url
    client.close()
    with pytest.raises(ValueError, match="http:// or https://"):
        ls.ExitApiClient(KEY, base_url="ftp://x")


def test_defaults_follow_the_spec() -> None:
    client = ls.ExitApiClient()
    assert client.base_url == "https://api.lasersell.io"
    assert ls.backoff.RetryPolicy() == RetryPolicy(
        max_attempts=2, initial_backoff=0.025, max_backoff=0.025, jitter=0.025
    )
    assert RetryPolicy().delay(1, rand=lambda: 1.0) == pytest.approx(0.05)
    assert ls.backoff.LOW_LATENCY_RETRY_POLICY.delay(3, rand=lambda: 0.0) == pytest.approx(0.1)
    client.close()


def test_the_low_latency_preset_really_differs_from_the_defaults(http: ScriptedHttp) -> None:
    """With 2 attempts only the first delay is ever used; the preset's third attempt uses the doubling."""
    preset, default = ls.backoff.LOW_LATENCY_RETRY_POLICY, ls.backoff.RetryPolicy()
    assert (preset.max_attempts, default.max_attempts) == (3, 2)
    assert preset.delay(2, rand=lambda: 0.0) == pytest.approx(0.05)  # the wait before the third attempt
    http.queue("/v1/sell", reply(503, {"error": "busy"}), reply(503, {"error": "busy"}), reply(200, OK))
    with ls.ExitApiClient(KEY, base_url=http.url, retry=preset, timeout=2.0, connect_timeout=1.0) as client:
        assert client.build_sell_tx(sell()).tx == "AQAB"
    assert len(http.requests) == 3
