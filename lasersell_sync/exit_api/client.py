"""ExitApiClient: the Exit API over one pooled, keep-alive ``requests.Session``.

Repeated calls reuse warm connections (no new TCP + TLS handshake per call), which matters on a
trading hot path. The client is safe to share between handler threads. Timeouts and retries
default to the official low-latency values: 200 ms to connect, 900 ms per attempt, 2 attempts.
The API key and any secret in ``base_url`` never reach a repr, a log record or an error message.
Idempotent calls (builds, account, history, unregister) follow the retry policy; registration and
the health probe go out once.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Protocol, Sequence, Tuple, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests

from .._checks import U64_MAX, check_int, check_pubkey
from .._http import HttpSettings, Proxies, Verify, pooled_session
from .._pins import parse_pins
from .._redact import mask, redact, register_secrets, safe_url
from ..backoff import RetryPolicy
from ..errors import ExitApiError
from ..proto import jsonlib, to_wire
from .account import (
    MAX_HISTORY_LIMIT,
    AccountInfo,
    HealthStatus,
    TradeHistoryPage,
    TradeRecord,
    history_query,
    iterate_pages,
)
from .models import BuildBuyTxRequest, BuildSellTxRequest, BuildTxResponse, SellOutput, WalletProof
from .responses import (
    health_status,
    parse_account,
    parse_build_tx_response,
    parse_model,
    parse_removed,
    retry_after_seconds,
    summarize_error_body,
)

__all__ = ["DEFAULT_BASE_URL", "ExitApiClient", "SellablePosition"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.lasersell.io"
_PATHS = ("/v1/sell", "/v1/buy", "/v1/wallets/register", "/v1/wallets", "/v1/account", "/v1/history", "/healthz")
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


def _with_query(url: str, query: str) -> str:
    """``url`` with ``query`` appended after any query it already has (a gateway token first)."""
    if not query:
        return url
    return url + ("&" if urlsplit(url).query else "?") + query


class ExitApiClient:
    """Build unsigned buy/sell transactions, manage registered wallets, read the account.

    Args:
        api_key: sent as ``x-api-key`` (never logged); ``None`` sends no key.
        base_url: production by default; trailing ``/`` are stripped. A query string (a gateway's
            ``?token=``) is kept on every call and never shown.
        timeout: seconds per attempt (read).
        connect_timeout: seconds to connect.
        retry: retry policy for the build calls and the idempotent account calls (account,
            history, unregister); registration and the health probe are never retried.
        max_retry_after: cap on a server's ``Retry-After`` before a retry, seconds.
        pool_maxsize: keep-alive connections kept per host (share one client between threads).
        proxies: ``None`` honours ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (read once); a
            ``requests``-style map replaces them; ``{}`` connects directly.
        verify: ``None`` honours ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` (read once), else
            certifi; a path names your CA bundle. Verification cannot be turned off.
        tls_pins: SHA-256 SPKI pins of the API's TLS key (base64; give two to roll keys),
            checked in every handshake before the request (and its key) is sent; a mismatch
            raises :class:`~lasersell_sync.errors.TlsPinError` and is never retried.

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
        tls_pins: Optional[Sequence[str]] = None,
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
        pins = parse_pins(tls_pins) if tls_pins is not None else None
        if pins and not self._base.startswith("https://"):
            raise ValueError("tls_pins needs an https:// base_url")
        self._session = pooled_session(pool_maxsize, self._http, pins=pins)
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
        return self._with_retries(lambda: self._call("POST", "/v1/sell", self._parse_build, body=to_wire(request)))

    def build_sell_tx_b64(self, request: BuildSellTxRequest) -> str:
        """Like :meth:`build_sell_tx`, returning only the unsigned transaction (base64)."""
        return self.build_sell_tx(request).tx

    def build_buy_tx(self, request: BuildBuyTxRequest) -> BuildTxResponse:
        """``POST /v1/buy``. Raises ValueError (bad input, before any call) or ExitApiError."""
        request.validate()
        return self._with_retries(lambda: self._call("POST", "/v1/buy", self._parse_build, body=to_wire(request)))

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
        self._call("POST", "/v1/wallets/register", lambda text, status: None, body=body)

    def register_wallets(self, proofs: Iterable[WalletProof]) -> List[str]:
        """Register several wallets; returns their public keys."""
        registered = []
        for proof in proofs:
            self.register_wallet(proof)
            registered.append(proof.wallet_pubkey)
        return registered

    def unregister_wallet(self, wallet_pubkey: str) -> bool:
        """``DELETE /v1/wallets``: stop tracking a wallet for this API key.

        Returns True when the service removed it, False when it was not registered. The end
        state is idempotent, so the call is retried like the build calls; after a retry, False
        may also mean an earlier attempt (whose answer was lost) removed it.

        Raises:
            ValueError: ``wallet_pubkey`` is not a base58 public key (nothing is sent).
            ExitApiError: kind ``http_status`` (401 key, ...), ``transport``, ``timeout``, ``parse``.
        """
        check_pubkey(wallet_pubkey, "wallet_pubkey")
        body = {"wallet_pubkey": wallet_pubkey}
        return self._with_retries(lambda: self._call("DELETE", "/v1/wallets", parse_removed, body=body))

    def account(self) -> AccountInfo:
        """``GET /v1/account``: the plan (tier, limits) and, when listed, the registered wallets.

        Raises:
            ExitApiError: kind ``http_status`` (401 key, ...), ``transport``, ``timeout``, ``parse``.
        """
        return self._with_retries(lambda: self._call("GET", "/v1/account", self._parse_account))

    def history(
        self, limit: int = 50, offset: int = 0, mint: Optional[str] = None, wallet: Optional[str] = None
    ) -> TradeHistoryPage:
        """``GET /v1/history``: one page of closed trades, most recent first.

        Args:
            limit: trades per page, 1 to 200 (the service's cap).
            offset: trades to skip (>= 0).
            mint: only trades of this token (base58).
            wallet: only trades of this wallet (base58).

        Raises:
            ValueError: a bad argument, naming it (nothing is sent).
            ExitApiError: kind ``http_status``, ``transport``, ``timeout``, ``parse``.
        """
        query = history_query(limit, offset, mint, wallet)
        return self._with_retries(lambda: self._call("GET", "/v1/history", self._parse_history, query=query))

    def iter_history(
        self,
        mint: Optional[str] = None,
        wallet: Optional[str] = None,
        *,
        page_size: int = MAX_HISTORY_LIMIT,
        max_trades: Optional[int] = None,
    ) -> Iterator[TradeRecord]:
        """Every matching trade, most recent first, fetched one page at a time as you iterate.

        Stops at a short or empty page, at the service's ``total``, or after ``max_trades``.
        Trades that close while you iterate push older ones to later offsets; the growth of
        ``total`` says by how many, so every trade that had closed when the walk began is
        yielded, once (a trade already yielded, same ``id``, is skipped in any case), and the
        ones that close meanwhile are left for the next walk. Arguments are checked now, before
        any request, with the errors of :meth:`history`.
        """
        history_query(page_size, 0, mint, wallet, limit_name="page_size")
        if max_trades is not None:
            check_int(max_trades, "max_trades", 0, U64_MAX)
        return iterate_pages(lambda offset: self.history(page_size, offset, mint, wallet), page_size, max_trades)

    def health(self) -> HealthStatus:
        """``GET /healthz``, once (a probe reports what it sees; no retry). No API key is needed.

        A 2xx answer is healthy unless its JSON ``status`` says otherwise (a body that is not
        JSON is fine); a non-2xx answer is an unhealthy :class:`HealthStatus`, not an error.

        Raises:
            ExitApiError: kind ``transport`` or ``timeout``: no answer at all.
        """
        response, text = self._exchange("GET", "/healthz", None, "")
        return health_status(response.status_code, text, secrets=self._secrets)

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

    def _call(
        self,
        method: str,
        path: str,
        parse: Callable[[str, int], T],
        *,
        body: Optional[Dict[str, Any]] = None,
        query: str = "",
    ) -> T:
        response, text = self._exchange(method, path, body, query)
        return self._answer(f"{method} {path}", response, text, parse)

    def _exchange(
        self, method: str, path: str, body: Optional[Dict[str, Any]], query: str
    ) -> Tuple[requests.Response, str]:
        """One request; ExitApiError ``timeout``/``transport`` (redacted) when no answer came."""
        url = _with_query(self._urls.get(path) or _join(self._base, path), query)
        data = None if body is None else jsonlib.dumps(body).encode("utf-8")
        try:
            response = self._session.request(method, url, data=data, timeout=self._timeout, proxies=self._proxies)
            text = response.text
        except requests.Timeout as exc:
            # Built here, raised below: outside the handler, so no un-redacted __context__.
            error = ExitApiError("timeout", self._clean(f"{method} {path} timed out: {type(exc).__name__}: {exc}"))
        except requests.RequestException as exc:
            error = ExitApiError("transport", self._clean(f"{method} {path} failed: {type(exc).__name__}: {exc}"))
        else:
            return response, text
        raise error

    def _answer(self, call: str, response: requests.Response, text: str, parse: Callable[[str, int], T]) -> T:
        status = response.status_code
        if not 200 <= status < 300:
            summary = summarize_error_body(text, self._secrets)
            raise ExitApiError(
                "http_status",
                f"{call} returned HTTP {status}: {summary}",
                status=status,
                body=summary,
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
        return parse(text, status)

    def _parse_build(self, text: str, status: int) -> BuildTxResponse:
        return parse_build_tx_response(text, status, secrets=self._secrets)

    def _parse_account(self, text: str, status: int) -> AccountInfo:
        return parse_account(text, status, "GET /v1/account", secrets=self._secrets)

    def _parse_history(self, text: str, status: int) -> TradeHistoryPage:
        return parse_model(TradeHistoryPage, text, status, "GET /v1/history", secrets=self._secrets)

    def _clean(self, message: str) -> str:
        return redact(message, self._secrets)
