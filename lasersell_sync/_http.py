"""HTTP settings and the pooled session shared by the JSON clients (``TxSender``, ``ExitApiClient``).

The clients honour the standard environment, read once rather than on every request.
``proxies=None`` takes ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` and ``NO_PROXY`` as
``requests`` would, resolved once per URL; an explicit mapping (``{"https": "http://proxy:3128"}``)
replaces the environment, and ``{}`` means direct. ``verify=None`` takes ``REQUESTS_CA_BUNDLE``,
else ``CURL_CA_BUNDLE``, else the certifi bundle; a path (file or ``c_rehash`` directory) replaces
them. Verification cannot be turned off. ``~/.netrc`` is never read. Keeping ``requests``'
``trust_env`` off saves about 0.15 ms per request (measured against 127.0.0.1) that it would spend
re-reading the environment and ``~/.netrc`` on every call.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import weakref
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Union

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import ProxyManager
from urllib3.util.ssl_ import create_urllib3_context

from ._pins import pinned_context
from ._redact import register_secrets, url_secrets

__all__ = ["AbortableAdapter", "HttpSettings", "Proxies", "Verify", "pooled_session"]

Proxies = Optional[Mapping[str, str]]
"""``None`` (the environment), or a ``requests``-style map of scheme (or scheme://host) to proxy URL."""
Verify = Union[None, bool, str, "os.PathLike[str]"]
"""``None`` (the environment, else certifi), ``True`` (certifi), or a CA bundle file or directory."""

_CA_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
_CACHE_LIMIT = 64


def _resolve_verify(verify: Verify) -> Union[bool, str]:
    if verify is False:
        raise ValueError("certificate verification cannot be turned off; pass verify=<CA bundle path> instead")
    if verify is True:
        return True
    if verify is not None:
        path = os.fspath(verify)
        if not os.path.exists(path):
            raise ValueError(f"verify: no CA bundle at {path!r}")
        return path
    for name in _CA_ENV:
        found = os.environ.get(name)
        if found:
            if not os.path.exists(found):
                raise ValueError(f"{name} names no CA bundle: {found!r}")
            return found
    return True


class HttpSettings:
    """Proxies and CA bundle of one client, from its arguments or (once) from the environment."""

    def __init__(self, proxies: Proxies = None, verify: Verify = None) -> None:
        if proxies is not None and not (
            isinstance(proxies, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in proxies.items())
        ):
            raise TypeError("proxies must map scheme names to proxy URL strings, e.g. {'https': 'http://proxy:3128'}")
        self._explicit = None if proxies is None else dict(proxies)
        self.verify = _resolve_verify(verify)
        self._by_url: Dict[str, Dict[str, str]] = {}
        self._lock = threading.Lock()
        if self._explicit is not None:
            register_secrets(self._proxy_secrets(self._explicit))

    def __repr__(self) -> str:
        source = "environment" if self._explicit is None else "explicit"
        return f"<HttpSettings proxies={source} verify={'default' if self.verify is True else 'CA bundle'}>"

    @staticmethod
    def _proxy_secrets(proxies: Mapping[str, str]) -> List[str]:
        return [s for name, url in proxies.items() if name != "no" for s in url_secrets(url)]

    def proxies_for(self, url: str) -> Dict[str, str]:
        """The proxies for a request to ``url``: explicit ones, else the environment's (cached)."""
        if self._explicit is not None:
            return self._explicit
        found = self._by_url.get(url)
        if found is None:
            found = {k: v for k, v in requests.utils.get_environ_proxies(url).items() if k != "no"}
            register_secrets(self._proxy_secrets(found))
            with self._lock:
                if len(self._by_url) >= _CACHE_LIMIT:
                    self._by_url.clear()
                self._by_url[url] = found
        return found

    def secrets_for(self, url: str) -> List[str]:
        """Every secret a failed request to ``url`` might quote: the URL's and its proxies'."""
        return url_secrets(url) + self._proxy_secrets(self.proxies_for(url))


class _Sockets:
    """Every connection an adapter opened; ``abort()`` shuts their sockets down, now and later."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: weakref.WeakSet[Any] = weakref.WeakSet()
        self.aborted = False

    def opened(self, connection: Any) -> None:
        with self._lock:
            self._connections.add(connection)
            aborted = self.aborted
        if aborted:
            _shut(connection)

    def abort(self) -> None:
        with self._lock:
            self.aborted = True
            connections = list(self._connections)
        for connection in connections:
            _shut(connection)

    def close_all(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.close()


def _shut(connection: Any) -> None:
    """Wake whatever thread waits on this connection's socket (it then fails at once)."""
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _tracked_pools(sockets: _Sockets) -> Dict[str, type]:
    """urllib3 pool classes whose connections report to ``sockets`` once connected."""

    class Connection(HTTPConnection):
        def connect(self) -> None:
            super().connect()
            sockets.opened(self)

    class SecureConnection(HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            sockets.opened(self)

    class Pool(HTTPConnectionPool):
        ConnectionCls = Connection

    class SecurePool(HTTPSConnectionPool):
        ConnectionCls = SecureConnection

    return {"http": Pool, "https": SecurePool}


class AbortableAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose requests in flight can be cut short from another thread.

    ``requests`` has no way to cancel a call that waits on a hung server; ``abort()`` shuts down
    the socket of every connection the adapter opened (in use or idle, direct or through a
    proxy), so a waiting thread fails at once, and so does any connection opened afterwards.
    With ``pins``, every TLS handshake also checks the server's key (``_pins``).
    """

    def __init__(self, *, pins: Optional[FrozenSet[str]] = None, **kwargs: Any) -> None:
        self._sockets = _Sockets()
        self._context = pinned_context(create_urllib3_context(), pins) if pins else None
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Build the pool manager with connections that register their sockets."""
        if self._context is not None:
            kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _tracked_pools(self._sockets)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """The proxy's pool manager, with connections that register their sockets."""
        if self._context is not None:
            proxy_kwargs.setdefault("ssl_context", self._context)
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, ProxyManager):  # a SOCKS manager keeps its own connection classes
            manager.pool_classes_by_scheme = _tracked_pools(self._sockets)
        return manager

    def abort(self) -> None:
        """Fail every request in flight now, and every later one at its connect."""
        self._sockets.abort()

    def close(self) -> None:
        """Close the pools and every connection they hold now (urllib3 2 leaves pooled sockets
        open until they are garbage-collected, so a server would see them linger)."""
        super().close()
        self._sockets.close_all()


def pooled_session(
    pool_maxsize: int, settings: HttpSettings, *, pins: Optional[FrozenSet[str]] = None
) -> requests.Session:
    """A keep-alive ``requests.Session`` for JSON APIs, with ``settings``' CA bundle.

    ``trust_env`` stays off: :class:`HttpSettings` has already read the environment once, and
    callers pass ``proxies=settings.proxies_for(url)`` with each request. Its adapter is an
    :class:`AbortableAdapter` (``session.get_adapter(url).abort()``), pinning ``pins`` if given.
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = settings.verify
    adapter = AbortableAdapter(pins=pins, pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["content-type"] = "application/json"
    return session
