"""One JSON-RPC call over a pooled ``requests.Session``, with every failure typed and redacted.

Send targets and confirmation RPCs share it: transport failures, non-2xx answers, bodies that are
not JSON objects and JSON-RPC ``error`` members each become a :class:`TxSubmitError` of their own
kind, and no secret of the URL, the headers or a proxy survives in the message or in a chained
cause (errors are raised outside the ``except`` block).
"""

from __future__ import annotations

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
        try:
            response = self._session.post(
                url,
                data=jsonlib.dumps(body).encode("utf-8"),
                headers=extra,
                timeout=timeout or self._timeout,
                proxies=self._http.proxies_for(url),
            )
            text = response.text
        except requests.RequestException as exc:
            # Built here, raised below: outside the handler, so no un-redacted __context__.
            secrets = self.secrets(url, extra)
            error = TxSubmitError(
                "transport",
                f"POST {safe_url(url)} failed: {type(exc).__name__}: {redact(str(exc), secrets)}",
                target=name,
            )
        else:
            return _result(response.status_code, text, name, lambda: self.secrets(url, extra))
        raise error

    def secrets(self, url: str, headers: Mapping[str, str]) -> List[str]:
        """What must never be shown: header values (API keys) and the URL's and proxy's secrets."""
        return [*headers.values(), *self._http.secrets_for(url)]


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
