"""The account endpoints of ExitApiClient against a real HTTP server on 127.0.0.1: account,
history (one page and every page), unregister and the health probe; exact wire, typed errors."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from solders.pubkey import Pubkey

import lasersell_sync as ls
from lasersell_sync.backoff import RetryPolicy
from tests.httpserver import Recorded, Reply, ScriptedHttp, reply
from tests.support import fixture_bytes, fixture_json

KEY = "exit-api-SECRET-key"
WALLET = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
MINT = "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263"
NO_WAIT = RetryPolicy(max_attempts=2, initial_backoff=0.0, max_backoff=0.0, jitter=0.0)
DEFAULT_HISTORY = "/v1/history?limit=50&offset=0"


@pytest.fixture
def api(http: ScriptedHttp) -> Iterator[ls.ExitApiClient]:
    with ls.ExitApiClient(KEY, base_url=http.url + "/", retry=NO_WAIT, timeout=2.0, connect_timeout=1.0) as client:
        yield client


def trade(trade_id: int, **overrides: Any) -> Dict[str, Any]:
    fields: Dict[str, Any] = {
        "id": trade_id,
        "session_id": 1,
        "position_id": trade_id,
        "wallet_pubkey": WALLET,
        "mint": MINT,
        "entry_quote_units": 1000,
        "tokens": 10,
        "opened_at": "2026-03-09T08:00:00Z",
    }
    return {**fields, **overrides}


# -- GET /v1/account ----------------------------------------------------------------------------


def test_account_sends_a_bare_get_and_decodes_the_fixture(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue("/v1/account", reply(200, fixture_json("rest_account_response.json")))
    account = api.account()
    assert account == ls.exit_api.AccountInfo(
        tier=1,
        tier_name="tier_1",
        limits=ls.exit_api.AccountLimits(max_wallets=5, max_positions_per_wallet=100, max_positions_per_session=500),
    )
    assert account.wallets is None  # the documented body does not list them
    (request,) = http.requests
    assert (request.method, request.path, request.body) == ("GET", "/v1/account", b"")
    assert request.headers["x-api-key"] == KEY


def test_account_reads_registered_wallets_and_keeps_unknown_keys(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue("/v1/account", reply(200, fixture_json("rest_account_response_wallets.json")))
    account = api.account()
    assert (account.tier, account.tier_name) == (2, "tier_2")
    assert account.limits.max_positions_per_session == 20000
    assert account.limits.extra == {"max_watch_wallets": 25}
    assert account.wallets == (WALLET, "GyGKxMyg1p9SsHfm15MkNUu1u9TN2JtTspcdmrtGUdse")
    assert account.extra == {"created_at": "2026-01-02T03:04:05Z"}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"tier": 1, "tier_name": "tier_1", "limits": {"max_wallets": "5"}}, "field 'limits.max_wallets'"),
        ({"tier": "1", "tier_name": "tier_1", "limits": {}}, "field 'tier': expected an integer"),
        ({"tier_name": "tier_1"}, "field 'tier': required field missing"),
        (
            {
                "tier": 1,
                "tier_name": "x",
                "limits": {"max_wallets": 1, "max_positions_per_wallet": 1, "max_positions_per_session": 1},
                "wallets": [{"label": "no key"}],
            },
            "field 'wallets[0]'",
        ),
        ("<html>maintenance</html>", "response was not valid JSON"),
        ([1, 2], "response must be an object"),
    ],
)
def test_a_bad_account_body_is_a_parse_error_naming_the_field(
    http: ScriptedHttp, api: ls.ExitApiClient, body: Any, words: str
) -> None:
    http.queue("/v1/account", reply(200, body), reply(200, fixture_json("rest_account_response.json")))
    with pytest.raises(ls.ExitApiError) as info:
        api.account()
    assert info.value.kind == "parse"
    assert str(info.value).startswith("GET /v1/account: ")
    assert words in str(info.value)
    assert len(http.requests) == 1  # a parse error is not retried


def test_account_is_retried_when_transient_and_not_on_401(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue("/v1/account", reply(503, {"error": "busy"}), reply(200, fixture_json("rest_account_response.json")))
    assert api.account().tier == 1
    assert len(http.requests) == 2
    http.queue("/v1/account", reply(401, {"error": f"invalid api key {KEY}"}))
    with pytest.raises(ls.ExitApiError) as info:
        api.account()
    assert (info.value.kind, info.value.status) == ("http_status", 401)
    assert str(info.value) == "GET /v1/account returned HTTP 401: invalid api key <redacted>"
    assert KEY not in repr(info.value.__dict__)
    assert len(http.requests) == 3


def test_a_key_echoed_in_a_bad_field_is_redacted(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue("/v1/account", reply(200, {"tier": KEY, "tier_name": "x", "limits": {}}))
    with pytest.raises(ls.ExitApiError) as info:
        api.account()
    assert KEY not in str(info.value)
    assert KEY not in (info.value.body or "")
    assert info.value.__context__ is None
    assert info.value.__cause__ is None


# -- GET /v1/history ----------------------------------------------------------------------------


def test_history_fixture_decodes_exactly(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue(DEFAULT_HISTORY, reply(200, fixture_bytes("rest_history_response.json")))
    page = api.history()
    assert http.requests[0].method == "GET"
    assert http.requests[0].body == b""
    assert page.total == 118
    assert [t.id for t in page.trades] == [118, 117, 116]
    first, loss, open_ = page.trades
    assert first == ls.exit_api.TradeRecord(
        id=118,
        session_id=2041,
        position_id=7,
        wallet_pubkey=WALLET,
        mint=MINT,
        entry_quote_units=250000000,
        tokens=9007199254740993,
        opened_at="2026-03-09T08:15:02.125Z",
        exit_quote_units=310000000,
        profit_quote_units=60000000,
        exit_reason="trailing_stop",
        market_kind="PumpSwap",
        strategy_target_profit_pct=40.0,
        strategy_stop_loss_pct=12.5,
        strategy_trailing_stop_pct=5.0,
        closed_at="2026-03-09T08:41:37.5+00:00",
    )
    assert type(first.tokens) is int
    assert type(first.strategy_target_profit_pct) is float
    assert first.opened_at_datetime == datetime(2026, 3, 9, 8, 15, 2, 125000, tzinfo=timezone.utc)
    assert first.closed_at_datetime == datetime(2026, 3, 9, 8, 41, 37, 500000, tzinfo=timezone.utc)
    assert (loss.profit_quote_units, loss.strategy_stop_loss_pct, loss.extra) == (
        -42000000,
        None,
        {"fee_quote_units": 12000},
    )
    assert (open_.exit_quote_units, open_.profit_quote_units, open_.exit_reason, open_.closed_at) == (None,) * 4
    assert (open_.market_kind, open_.strategy_trailing_stop_pct, open_.closed_at_datetime) == (None,) * 3


def test_empty_history_has_no_total(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue(DEFAULT_HISTORY, reply(200, fixture_json("rest_history_response_empty.json")))
    assert api.history() == ls.exit_api.TradeHistoryPage(trades=(), total=None)


def test_history_query_matches_the_fixture(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    params = fixture_json("rest_history_request_query.json")
    path = "/v1/history?" + urlencode(params)
    http.queue(path, reply(200, fixture_json("rest_history_response_empty.json")))
    api.history(limit=20, offset=40, mint=MINT, wallet=WALLET)
    assert http.paths() == [path]
    assert list(parse_qs(urlsplit(path).query)) == list(params)  # the documented order


def test_a_gateway_token_in_the_base_url_comes_first_and_never_shows(http: ScriptedHttp) -> None:
    token = "gw0TOKEN0a1b2c3d4e5f6"
    path = f"/v1/history?token={token}&limit=5&offset=0"
    http.queue(path, reply(200, fixture_json("rest_history_response_empty.json")), reply(500, {"error": "down"}))
    http.queue(path, reply(500, {"error": "down"}))
    with ls.ExitApiClient(KEY, base_url=f"{http.url}/?token={token}", retry=NO_WAIT) as client:
        assert client.history(limit=5).trades == ()
        with pytest.raises(ls.ExitApiError) as info:
            client.history(limit=5)
        assert token not in repr(client)
    assert http.paths() == [path] * 3
    assert token not in str(info.value)


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"limit": 0}, "limit must be within 1..200, got 0"),
        ({"limit": 201}, "limit must be within 1..200, got 201"),
        ({"limit": True}, "limit must be an integer"),
        ({"limit": "50"}, "limit must be an integer"),
        ({"offset": -1}, "offset must be within 0.."),
        ({"offset": 1.5}, "offset must be an integer"),
        ({"mint": "not-a-mint"}, "mint is not a valid Solana public key"),
        ({"wallet": ""}, "wallet must be a base58 public key"),
        ({"wallet": 7}, "wallet must be a base58 public key"),
    ],
)
def test_bad_history_arguments_fail_before_any_request(
    http: ScriptedHttp, api: ls.ExitApiClient, arguments: Dict[str, Any], words: str
) -> None:
    with pytest.raises(ValueError, match=words.replace(".", r"\.")):
        api.history(**arguments)
    assert http.requests == []


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"page_size": 0}, "page_size must be within 1..200, got 0"),
        ({"page_size": 500}, "page_size must be within 1..200, got 500"),
        ({"max_trades": -1}, "max_trades must be within 0.."),
        ({"mint": "not-a-mint"}, "mint is not a valid Solana public key"),
        ({"wallet": "0OIl"}, "wallet is not a valid Solana public key"),
    ],
)
def test_bad_iter_history_arguments_fail_at_the_call(
    http: ScriptedHttp, api: ls.ExitApiClient, arguments: Dict[str, Any], words: str
) -> None:
    with pytest.raises(ValueError, match=words.replace(".", r"\.")):
        api.iter_history(**arguments)  # raised by the call itself, not by the first next()
    assert http.requests == []


def test_a_history_trade_missing_a_required_field_names_it(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    broken = trade(5)
    del broken["mint"]
    http.queue(DEFAULT_HISTORY, reply(200, {"trades": [trade(6), broken], "total": 2}))
    with pytest.raises(ls.ExitApiError) as info:
        api.history()
    assert info.value.kind == "parse"
    assert "GET /v1/history: invalid TradeHistoryPage: field 'trades[1].mint': required field missing" in str(
        info.value
    )


class Pages:
    """A history service over ``trades`` (most recent first) that honours limit and offset."""

    def __init__(self, count: int, *, total: bool = True) -> None:
        self.trades = [trade(i) for i in range(count, 0, -1)]
        self.total = total
        self.offsets: List[int] = []

    def __call__(self, request: Recorded) -> Reply:
        query = parse_qs(urlsplit(request.path).query)
        limit, offset = int(query["limit"][0]), int(query["offset"][0])
        self.offsets.append(offset)
        page = self.trades[offset : offset + limit]
        return reply(200, {"trades": page, "total": len(self.trades) if self.total else None})


def serve(http: ScriptedHttp, pages: Pages, suffix: str = "") -> None:
    for offset in range(0, 1000, 10):
        for limit in (10, 200):
            http.handlers[f"/v1/history?limit={limit}&offset={offset}{suffix}"] = pages


def test_iter_history_walks_every_page_lazily(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    pages = Pages(450)
    serve(http, pages)
    trades = api.iter_history()
    assert http.requests == []  # nothing is fetched until the first trade is wanted
    assert next(trades).id == 450
    assert pages.offsets == [0]
    assert [t.id for t in trades] == list(range(449, 0, -1))
    assert pages.offsets == [0, 200, 400]  # the short last page ends it


def test_iter_history_stops_at_total_and_at_max_trades(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    pages = Pages(40)
    serve(http, pages)
    assert len(list(api.iter_history(page_size=10))) == 40
    assert pages.offsets == [0, 10, 20, 30]  # total reached: no fifth request for an empty page
    pages.offsets.clear()
    assert [t.id for t in api.iter_history(page_size=10, max_trades=15)] == list(range(40, 25, -1))
    assert pages.offsets == [0, 10]
    untotalled = Pages(20, total=False)
    serve(http, untotalled, f"&wallet={WALLET}")
    assert len(list(api.iter_history(page_size=10, wallet=WALLET))) == 20
    assert untotalled.offsets == [0, 10, 20]  # without a total, the empty page ends it
    assert list(api.iter_history(max_trades=0)) == []


def test_iter_history_skips_trades_pushed_down_by_new_ones(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    pages = Pages(25)

    def shifting(request: Recorded) -> Reply:
        answer = pages(request)
        pages.trades.insert(0, trade(100 + len(pages.offsets)))  # a trade closes between two pages
        return answer

    for offset in (0, 10, 20, 30):
        http.handlers[f"/v1/history?limit=10&offset={offset}"] = shifting
    ids = [t.id for t in api.iter_history(page_size=10)]
    assert ids == list(range(25, 0, -1))  # each once, none lost, the new ones were not asked for


def test_iter_history_loses_no_trade_when_a_page_worth_closes_between_two_pages(
    http: ScriptedHttp, api: ls.ExitApiClient
) -> None:
    pages = Pages(6)

    def three_close_after_the_first_page(request: Recorded) -> Reply:
        answer = pages(request)
        if len(pages.offsets) == 1:
            pages.trades[:0] = [trade(9), trade(8), trade(7)]  # the bot sells while the user reads
        return answer

    for offset in range(0, 12, 3):
        http.handlers[f"/v1/history?limit=3&offset={offset}"] = three_close_after_the_first_page
    ids = [t.id for t in api.iter_history(page_size=3)]
    assert ids == [6, 5, 4, 3, 2, 1]  # 3, 2 and 1 are not lost; 9, 8 and 7 wait for the next walk
    assert pages.offsets == [0, 3, 6]  # offset 3 held 6, 5, 4 again; its total said why, so on to 6


def test_iter_history_follows_a_burst_larger_than_a_page(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    pages = Pages(9)

    def bursts(request: Recorded) -> Reply:
        answer = pages(request)
        if len(pages.offsets) <= 2:  # 4 trades close after each of the first two pages
            start = 100 + 10 * len(pages.offsets)
            pages.trades[:0] = [trade(start + i) for i in range(4)]
        return answer

    for offset in range(40):
        http.handlers[f"/v1/history?limit=3&offset={offset}"] = bursts
    assert [t.id for t in api.iter_history(page_size=3)] == list(range(9, 0, -1))


def test_iter_history_ends_when_the_server_ignores_the_offset(
    http: ScriptedHttp, api: ls.ExitApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    pages = Pages(30, total=False)

    def first_page_always(request: Recorded) -> Reply:
        pages.offsets.append(int(parse_qs(urlsplit(request.path).query)["offset"][0]))
        return reply(200, {"trades": pages.trades[:10], "total": None})

    for offset in range(0, 1000, 10):
        http.handlers[f"/v1/history?limit=10&offset={offset}"] = first_page_always
    assert [t.id for t in api.iter_history(page_size=10)] == list(range(30, 20, -1))
    assert pages.offsets == [0, 10]  # the second page brought nothing new: no third request
    assert "repeated earlier trades only" in caplog.text


# -- DELETE /v1/wallets ---------------------------------------------------------------------------


def test_unregister_sends_the_documented_body(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue("/v1/wallets", reply(200, fixture_json("rest_wallet_unregister_response.json")))
    assert api.unregister_wallet(WALLET) is True
    (request,) = http.requests
    assert (request.method, request.path) == ("DELETE", "/v1/wallets")
    assert request.json() == fixture_json("rest_wallet_unregister_request.json")
    assert (
        request.body == json.dumps(fixture_json("rest_wallet_unregister_request.json"), separators=(",", ":")).encode()
    )
    assert request.headers["content-type"] == "application/json"


def test_unregister_reports_a_wallet_that_was_not_registered(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue("/v1/wallets", reply(200, {"wallet_pubkey": WALLET, "removed": False}), reply(204, ""))
    assert api.unregister_wallet(WALLET) is False
    assert api.unregister_wallet(WALLET) is True  # any 2xx is success; no body says nothing else


def test_unregister_is_retried_when_transient_and_checks_its_input(http: ScriptedHttp, api: ls.ExitApiClient) -> None:
    http.queue("/v1/wallets", reply(502, {"error": "upstream"}), reply(200, {"removed": True}))
    assert api.unregister_wallet(WALLET)
    assert len(http.requests) == 2
    http.queue("/v1/wallets", reply(400, {"error": "invalid wallet_pubkey"}))
    with pytest.raises(ls.ExitApiError) as info:
        api.unregister_wallet(str(Pubkey.new_unique()))
    assert (info.value.status, info.value.body) == (400, "invalid wallet_pubkey")
    assert len(http.requests) == 3
    with pytest.raises(ValueError, match="wallet_pubkey is not a valid Solana public key"):
        api.unregister_wallet("nope")
    assert len(http.requests) == 3


# -- GET /healthz ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            reply(200, fixture_json("rest_healthz_response.json")),
            ls.exit_api.HealthStatus(ok=True, http_status=200, status="ok"),
        ),
        (reply(200, "OK"), ls.exit_api.HealthStatus(ok=True, http_status=200)),
        (reply(204, ""), ls.exit_api.HealthStatus(ok=True, http_status=204)),
        (
            reply(200, {"status": "degraded", "message": "rpc lagging"}),
            ls.exit_api.HealthStatus(ok=False, http_status=200, status="degraded", detail="rpc lagging"),
        ),
        (
            reply(503, {"error": "maintenance"}),
            ls.exit_api.HealthStatus(ok=False, http_status=503, detail="maintenance"),
        ),
        (reply(404, "no such path"), ls.exit_api.HealthStatus(ok=False, http_status=404, detail="no such path")),
    ],
)
def test_health_reports_what_the_service_says_in_one_request(
    http: ScriptedHttp, answer: Reply, expected: ls.exit_api.HealthStatus
) -> None:
    http.queue("/healthz", answer, reply(200, {"status": "ok"}))
    with ls.ExitApiClient(None, base_url=http.url, retry=NO_WAIT) as client:  # no key needed
        assert client.health() == expected
    (request,) = http.requests  # never retried
    assert (request.method, request.path) == ("GET", "/healthz")
    assert "x-api-key" not in request.headers


def test_health_without_an_answer_is_a_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ls.ExitApiClient(KEY, base_url=f"http://127.0.0.1:{port}")
    with client, pytest.raises(ls.ExitApiError) as info:
        client.health()
    assert info.value.kind == "transport"
    assert str(info.value).startswith("GET /healthz failed")
    assert KEY not in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-08T22:03:10Z", datetime(2026, 3, 8, 22, 3, 10, tzinfo=timezone.utc)),
        ("2026-03-08T22:03:10.123456789Z", datetime(2026, 3, 8, 22, 3, 10, 123456, tzinfo=timezone.utc)),
        ("2026-03-08T22:03:10.5", datetime(2026, 3, 8, 22, 3, 10, 500000, tzinfo=timezone.utc)),  # naive: UTC
        ("2026-03-08T23:03:10+01:00", datetime(2026, 3, 8, 22, 3, 10, tzinfo=timezone.utc)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_timestamps_read_on_every_supported_python(text: Any, expected: Any) -> None:
    """3.9 and 3.10 read neither ``Z`` nor 1, 2, 4, 5 or 9 fractional digits on their own."""
    record = ls.exit_api.TradeRecord(**{**trade(1), "opened_at": text or "", "closed_at": text})
    assert record.closed_at_datetime == expected
    assert record.opened_at_datetime == expected
