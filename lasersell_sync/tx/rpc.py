"""One JSON-RPC call over a pooled ``requests.Session``, with every failure typed and redacted.

Send targets and confirmation RPCs share it: transport failures, non-2xx answers, bodies that are
not JSON objects and JSON-RPC ``error`` members each become a :class:`TxSubmitError` of their own
kind, and no secret of the URL, the headers or a proxy survives in the message or in a chained
cause (errors are raised outside the ``except`` block).
"""

from __future__ import annotations

import http.client
import json
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import requests

from .._http import HttpSettings
from .._redact import redact, safe_url
from ..errors import TxSubmitError
from ..proto import jsonlib

__all__ = ["RPC_NAME", "JsonRpc"]

RPC_NAME = "confirm rpc"
"""The target name in errors of confirmation calls."""
_SNIPPET = 220
_NOT_JSON: Any = object()


class JsonRpc:
    """Posts JSON-RPC 2.0 requests for one ``TxSender`` (its session, timeouts and HTTP settings)."""

    def __init__(self, session: requests.Session, timeout: Tuple[float, float], http: HttpSettings) -> None:
        self._session = session
        self._timeout = timeout
        self._http = http

    def call(
        self,
        url: str,
        method: str,
        params: List[Any],
        *,
        name: str,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[Tuple[float, float]] = None,
    ) -> Dict[str, Any]:
        """The answer object (its ``result`` is the caller's to check).

        Raises:
            TxSubmitError: kind ``transport``, ``http_status``, ``decode_response`` or ``rpc_error``.
        """
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        extra: Dict[str, str] = dict(headers or {})
        response = self._exchange("POST", url, jsonlib.dumps(body).encode("utf-8"), extra, name, timeout)
        return _result(response.status_code, response.text, name, lambda: self.secrets(url, extra))

    def touch(
        self, verb: str, url: str, body: Optional[Dict[str, Any]], *, name: str, headers: Mapping[str, str]
    ) -> int:
        """A warm-up request: its HTTP status (any answer means the connection is alive).

        Raises:
            TxSubmitError: kind ``transport``: no answer at all.
        """
        data = jsonlib.dumps(body).encode("utf-8") if body is not None else None
        return self._exchange(verb, url, data, dict(headers), name, None).status_code

    def _exchange(
        self,
        verb: str,
        url: str,
        data: Optional[bytes],
        headers: Dict[str, str],
        name: str,
        timeout: Optional[Tuple[float, float]],
    ) -> requests.Response:
        """One request, read in full. A pooled connection that the server closed while it sat
        idle (a provider's or load balancer's idle timeout) is replaced at once, once: the
        request never reached the server, and every call made here may be repeated."""
        error: Optional[TxSubmitError] = None
        for attempt in (1, 2):
            try:
                response = self._session.request(
                    verb,
                    url,
                    data=data,
                    headers=headers,
                    timeout=timeout or self._timeout,
                    proxies=self._http.proxies_for(url),
                )
                response.content  # noqa: B018 - read the body now, inside the try
                return response
            except requests.RequestException as exc:
                if attempt == 1 and isinstance(exc, requests.ConnectionError) and _went_stale(exc):
                    continue
                # Built here, raised below: outside the handler, so no un-redacted __context__.
                secrets = self.secrets(url, headers)
                error = TxSubmitError(
                    "transport",
                    f"{verb} {safe_url(url)} failed: {type(exc).__name__}: {redact(str(exc), secrets)}",
                    target=name,
                )
                break
        assert error is not None
        raise error

    def secrets(self, url: str, headers: Mapping[str, str]) -> List[str]:
        """What must never be shown: header values (API keys) and the URL's and proxy's secrets."""
        return [*headers.values(), *self._http.secrets_for(url)]


_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


def _went_stale(exc: BaseException) -> bool:
    """Whether a request failed because the server had closed the (pooled) connection."""
    seen = 0
    pending: List[Any] = [exc]
    while pending and seen < 32:
        current = pending.pop()
        seen += 1
        if isinstance(current, _STALE):
            return True
        if isinstance(current, BaseException):
            pending.extend([*current.args, current.__cause__, current.__context__])
    return False


def _json_or_not(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def _result(status: int, text: str, name: str, secrets: Callable[[], List[str]]) -> Dict[str, Any]:
    """A JSON-RPC answer object without ``error``; else a TxSubmitError whose text has no secret."""
    body = _json_or_not(text) if 200 <= status < 300 else _NOT_JSON
    if not 200 <= status < 300:
        kind, prefix, detail = "http_status", f"HTTP {status}: ", text
    elif body is _NOT_JSON:
        kind, prefix, detail = "decode_response", "response is not JSON: ", text
    elif not isinstance(body, dict):
        kind, prefix, detail = "decode_response", "response is not a JSON object: ", text
    elif "error" in body:
        kind, prefix, detail = "rpc_error", "", json.dumps(body["error"], separators=(",", ":"))
    else:
        return body
    detail = redact(detail, secrets())  # before clipping, so no secret is cut in half and kept
    message = prefix + (detail if kind == "rpc_error" else detail[:_SNIPPET])
    raise TxSubmitError(kind, message, target=name, status=status if kind == "http_status" else None)


def missing_result(name: str, what: str, answer: Dict[str, Any]) -> TxSubmitError:
    """The error for an answer whose ``result`` is not what the method returns."""
    result = answer.get("result")
    shown = result if result is not None else answer
    return TxSubmitError("missing_result", f"no {what} in result: {json.dumps(shown)[:_SNIPPET]}", target=name)
