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

import os
import threading
from typing import Dict, List, Mapping, Optional, Union

import requests
from requests.adapters import HTTPAdapter

from ._redact import register_secrets, url_secrets

__all__ = ["HttpSettings", "Proxies", "Verify", "pooled_session"]

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


def pooled_session(pool_maxsize: int, settings: HttpSettings) -> requests.Session:
    """A keep-alive ``requests.Session`` for JSON APIs, with ``settings``' CA bundle.

    ``trust_env`` stays off: :class:`HttpSettings` has already read the environment once, and
    callers pass ``proxies=settings.proxies_for(url)`` with each request.
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = settings.verify
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["content-type"] = "application/json"
    return session
