"""Open one WebSocket to the stream and complete the LaserSell handshake (configure first, hello_ok in either order).

``configure`` goes out as soon as the upgrade completes; ``hello_ok`` is accepted whether the
server sends it before or after reading ``configure``; anything else that arrives first is kept
and delivered after ``hello_ok``, in order. Failures become typed errors whose text names the
endpoint through ``safe_url`` and has the API key, the URL's secrets and any environment proxy
credentials redacted; they are raised outside ``except`` blocks, so no ``__context__`` keeps the
raw websocket/socket error.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import time
from typing import Any, Callable, Dict, List, Optional, Union

import attrs
import websocket

from ..._redact import redact, register_secrets, safe_url, url_secrets
from ...errors import AuthenticationError, ConnectError, ProtocolError, StreamServerError
from ...proto import ErrorMessage, HelloOk, ServerMessage
from .tls import remember_session, tls_options
from .wire import PeerClosed, Wire

__all__ = [
    "AUTH_ERROR_CODES",
    "DEFAULT_ENDPOINT",
    "FATAL_ERROR_CODES",
    "Link",
    "connect_secrets",
    "endpoint_url",
    "handshake",
    "open_link",
    "tls_options",
    "upgrade",
]

logger = logging.getLogger(__name__)

AUTH_ERROR_CODES = frozenset({"unauthorized", "invalid_api_key", "forbidden", "auth_failed"})
"""``error`` codes that mean the key itself was refused (the service may say so in a frame, not HTTP 401)."""

FATAL_ERROR_CODES = AUTH_ERROR_CODES | {"wallet_not_registered", "invalid_strategy"}
"""Handshake ``error`` codes that retrying cannot fix: a reconnect refused with one ends the session."""


DEFAULT_ENDPOINT = "wss://stream.lasersell.io/v1/ws"


def endpoint_url(endpoint: Optional[str]) -> str:
    """The stream URL: the given one (surrounding whitespace stripped) or production."""
    url = (endpoint or DEFAULT_ENDPOINT).strip()
    if not url.startswith(("ws://", "wss://")):
        raise ValueError(f"stream endpoint must be a ws:// or wss:// URL, got {safe_url(url)!r}")
    return url


@attrs.define
class Link:
    """An open, handshaken connection: its wire, ``hello_ok``, and what came before it."""

    wire: Wire
    hello: HelloOk
    early: List[Union[ServerMessage, ProtocolError]] = attrs.field(factory=list)
    text_frames: int = 1
    texts: List[bytes] = attrs.field(factory=list)  # hello_ok, then the early text frames, as received


_PROXY_ENV = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY")


def connect_secrets(url: str, api_key: str) -> List[str]:
    """What an error about ``url`` must not show: the key, the URL's secrets, proxy credentials."""
    proxies = (os.environ.get(name) for name in _PROXY_ENV)  # websocket-client reads these itself
    return [api_key, *url_secrets(url), *(s for proxy in proxies if proxy for s in url_secrets(proxy))]


def _fail(message: str, exc: Optional[BaseException], secrets: List[str]) -> ConnectError:
    detail = f": {type(exc).__name__}: {exc}" if exc is not None else ""
    return ConnectError(redact(message + detail, secrets))


def upgrade(wire: Wire, url: str, api_key: str, timeout: float) -> None:
    """TCP, TLS and the WebSocket upgrade with the key in ``x-api-key``; on failure the wire is released.

    Raises:
        AuthenticationError: HTTP 401/403.
        ConnectError: another HTTP status, a timeout, or a transport error (text redacted).
    """
    try:
        wire.upgrade(url, [f"x-api-key: {api_key}"], timeout)
    except websocket.WebSocketBadStatusException as exc:
        # Errors are built here and raised below, outside the handler: no raw __context__.
        if exc.status_code in (401, 403):
            error: ConnectError = AuthenticationError(
                f"API key rejected: HTTP {exc.status_code} on the WebSocket upgrade", status=exc.status_code
            )
        else:
            error = ConnectError(f"WebSocket upgrade refused with HTTP {exc.status_code}")
    except (websocket.WebSocketTimeoutException, socket.timeout) as exc:
        error = _fail(f"timed out connecting to {safe_url(url)}", exc, connect_secrets(url, api_key))
    except (ssl.SSLError, websocket.WebSocketException, OSError, ValueError) as exc:
        error = _fail(f"could not connect to {safe_url(url)}", exc, connect_secrets(url, api_key))
    else:
        return
    wire.release()
    raise error


def _server_error(message: ErrorMessage, secrets: List[str]) -> ConnectError:
    text = redact(message.message, secrets)
    if message.code in AUTH_ERROR_CODES:
        return AuthenticationError(f"API key rejected: server error [{message.code}]: {text}")
    return StreamServerError(message.code, text)


def open_link(
    url: str,
    api_key: str,
    configure_text: str,
    *,
    timeout: float,
    sslopt: Dict[str, Any],
    max_payload: int,
    on_wire: Callable[[Wire], None] = lambda wire: None,
) -> Link:
    """Connect, send ``configure``, wait for ``hello_ok``.

    ``on_wire`` receives the wire before it connects, so another thread can shut it down.

    Raises:
        AuthenticationError: HTTP 401/403, or an auth ``error`` code.
        StreamServerError: an ``error`` message instead of ``hello_ok``.
        ConnectError: anything else (refused, DNS, TLS, timeout, closed early).
    """
    register_secrets([api_key, *url_secrets(url)])  # for websocket-client's trace log
    deadline = time.monotonic() + timeout
    wire = Wire(max_payload=max_payload, sslopt=sslopt)
    on_wire(wire)
    upgrade(wire, url, api_key, timeout)
    try:
        link = handshake(wire, configure_text, deadline, timeout, lambda: connect_secrets(url, api_key))
        remember_session(sslopt, wire.socket)  # by now the server's session ticket has arrived
        return link
    except ConnectError:
        wire.release()
        raise
    except (socket.timeout, websocket.WebSocketTimeoutException):
        error = ConnectError(f"no hello_ok within {timeout:g} s of connecting")
    except Exception as exc:  # EOF, socket or websocket errors
        error = _fail("connection lost during the handshake", exc, connect_secrets(url, api_key))
    wire.release()  # and raise outside the handler: no raw __context__
    raise error


def handshake(
    wire: Wire, configure_text: str, deadline: float, timeout: float, secrets: Callable[[], List[str]]
) -> Link:
    """Send ``configure`` on an upgraded wire and wait until ``deadline`` for ``hello_ok``.

    ``timeout`` is only quoted in the deadline's message; ``secrets`` is called only to redact a
    server ``error``. The wire is left open either way: the caller releases it.

    Raises:
        AuthenticationError: an auth ``error`` code.
        StreamServerError: another ``error`` message instead of ``hello_ok``.
        ConnectError: the server closed the connection first, or the deadline passed.
        socket.timeout, websocket.WebSocketTimeoutException, OSError and the wire's errors: raw,
            for the caller to word (they may quote the URL).
    """
    wire.send_text(configure_text)
    early: List[Union[ServerMessage, ProtocolError]] = []
    texts: List[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ConnectError(f"no hello_ok within {timeout:g} s of connecting")
        item = wire.receive(remaining)
        if item is None:
            continue
        if type(item) is HelloOk:
            frames = 1 + sum(1 for kept in early if not isinstance(kept, ProtocolError))
            return Link(wire=wire, hello=item, early=early, text_frames=frames, texts=[wire.text or b"", *texts])
        if wire.text is not None:
            texts.append(wire.text)
        if type(item) is ErrorMessage:
            raise _server_error(item, secrets())
        if isinstance(item, PeerClosed):
            raise ConnectError(f"server closed the connection before hello_ok (close code {item.code})")
        early.append(item)
