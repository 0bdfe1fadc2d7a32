"""Secrets carried in URLs and keys never show (reprs, errors and their causes, log records),
and the HTTP clients honour proxies and CA bundles. Everything runs against 127.0.0.1."""

from __future__ import annotations

import base64
import json
import logging
import socket
import ssl
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest
import websocket
from solders.keypair import Keypair

import lasersell_sync as ls
from lasersell_sync import _redact
from lasersell_sync._redact import REDACTED, redact, register_secrets, safe_url, url_secrets
from lasersell_sync.stream.transport.link import open_link
from tests.httpserver import ScriptedHttp, reply
from tests.txbuild import unsigned_for
from tests.wsserver import ScriptedServer

SECRET = "Zq9SECRETtokenValue123"  # a provider key carried in a query string
PASSWORD = "pw-s3cr3t-Q7"  # carried as userinfo
KEY = "sk-live-KEY-0123456789"  # an API key sent as a header
SIGNATURE = "5" * 64
RPC_OK = {"jsonrpc": "2.0", "id": 1, "result": SIGNATURE}
SELL_OK = {"status": "ok", "tx": "AQAB"}
MINT, USER = (str(Keypair().pubkey()) for _ in range(2))  # real public keys for Exit API requests
CONFIGURE = ls.proto.Configure(
    wallet_pubkeys=("1" * 32,), strategy=ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=10)
)


def closed_port() -> int:
    """A 127.0.0.1 port that refuses connections (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def shown(exc: BaseException, *secrets: str) -> str:
    """Everything an exception shows; asserts it keeps no cause and none of ``secrets``."""
    assert exc.__cause__ is None
    assert exc.__context__ is None
    text = "\n".join([str(exc), repr(exc), "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))])
    for secret in secrets:
        assert secret not in text
    return text


def sell() -> ls.BuildSellTxRequest:
    return ls.BuildSellTxRequest(mint=MINT, user_pubkey=USER, amount_tokens=1000, slippage_bps=2000)


def signed_tx() -> Any:
    keypair = Keypair()
    return ls.sign_unsigned_tx(unsigned_for(keypair), keypair)


@pytest.fixture
def sender() -> Iterator[ls.TxSender]:
    with ls.TxSender(timeout=5.0) as tx_sender:
        yield tx_sender


# -- the helpers -------------------------------------------------------------------------------


def test_safe_url_shows_a_non_url_only_when_it_cannot_hide_a_secret() -> None:
    assert safe_url("not a url") == "not a url"  # was "://not a url"
    assert safe_url(" localhost/v1/ws ") == "localhost/v1/ws"
    for secretish in ("user:pw@host", "host/v1?api-key=abc", "k3yAbCdEf0123456789xyzXYZ", "a" * 81):
        assert safe_url(secretish) == REDACTED
    with pytest.raises(ValueError, match="got 'not a url'"):
        ls.ExitApiClient("k", base_url="not a url")


def test_safe_url_and_url_secrets_cover_raw_and_decoded_forms() -> None:
    url = f"https://user:{PASSWORD}@rpc.example.com/v1/abcdefgh12345678xyz?api-key=a%2Bb%2F{SECRET}&cluster=main"
    assert safe_url(url) == f"https://{REDACTED}@rpc.example.com/v1/{REDACTED}?api-key={REDACTED}&cluster=main"
    found = url_secrets(url)
    assert f"a%2Bb%2F{SECRET}" in found  # as requests quotes it in its errors
    assert f"a+b/{SECRET}" in found  # as decoded
    assert PASSWORD in found
    assert "abcdefgh12345678xyz" in found


def test_redact_replaces_whole_tokens_once() -> None:
    assert redact("not known; x-api-key: k.", ["k"]) == f"not known; x-api-key: {REDACTED}."
    assert redact("ab1 ab12", ["ab1", "ab12"]) == f"{REDACTED} {REDACTED}"
    assert redact(f"api-key%3D{SECRET}", [SECRET]) == f"api-key%3D{REDACTED}"  # a long secret, glued
    # A secret spelled like the marker does not rewrite the marker it just wrote.
    assert redact("token: redacted", ["redacted"]) == f"token: {REDACTED}"


def test_the_log_registry_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_redact, "_registered", {})
    monkeypatch.setattr(_redact, "_active", None)
    register_secrets(f"secret-{n}" for n in range(_redact.MAX_REGISTERED + 10))
    assert len(_redact._registered) == _redact.MAX_REGISTERED
    assert "secret-0" not in _redact._registered  # the oldest were forgotten
    assert f"secret-{_redact.MAX_REGISTERED + 9}" in _redact._registered


# -- reprs ---------------------------------------------------------------------------------------


def test_send_target_and_client_reprs_hide_url_secrets() -> None:
    rpc = ls.SendTargetRpc(url=f"https://mainnet.helius-rpc.com/?api-key={SECRET}")
    helius = ls.SendTargetHeliusSender(url=f"https://u:{PASSWORD}@sender.example/fast")
    astra = ls.SendTargetAstralane(api_key=KEY, endpoint=f"https://iris.example/?token={SECRET}")
    api = ls.ExitApiClient(KEY, base_url=f"https://u:{PASSWORD}@api.example/?token={SECRET}")
    texts = [repr(rpc), repr(helius), repr(astra), repr(api)]
    for text in texts:
        for secret in (SECRET, PASSWORD, KEY):
            assert secret not in text
    assert "mainnet.helius-rpc.com/?api-key=<redacted>" in texts[0]
    assert f"https://{REDACTED}@sender.example/fast" in texts[1]
    api.close()


# -- errors, wrapped errors and their causes ------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "http://127.0.0.1:{port}/?api-key=" + SECRET,
        "http://127.0.0.1:{port}/?api-key=a%2Bb%2F" + SECRET,
        "http://user:" + PASSWORD + "@127.0.0.1:{port}/rpc",
    ],
)
def test_an_unreachable_rpc_error_shows_no_secret(sender: ls.TxSender, template: str) -> None:
    target = ls.SendTargetRpc(url=template.format(port=closed_port()))
    with pytest.raises(ls.TxSubmitError) as info:
        sender.send(target, signed_tx())
    text = shown(info.value, SECRET, PASSWORD)
    assert info.value.kind == "transport"
    assert "127.0.0.1" in str(info.value)
    assert REDACTED in str(info.value)
    assert "refused" in text.lower()


def test_an_http_error_echoing_secrets_is_redacted(http: ScriptedHttp, sender: ls.TxSender) -> None:
    http.defaults[f"/rpc?api-key={SECRET}"] = reply(401, {"error": f"bad key {SECRET} (header {KEY})"})
    target = ls.SendTargetAstralane(api_key=KEY, endpoint=f"{http.url}/rpc?api-key={SECRET}")
    with pytest.raises(ls.TxSubmitError) as info:
        sender.send(target, signed_tx())
    assert info.value.kind == "http_status"
    assert info.value.status == 401
    assert f"bad key {REDACTED} (header {REDACTED})" in shown(info.value, SECRET, KEY)


def test_a_short_key_is_redacted_without_corrupting_text(http: ScriptedHttp, sender: ls.TxSender) -> None:
    http.defaults["/iris"] = reply(403, {"error": "api key k is not known"})
    target = ls.SendTargetAstralane(api_key="k", endpoint=http.url + "/iris")
    with pytest.raises(ls.TxSubmitError) as info:
        sender.send(target, signed_tx())
    assert f"api key {REDACTED} is not known" in shown(info.value)


def test_an_unreachable_exit_api_shows_no_secret() -> None:
    base = f"http://u:{PASSWORD}@127.0.0.1:{closed_port()}/?token={SECRET}"
    with (
        ls.ExitApiClient(KEY, base_url=base, retry=ls.backoff.RetryPolicy(max_attempts=1)) as api,
        pytest.raises(ls.ExitApiError) as info,
    ):
        api.build_sell_tx_b64(sell())
    assert info.value.kind == "transport"
    assert "refused" in shown(info.value, SECRET, PASSWORD, KEY).lower()


def test_exit_api_errors_echoing_secrets_are_redacted(http: ScriptedHttp) -> None:
    http.queue(f"/v1/sell?token={SECRET}", reply(401, {"error": f"token {SECRET} is not known"}))
    http.queue(f"/v1/buy?token={SECRET}", reply(200, "x" * 215 + SECRET))  # not JSON; clipped at 220
    with ls.ExitApiClient(
        "k", base_url=f"{http.url}/?token={SECRET}", retry=ls.backoff.RetryPolicy(max_attempts=1)
    ) as api:
        with pytest.raises(ls.ExitApiError) as denied:
            api.build_sell_tx(sell())
        with pytest.raises(ls.ExitApiError) as garbled:
            api.build_buy_tx(ls.BuildBuyTxRequest(mint=MINT, user_pubkey=USER, slippage_bps=2000, amount=0.1))
    assert f"token {REDACTED} is not known" in shown(denied.value, SECRET)
    assert denied.value.body == f"token {REDACTED} is not known"
    assert garbled.value.kind == "parse"
    assert garbled.value.body is not None
    assert SECRET[:5] not in garbled.value.body  # redacted before clipping: no half secret kept
    shown(garbled.value, SECRET)
    assert http.paths() == [f"/v1/sell?token={SECRET}", f"/v1/buy?token={SECRET}"]  # the query is kept


def test_an_unreachable_stream_endpoint_shows_no_secret() -> None:
    endpoint = f"ws://user:{PASSWORD}@127.0.0.1:{closed_port()}/v1/ws?token={SECRET}"
    with pytest.raises(ls.ConnectError) as info:
        open_link(endpoint, "k", "{}", timeout=5.0, sslopt={}, max_payload=1 << 20)
    text = shown(info.value, SECRET, PASSWORD)
    assert str(info.value).startswith(f"could not connect to ws://{REDACTED}@127.0.0.1:")
    assert "Connection" in str(info.value)  # the short key "k" mangled nothing
    assert "refused" in text.lower()

    connection = ls.StreamConnection("k", CONFIGURE, on_message=lambda m, t: None, endpoint=endpoint)
    with pytest.raises(ls.ConnectError) as again:
        connection.connect(timeout=5.0)
    connection.close()
    shown(again.value, SECRET, PASSWORD)


def test_a_stream_server_error_echoing_the_key_is_redacted(server: ScriptedServer) -> None:
    server.handshake_error = ("invalid_strategy", f"key {KEY} rejected; token {SECRET}; key k is not known")
    with pytest.raises(ls.StreamServerError) as info:
        open_link(server.url + f"?token={SECRET}", KEY, "{}", timeout=5.0, sslopt={}, max_payload=1 << 20)
    assert f"key {REDACTED} rejected; token {REDACTED}" in shown(info.value, KEY, SECRET)
    server.handshake_error = ("invalid_strategy", "key k is not known")
    with pytest.raises(ls.StreamServerError) as short:
        open_link(server.url, "k", "{}", timeout=5.0, sslopt={}, max_payload=1 << 20)
    assert short.value.server_message == f"key {REDACTED} is not known"


# -- log records -----------------------------------------------------------------------------------


@pytest.fixture
def only_these_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start with no registered secret: the registry is process-wide, so an earlier test's short
    API key ("key", as the simulator tests use) would also be redacted from "api-key=" here."""
    monkeypatch.setattr(_redact, "_registered", {})
    monkeypatch.setattr(_redact, "_active", None)


def messages(caplog: pytest.LogCaptureFixture) -> List[Tuple[str, str]]:
    return [(record.name, record.getMessage()) for record in caplog.records]


def test_debug_logs_of_http_requests_show_no_secret(
    http: ScriptedHttp, sender: ls.TxSender, caplog: pytest.LogCaptureFixture, only_these_secrets: None
) -> None:
    caplog.set_level(logging.DEBUG)
    http.defaults[f"/rpc?api-key={SECRET}"] = reply(200, RPC_OK)
    http.defaults[f"/v1/sell?token={SECRET}"] = reply(200, SELL_OK)
    target = ls.SendTargetRpc(url=f"{http.url}/rpc?api-key={SECRET}")
    assert sender.send(target, signed_tx()) == SIGNATURE
    with ls.ExitApiClient(KEY, base_url=f"{http.url}?token={SECRET}") as api:
        assert api.build_sell_tx_b64(sell()) == "AQAB"
    unreachable = ls.SendTargetRpc(url=f"http://127.0.0.1:{closed_port()}/?api-key={SECRET}")
    with pytest.raises(ls.TxSubmitError):
        sender.send(unreachable, signed_tx())
    urllib3_lines = [text for name, text in messages(caplog) if name == "urllib3.connectionpool"]
    assert any(f'"POST /rpc?api-key={REDACTED} HTTP/1.1" 200' in text for text in urllib3_lines)
    assert any(f'"POST /v1/sell?token={REDACTED} HTTP/1.1" 200' in text for text in urllib3_lines)
    for secret in (SECRET, KEY):
        assert secret not in caplog.text
        assert all(secret not in text for _, text in messages(caplog))


@pytest.fixture
def websocket_trace() -> Iterator[None]:
    logger = logging.getLogger("websocket")
    level, handlers = logger.level, list(logger.handlers)
    websocket.enableTrace(True, handler=logging.NullHandler())
    yield
    websocket.enableTrace(False)
    logger.setLevel(level)
    logger.handlers[:] = handlers


def test_websocket_trace_logs_show_no_secret(
    server: ScriptedServer, websocket_trace: None, caplog: pytest.LogCaptureFixture, only_these_secrets: None
) -> None:
    caplog.set_level(logging.DEBUG)
    configure = ls.proto.encode_client(CONFIGURE)
    link = open_link(server.url + f"?token={SECRET}", KEY, configure, timeout=5.0, sslopt={}, max_payload=1 << 20)
    link.wire.release()
    client_side = [text for name, text in messages(caplog) if not name.startswith("websockets.")]  # not the server
    assert any(f"GET /v1/ws?token={REDACTED} HTTP/1.1" in text for text in client_side)
    assert any(f"x-api-key: {REDACTED}" in text for text in client_side)
    for secret in (SECRET, KEY):
        assert all(secret not in text for text in client_side)


# -- HTTP settings: proxies and CA bundles -----------------------------------------------------------


@pytest.fixture
def proxy() -> Iterator[ScriptedHttp]:
    """A plain HTTP proxy stand-in: it sees absolute URLs in the request line and answers itself."""
    srv = ScriptedHttp()
    yield srv
    srv.stop()


def test_environment_proxies_and_no_proxy_are_honoured(
    http: ScriptedHttp, proxy: ScriptedHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://puser:{PASSWORD}@127.0.0.1:{proxy.port}")
    target = f"http://127.0.0.1:{closed_port()}/rpc?api-key={SECRET}"  # only the proxy can answer
    proxy.defaults[target] = reply(200, RPC_OK)
    with ls.TxSender(timeout=5.0) as sender:
        assert sender.send(ls.SendTargetRpc(url=target), signed_tx()) == SIGNATURE
        assert PASSWORD not in repr(sender)
    (seen,) = proxy.requests
    assert seen.path == target  # a proxy receives the absolute URL
    assert seen.headers["proxy-authorization"] == "Basic " + base64.b64encode(f"puser:{PASSWORD}".encode()).decode()

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    http.defaults["/rpc"] = reply(200, RPC_OK)
    with ls.TxSender(timeout=5.0) as sender:
        assert sender.send(ls.SendTargetRpc(url=http.url + "/rpc"), signed_tx()) == SIGNATURE
    assert http.paths() == ["/rpc"]
    assert len(proxy.requests) == 1


def test_explicit_proxies_replace_the_environment(
    http: ScriptedHttp, proxy: ScriptedHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    base = f"http://127.0.0.1:{closed_port()}"
    proxy.defaults[base + "/v1/sell"] = reply(200, SELL_OK)
    with ls.ExitApiClient(KEY, base_url=base, proxies={"http": proxy.url}) as api:
        assert api.build_sell_tx_b64(sell()) == "AQAB"
    assert proxy.paths() == [base + "/v1/sell"]
    http.defaults["/rpc"] = reply(200, RPC_OK)
    with ls.TxSender(timeout=5.0, proxies={}) as direct:  # {} means no proxy, whatever the environment
        assert direct.send(ls.SendTargetRpc(url=http.url + "/rpc"), signed_tx()) == SIGNATURE
    assert http.paths() == ["/rpc"]


def test_an_unreachable_proxy_error_shows_no_credentials(sender: ls.TxSender) -> None:
    proxy_url = f"http://puser:{PASSWORD}@127.0.0.1:{closed_port()}"
    target = ls.SendTargetRpc(url=f"http://127.0.0.1:{closed_port()}/?api-key={SECRET}")
    with ls.TxSender(timeout=5.0, proxies={"http": proxy_url}) as proxied:
        with pytest.raises(ls.TxSubmitError) as info:
            proxied.send(target, signed_tx())
        assert PASSWORD not in repr(proxied)
    credentials = base64.b64encode(f"puser:{PASSWORD}".encode()).decode()
    assert "proxy" in shown(info.value, PASSWORD, SECRET, credentials).lower()


class _TlsServer:
    """A JSON-RPC and Exit API stand-in over HTTPS on 127.0.0.1 (one request per connection)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                payload = json.dumps(SELL_OK if self.path.startswith("/v1/sell") else RPC_OK).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        class Server(ThreadingHTTPServer):
            daemon_threads = False
            block_on_close = True

            def get_request(self) -> Tuple[socket.socket, Any]:
                conn, addr = super().get_request()
                return context.wrap_socket(conn, server_side=True), addr  # a failed handshake is dropped

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="test-https-server")
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def tls(local_tls: Any) -> Iterator[Tuple[_TlsServer, Path]]:
    srv = _TlsServer(local_tls.context)
    yield srv, local_tls.bundle
    srv.stop()


def test_ca_bundles_from_arguments_and_environment(
    tls: Tuple[_TlsServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, bundle = tls
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    target = ls.SendTargetRpc(url=server.url + "/rpc")
    with ls.TxSender(timeout=5.0) as untrusting, pytest.raises(ls.TxSubmitError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusting.send(target, signed_tx())
    with ls.TxSender(timeout=5.0, verify=bundle) as given:
        assert given.send(target, signed_tx()) == SIGNATURE
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    with ls.TxSender(timeout=5.0) as from_env:
        assert from_env.send(target, signed_tx()) == SIGNATURE
    with ls.ExitApiClient(KEY, base_url=server.url) as api:
        assert api.build_sell_tx_b64(sell()) == "AQAB"


def test_bad_http_settings_fail_at_construction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="cannot be turned off"):
        ls.TxSender(verify=False)
    with pytest.raises(ValueError, match="no CA bundle"):
        ls.ExitApiClient(KEY, verify=tmp_path / "missing.pem")
    with pytest.raises(TypeError, match="proxies must map"):
        ls.TxSender(proxies=[("http", "http://proxy")])  # type: ignore[arg-type]
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "gone.pem"))
    with pytest.raises(ValueError, match="REQUESTS_CA_BUNDLE names no CA bundle"):
        ls.TxSender()


# -- wrong argument types ------------------------------------------------------------------------------


def test_sending_base64_text_as_a_transaction_is_a_clear_type_error(http: ScriptedHttp, sender: ls.TxSender) -> None:
    target = ls.SendTargetRpc(url=http.url + "/rpc")
    text = ls.tx.encode_signed_tx(signed_tx())
    with pytest.raises(
        TypeError, match=r"tx must be a solders VersionedTransaction \(got str\); use send_transaction_b64"
    ):
        ls.tx.send_transaction(target, text)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"tx must be a solders VersionedTransaction \(got str\)"):
        sender.send(target, text)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="target must be a SendTarget"):
        sender.send_b64(http.url, text)  # type: ignore[arg-type]
    assert http.requests == []  # nothing was sent
