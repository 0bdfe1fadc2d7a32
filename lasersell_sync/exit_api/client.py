"""ExitApiClient: the Exit API over one pooled, keep-alive ``requests.Session``.

Repeated calls reuse warm connections (no new TCP + TLS handshake per call), which matters on a
trading hot path. The client is safe to share between handler threads. Timeouts and retries
default to the official low-latency values: 200 ms to connect, 900 ms per attempt, 2 attempts.
The API key and any secret in ``base_url`` never reach a repr, a log record or an error message.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests

from .._http import HttpSettings, Proxies, Verify, pooled_session
from .._redact import mask, redact, register_secrets, safe_url
from ..backoff import RetryPolicy
from ..errors import ExitApiError
from ..proto import jsonlib, to_wire
from .models import BuildBuyTxRequest, BuildSellTxRequest, BuildTxResponse, SellOutput, WalletProof
from .responses import parse_build_tx_response, retry_after_seconds, summarize_error_body

__all__ = ["DEFAULT_BASE_URL", "ExitApiClient", "SellablePosition"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.lasersell.io"
_PATHS = ("/v1/sell", "/v1/buy", "/v1/wallets/register")
_DEFAULT_RETRY = RetryPolicy()
T = TypeVar("T")


class SellablePosition(Protocol):
    """Anything naming a mint and the wallet holding it, e.g. a stream ``PositionHandle``.

    A protocol rather than the handle itself, so the Exit API does not import the stream above it.
    """

    @property
    def mint(self) -> str:
        """The token's mint (base58)."""
        ...

    @property
    def wallet_pubkey(self) -> str:
        """The wallet that holds the tokens (base58)."""
        ...


def _join(base: str, path: str) -> str:
    """``base`` with ``path`` appended to its path; its query (a gateway token) is kept."""
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + path, parts.query, ""))


class ExitApiClient:
    """Build unsigned buy/sell transactions and register wallets.

    Args:
        api_key: sent as ``x-api-key`` (never logged); ``None`` sends no key.
        base_url: production by default; trailing ``/`` are stripped. A query string (a gateway's
            ``?token=``) is kept on every call and never shown.
        timeout: seconds per attempt (read); connect_timeout: seconds to connect.
        retry: retry policy for build calls (registration is never retried).
        max_retry_after: cap on a server's ``Retry-After`` before a retry, seconds.
        proxies: ``None`` honours ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (read once); a
            ``requests``-style map replaces them; ``{}`` connects directly.
        verify: ``None`` honours ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` (read once), else
            certifi; a path names your CA bundle. Verification cannot be turned off.

    Example:
        >>> with ExitApiClient(api_key) as api:
        ...     unsigned = api.build_sell_tx_b64(BuildSellTxRequest(...))
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        *,
        timeout: float = 0.9,
        connect_timeout: float = 0.2,
        retry: RetryPolicy = _DEFAULT_RETRY,
        max_retry_after: float = 1.0,
        pool_maxsize: int = 16,
        proxies: Proxies = None,
        verify: Verify = None,
    ) -> None:
        if timeout <= 0 or connect_timeout <= 0:
            raise ValueError("timeouts must be > 0")
        self._api_key = api_key
        self._base = (base_url or DEFAULT_BASE_URL).strip().rstrip("/")
        if not self._base.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http:// or https:// URL, got {safe_url(self._base)!r}")
        self._timeout = (connect_timeout, timeout)
        self._retry = retry
        self._max_retry_after = max_retry_after
        self._http = HttpSettings(proxies, verify)
        self._proxies = self._http.proxies_for(self._base)
        self._secrets = [api_key, *self._http.secrets_for(self._base)]
        register_secrets(self._secrets)
        self._session = pooled_session(pool_maxsize, self._http)
        self._session.headers["accept"] = "application/json"
        if api_key:
            self._session.headers["x-api-key"] = api_key
        self._urls = {path: _join(self._base, path) for path in _PATHS}

    def __repr__(self) -> str:
        return f"<ExitApiClient {safe_url(self._base)} api_key={mask(self._api_key)}>"

    @property
    def base_url(self) -> str:
        """The base URL as given (it may hold a secret: show ``repr(client)`` instead)."""
        return self._base

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def __enter__(self) -> ExitApiClient:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- calls -------------------------------------------------------------------------

    def build_sell_tx(self, request: BuildSellTxRequest) -> BuildTxResponse:
        """``POST /v1/sell``. Raises ValueError (bad input, before any call) or ExitApiError."""
        request.validate()
        return self._with_retries(lambda: self._post("/v1/sell", to_wire(request), self._parse_build))

    def build_sell_tx_b64(self, request: BuildSellTxRequest) -> str:
        """Like :meth:`build_sell_tx`, returning only the unsigned transaction (base64)."""
        return self.build_sell_tx(request).tx

    def build_buy_tx(self, request: BuildBuyTxRequest) -> BuildTxResponse:
        """``POST /v1/buy``. Raises ValueError (bad input, before any call) or ExitApiError."""
        request.validate()
        return self._with_retries(lambda: self._post("/v1/buy", to_wire(request), self._parse_build))

    def build_partial_sell_tx(
        self,
        handle: SellablePosition,
        amount_tokens: int,
        slippage_bps: int,
        output: str = SellOutput.SOL,
    ) -> BuildTxResponse:
        """Sell part of a tracked position (e.g. what ``max_sell_at_slippage`` allows).

        ``handle`` is a ``PositionHandle`` or anything else with ``mint`` and ``wallet_pubkey``.
        """
        return self.build_sell_tx(
            BuildSellTxRequest(
                mint=handle.mint,
                user_pubkey=handle.wallet_pubkey,
                amount_tokens=amount_tokens,
                output=output,
                slippage_bps=slippage_bps,
            )
        )

    def register_wallet(self, proof: WalletProof, label: Optional[str] = None) -> None:
        """``POST /v1/wallets/register`` (idempotent). One attempt: never retried.

        Raises:
            ExitApiError: kind ``http_status`` (400 bad proof, 401 key, 403 signature), etc.
        """
        if not isinstance(proof, WalletProof):
            raise ValueError(f"proof must be a WalletProof, got {type(proof).__name__}")
        body: Dict[str, Any] = to_wire(proof)
        if label is not None:
            body["label"] = label
        self._post("/v1/wallets/register", body, lambda text, status: None)

    def register_wallets(self, proofs: Iterable[WalletProof]) -> List[str]:
        """Register several wallets; returns their public keys."""
        registered = []
        for proof in proofs:
            self.register_wallet(proof)
            registered.append(proof.wallet_pubkey)
        return registered

    # -- plumbing ------------------------------------------------------------------------

    def _with_retries(self, call: Callable[[], T]) -> T:
        attempt = 1
        while True:
            try:
                return call()
            except ExitApiError as exc:
                if not exc.is_retryable or attempt >= self._retry.max_attempts:
                    raise
                delay = self._retry.delay(attempt)
                if exc.retry_after is not None:
                    delay = max(delay, min(exc.retry_after, self._max_retry_after))
                logger.info("exit api attempt %d failed (%s); retrying in %.3f s", attempt, exc.kind, delay)
                time.sleep(delay)
                attempt += 1

    def _post(self, path: str, body: Dict[str, Any], parse: Callable[[str, int], T]) -> T:
        url = self._urls.get(path) or _join(self._base, path)
        try:
            response = self._session.post(
                url, data=jsonlib.dumps(body).encode("utf-8"), timeout=self._timeout, proxies=self._proxies
            )
            text = response.text
        except requests.Timeout as exc:
            # Built here, raised below: outside the handler, so no un-redacted __context__.
            error = ExitApiError("timeout", self._clean(f"POST {path} timed out: {type(exc).__name__}: {exc}"))
        except requests.RequestException as exc:
            error = ExitApiError("transport", self._clean(f"POST {path} failed: {type(exc).__name__}: {exc}"))
        else:
            return self._answer(path, response, text, parse)
        raise error

    def _answer(self, path: str, response: requests.Response, text: str, parse: Callable[[str, int], T]) -> T:
        status = response.status_code
        if not 200 <= status < 300:
            summary = summarize_error_body(text, self._secrets)
            raise ExitApiError(
                "http_status",
                f"POST {path} returned HTTP {status}: {summary}",
                status=status,
                body=summary,
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
        return parse(text, status)

    def _parse_build(self, text: str, status: int) -> BuildTxResponse:
        return parse_build_tx_response(text, status, secrets=self._secrets)

    def _clean(self, message: str) -> str:
        return redact(message, self._secrets)
