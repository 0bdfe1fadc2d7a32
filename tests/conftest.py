from __future__ import annotations

import os
import ssl
import threading
from pathlib import Path
from typing import Any, Iterator, NamedTuple

import pytest

from tests.httpserver import ScriptedHttp
from tests.support import Collect, Collector, is_setting
from tests.wsserver import ScriptedServer


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A scripted LaserSell-like WebSocket server on 127.0.0.1."""
    srv = ScriptedServer()
    yield srv
    srv.stop()


@pytest.fixture
def http() -> Iterator[ScriptedHttp]:
    """A scripted HTTP server on 127.0.0.1 (Exit API and JSON-RPC)."""
    srv = ScriptedHttp()
    yield srv
    srv.stop()


class LocalTls(NamedTuple):
    """A ``trustme`` CA, the certificate it issued for 127.0.0.1, a server context that presents
    it, and a PEM bundle that trusts the CA (for ``ca_bundle=`` / ``verify=``)."""

    ca: Any
    leaf: Any
    context: ssl.SSLContext
    bundle: Path


@pytest.fixture
def local_tls(tmp_path: Path) -> LocalTls:
    """TLS for servers on 127.0.0.1 (needs ``trustme``)."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return LocalTls(ca, leaf, context, bundle)


@pytest.fixture
def collect() -> Collect:
    """Makes collectors: ``collect()`` is a thread-safe list to pass as a handler and wait on.

    ``items = collect("pongs"); session.on(ls.Pong, items); items.wait_count(2)`` waits (up to
    ``tests.support.WAIT``, a bound only a failing test reaches) instead of sleeping; see
    :class:`tests.support.Collector` for ``wait(predicate)``, ``wait_of(kind)`` and ``of(kind)``.
    """
    return Collector


@pytest.fixture
def no_lasersell_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs see no LaserSell setting or proxy but the ones a test sets."""
    for name in list(os.environ):
        if is_setting(name):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every test must stop every thread it starts."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for thread in leaked:  # give threads that are already stopping a moment to finish
        thread.join(timeout=2.0)
    still = [t.name for t in leaked if t.is_alive()]
    assert not still, f"threads left running: {still}"
