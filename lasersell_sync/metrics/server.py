"""The metrics endpoint: one HTTP server on one thread, stopped at once, never left running.

``prometheus_client.start_http_server`` starts a thread per request and a server polling twice a
second that it cannot stop. This one waits on its socket and on a wake-up socket: an idle
exporter never wakes, and :meth:`MetricsServer.close` stops it without a poll interval's delay.
Requests are served one at a time (a scrape takes about a millisecond); a client that stalls is
cut off after :data:`CLIENT_TIMEOUT` seconds, or at once by ``close()``.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import socketserver
import sys
import threading
from typing import TYPE_CHECKING, Any, Optional, Tuple
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from prometheus_client import CollectorRegistry

__all__ = ["CLIENT_TIMEOUT", "MetricsServer"]

logger = logging.getLogger(__name__)

CLIENT_TIMEOUT = 5.0
"""Seconds a scraper may take to send its request or read the answer."""


class _Handler(WSGIRequestHandler):
    """Logs requests at debug level instead of printing each to stderr."""

    timeout = CLIENT_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        """One request served: at debug level."""
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("metrics request from %s: %s", self.address_string(), format % args)


class _Server(WSGIServer):
    """A WSGI server that binds without a reverse DNS lookup and can cut off its current client."""

    timeout = 0.0  # handle_request() after the selector said "ready": never wait in it

    def __init__(self, address: Tuple[str, int], family: socket.AddressFamily) -> None:
        self.address_family = family
        self._current: Optional[socket.socket] = None
        self._cut = False
        self._current_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind, and name the server by its address (``HTTPServer`` would look its name up)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.socket.getsockname()[:2]
        self.server_name, self.server_port = host, port
        self.setup_environ()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve one request, remembered so that :meth:`cut_off` can end it; none after that."""
        with self._current_lock:
            if self._cut:
                self.shutdown_request(request)
                return
            self._current = request
        try:
            super().process_request(request, client_address)
        finally:
            with self._current_lock:
                self._current = None

    def cut_off(self) -> None:
        """End the request being served, if any (its client gets a closed connection), and refuse more."""
        with self._current_lock:
            self._cut, current = True, self._current
        if current is not None:
            with contextlib.suppress(OSError):  # already closed
                current.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that broke off or stalled: logged, never printed."""
        logger.debug("metrics request from %s failed: %r", client_address, sys.exc_info()[1])


class MetricsServer:
    """A running metrics endpoint (made by ``serve_metrics``).

    It serves the Prometheus text format at any path (``/metrics`` by convention) from its own
    thread, ``lasersell-metrics``, until :meth:`close` or the end of the session it watches.
    ``with serve_metrics(session) as server:`` closes it on the way out.

    Attributes:
        registry: the server's own ``prometheus_client.CollectorRegistry`` (never the global
            one): register your own metrics in it to serve them beside the session's.
    """

    def __init__(self, app: WSGIApplication, registry: CollectorRegistry, host: str, port: int) -> None:
        family, address = _best_family(host, port)
        self.registry = registry
        self._server = _Server(address, family)
        self._server.set_app(app)
        self._wake_read, self._wake_write = socket.socketpair()
        self._lock = threading.Lock()
        self._closing = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="lasersell-metrics", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"<MetricsServer {self.url}{' closed' if self.closed else ''}>"

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        """The port the server listens on (the one picked, when asked for port 0)."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://host:port/metrics``: what to give Prometheus as the scrape target."""
        host = self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/metrics"

    @property
    def closed(self) -> bool:
        """True once the server has stopped serving."""
        return self._stopped.is_set()

    def close(self, timeout: float = 2.0) -> bool:
        """Stop serving and free the port. Idempotent, safe from any thread.

        A request being served is cut off. Returns True when the server thread has ended
        (False only if it was still running after ``timeout`` seconds).
        """
        with self._lock:
            first, self._closing = not self._closing, True
            if first:
                self._wake_write.send(b"x")
        if first:
            self._server.cut_off()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _serve(self) -> None:
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self._server.socket, selectors.EVENT_READ, "request")
                selector.register(self._wake_read, selectors.EVENT_READ, "stop")
                while True:
                    ready = selector.select()
                    if any(key.data == "stop" for key, _ in ready):
                        return
                    self._server.handle_request()
        except Exception:
            logger.exception("the metrics server stopped on an error")
        finally:
            self._server.server_close()
            self._wake_read.close()
            with self._lock:
                self._closing = True
                self._wake_write.close()
            self._stopped.set()
            logger.debug("metrics server on %s:%d stopped", self.host, self.port)


def _best_family(host: str, port: int) -> Tuple[socket.AddressFamily, Tuple[str, int]]:
    """IPv4 or IPv6, as the host is written or resolves (``WSGIServer`` assumes IPv4)."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    return family, (str(address[0]), int(address[1]))
