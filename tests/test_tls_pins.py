"""TLS public-key pinning and session resumption, against real local TLS servers (``trustme``).

The right pin connects; a wrong one fails during the handshake, before the API key is sent, with
a typed error naming the key the server presented; a certificate that changes under a session
ends it at the next reconnect instead of being retried. Pins are computed independently with
``cryptography`` (which ``trustme`` brings), so the SPKI hashing is checked too.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import re
import ssl
import threading
from pathlib import Path
from typing import Any, ClassVar, Iterator, List, Tuple

import pytest

import lasersell_sync as ls
from lasersell_sync._pins import parse_pins, spki_sha256
from lasersell_sync.stream import StreamConnection
from tests.wsserver import ScriptedServer

trustme = pytest.importorskip("trustme")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
x509 = pytest.importorskip("cryptography.x509")

KEY = "pinned-api-key"
STRATEGY = ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=10)
WALLET = "5VnSh2tCbNSDSrBTuS1WXWZJz6DLRDWRsmANC9YN8JyR"
CONFIGURE = ls.proto.Configure(wallet_pubkeys=[WALLET], strategy=STRATEGY)


def pin_of(cert: Any) -> str:
    """The pin of a trustme certificate, computed by ``cryptography``, not by the code under test."""
    loaded = x509.load_pem_x509_certificate(cert.cert_chain_pems[0].bytes())
    spki = loaded.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture
def tls(local_tls: Any) -> Iterator[Tuple[ScriptedServer, Path, Any, ssl.SSLContext, Any]]:
    server = ScriptedServer(ssl_context=local_tls.context)
    yield server, local_tls.bundle, local_tls.ca, local_tls.context, local_tls.leaf
    server.stop()


def test_our_spki_hash_is_the_standard_pin() -> None:
    leaf = trustme.CA().issue_cert("example.test")
    der = ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())
    assert spki_sha256(der) == pin_of(leaf)
    with pytest.raises(ValueError, match="not a DER certificate"):
        spki_sha256(b"\x30\x03\x02\x01\x01")


@pytest.mark.parametrize(
    ("pins", "words"),
    [
        (["not base64!"], "tls_pins: 'not base64!' is not a base64 SHA-256 pin"),
        ([base64.b64encode(b"short").decode()], "is not a base64 SHA-256 pin"),
        ([], "at least one pin"),
    ],
)
def test_bad_pins_are_refused_naming_the_field(pins: List[str], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_pins(pins)
    with pytest.raises(TypeError, match="not a single string"):
        parse_pins("sha256//abc")  # type: ignore[arg-type]


def test_pins_are_read_in_every_usual_spelling() -> None:
    digest = base64.b64encode(bytes(range(32))).decode()
    spellings = [digest, f"sha256//{digest}", f"sha256/{digest}", f'pin-sha256="{digest}"']
    assert parse_pins(spellings) == frozenset({digest})


def test_the_right_pin_connects(tls: Any) -> None:
    server, bundle, _, _, leaf = tls
    backup = base64.b64encode(b"\x01" * 32).decode()  # a second pin that matches nothing
    conn = StreamConnection(
        KEY,
        CONFIGURE,
        on_message=lambda m, t: None,
        endpoint=server.url,
        ca_bundle=bundle,
        tls_pins=[backup, pin_of(leaf)],
    )
    try:
        assert conn.connect(timeout=30).session_id == 1
    finally:
        conn.close()
    assert server.api_keys == [KEY]


def test_a_wrong_pin_fails_in_the_handshake_before_the_key_is_sent(tls: Any) -> None:
    server, bundle, _, _, leaf = tls
    wrong = base64.b64encode(b"\x02" * 32).decode()
    conn = StreamConnection(
        KEY, CONFIGURE, on_message=lambda m, t: None, endpoint=server.url, ca_bundle=bundle, tls_pins=[wrong]
    )
    try:
        with pytest.raises(ls.TlsPinError, match=re.escape(f"sha256/{pin_of(leaf)}")) as caught:
            conn.connect(timeout=30)
    finally:
        conn.close()
    assert caught.value.presented[0] == pin_of(leaf)
    assert isinstance(caught.value, ls.ConnectError)
    assert server.api_keys == []  # the upgrade, and the key in it, never went out
    assert KEY not in str(caught.value)


def test_a_pinned_context_of_your_own_still_verifies_the_certificate(tls: Any) -> None:
    server, _, _, _, leaf = tls
    untrusting = ssl.create_default_context()  # does not trust the test CA
    conn = StreamConnection(
        KEY,
        CONFIGURE,
        on_message=lambda m, t: None,
        endpoint=server.url,
        ssl_context=untrusting,
        tls_pins=[pin_of(leaf)],
    )
    try:
        with pytest.raises(ls.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            conn.connect(timeout=30)
    finally:
        conn.close()
    assert server.api_keys == []


def test_a_certificate_changed_under_a_session_ends_it_at_the_reconnect(tls: Any) -> None:
    server, bundle, ca, context, leaf = tls
    closed = threading.Event()
    ended: List[BaseException] = []
    session = ls.StreamSession(KEY, [WALLET], STRATEGY, endpoint=server.url, ca_bundle=bundle, tls_pins=[pin_of(leaf)])

    @session.on("closed")
    def on_closed(event: ls.Event[ls.Closed]) -> None:
        if event.message.error is not None:
            ended.append(event.message.error)
        closed.set()

    try:
        session.connect(timeout=30)
        other = ca.issue_cert("127.0.0.1")  # same name, same CA, another key: verification passes
        other.configure_cert(context)
        server.drop()
        assert closed.wait(30)
    finally:
        session.close()
    (error,) = ended
    assert isinstance(error, ls.TlsPinError)
    assert error.presented[0] == pin_of(other)
    assert server.api_keys == [KEY]  # one connect; the reconnect never sent the key, nor retried


# -- session resumption ----------------------------------------------------------------------------


def test_a_reconnect_resumes_the_tls_session_and_a_pinned_one_does_not(tls: Any) -> None:
    server, bundle, _, _, leaf = tls
    for pins, resumed in ((None, [False, True]), ([pin_of(leaf)], [False, False])):
        connected = threading.Semaphore(0)
        session = ls.StreamSession(KEY, [WALLET], STRATEGY, endpoint=server.url, ca_bundle=bundle, tls_pins=pins)
        session.on("connected", lambda event, connected=connected: connected.release())
        try:
            session.connect(timeout=30)
            assert connected.acquire(timeout=30)
            server.drop()
            assert connected.acquire(timeout=30)  # reconnected
        finally:
            session.close()
        assert server.resumed[-2:] == resumed


# -- the Exit API ----------------------------------------------------------------------------------


class _Health(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    keys: ClassVar[List[str]] = []

    def do_GET(self) -> None:
        type(self).keys.append(self.headers.get("x-api-key", ""))
        body = json.dumps({"status": "ok"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def https(local_tls: Any) -> Iterator[Tuple[str, Path, Any]]:
    bundle, leaf = local_tls.bundle, local_tls.leaf
    _Health.keys = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    server.socket = local_tls.context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="test-https")
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", bundle, leaf
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_the_exit_api_checks_its_pins_before_sending_the_key(https: Any) -> None:
    url, bundle, leaf = https
    with ls.ExitApiClient(KEY, url, verify=bundle, tls_pins=[pin_of(leaf)], timeout=10, connect_timeout=10) as api:
        assert api.health().ok
    assert _Health.keys == [KEY]
    wrong = base64.b64encode(b"\x03" * 32).decode()
    client = ls.ExitApiClient(KEY, url, verify=bundle, tls_pins=[wrong], timeout=10, connect_timeout=10)
    with client as api, pytest.raises(ls.TlsPinError, match=re.escape(pin_of(leaf))):
        api.health()
    assert _Health.keys == [KEY]  # the second client's request never went out


def test_pins_need_tls() -> None:
    digest = base64.b64encode(bytes(32)).decode()
    with pytest.raises(ValueError, match="https://"):
        ls.ExitApiClient(KEY, "http://127.0.0.1:9", tls_pins=[digest])
    with pytest.raises(ValueError, match="wss://"):
        StreamConnection(
            KEY, CONFIGURE, on_message=lambda m, t: None, endpoint="ws://127.0.0.1:9/v1/ws", tls_pins=[digest]
        )
