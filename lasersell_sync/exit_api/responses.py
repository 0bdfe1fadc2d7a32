"""Reading Exit API responses: every envelope the service has used, and error summaries.

The server's words (a body excerpt, a ``reason``) go into errors only after the caller's
``secrets`` are redacted from the whole text, so clipping never keeps part of a secret. Errors
are raised outside ``except`` blocks: no ``__context__`` holding the raw body.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Optional

from .._redact import redact
from ..errors import ExitApiError
from .models import BuildTxResponse

__all__ = ["parse_build_tx_response", "retry_after_seconds", "summarize_error_body"]

_SUMMARY_CHARS = 220


_NOT_JSON: Any = object()


def _json_or_not(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def parse_build_tx_response(text: str, status: int = 200, *, secrets: Iterable[Optional[str]] = ()) -> BuildTxResponse:
    """Parse a 2xx body of ``/v1/sell`` or ``/v1/buy`` (every shape the service has used, tried in order).

    Raises:
        ExitApiError: kind ``envelope_status`` (a non-ok ``status``) or ``parse``; its text has
            ``secrets`` (the API key, URL secrets) redacted.
    """
    body = _json_or_not(text)
    if body is _NOT_JSON:
        raise ExitApiError("parse", "response was not valid JSON", status=status, body=_clip(text, secrets))
    if not isinstance(body, dict):
        raise ExitApiError("parse", "response must be an object", status=status, body=_clip(text, secrets))
    envelope = body.get("status")
    if isinstance(envelope, str):
        if envelope.lower() == "ok":
            tx = body.get("tx")
            if not isinstance(tx, str):
                tx = body.get("unsigned_tx_b64")
            if not isinstance(tx, str):
                raise ExitApiError("parse", "status=ok payload missing tx", status=status, body=_clip(text, secrets))
            return BuildTxResponse(tx=tx, route=body.get("route"), debug=body.get("debug"))
        detail = redact(
            next((body[k] for k in ("reason", "message", "error") if isinstance(body.get(k), str)), "unknown failure"),
            secrets,
        )
        raise ExitApiError(
            "envelope_status",
            f"exit api returned status={envelope}: {detail}",
            status=status,
            body=detail,
            envelope_status=envelope,
        )
    for key in ("unsigned_tx_b64", "tx"):
        if isinstance(body.get(key), str):
            return BuildTxResponse(tx=body[key], route=body.get("route"), debug=body.get("debug"))
    raise ExitApiError("parse", "response did not match any supported schema", status=status, body=_clip(text, secrets))


def summarize_error_body(text: str, secrets: Iterable[Optional[str]] = ()) -> str:
    """The ``error``, else ``message``, else ``reason`` string of a JSON body; else its start.

    ``secrets`` are redacted from the result (the server may echo the key back).
    """
    body = _json_or_not(text)
    if isinstance(body, dict):
        for key in ("error", "message", "reason"):
            if isinstance(body.get(key), str):
                return redact(str(body[key]), secrets)
    return _clip(text, secrets)


def retry_after_seconds(value: Optional[str]) -> Optional[float]:
    """A ``Retry-After`` header in seconds (the HTTP-date form is ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _clip(text: Any, secrets: Iterable[Optional[str]]) -> str:
    return redact(str(text), secrets)[:_SUMMARY_CHARS]
