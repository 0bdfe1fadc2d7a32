"""Reading Exit API responses: every envelope the service has used, and error summaries.

The server's words (a body excerpt, a ``reason``) go into errors only after the caller's
``secrets`` are redacted from the whole text, so clipping never keeps part of a secret. Errors
are raised outside ``except`` blocks: no ``__context__`` holding the raw body.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, Optional, Type, TypeVar

from .._redact import redact
from ..errors import ExitApiError, ProtocolError
from ..proto import from_wire
from .account import AccountInfo, HealthStatus
from .models import BuildTxResponse

__all__ = [
    "health_status",
    "parse_account",
    "parse_build_tx_response",
    "parse_model",
    "parse_removed",
    "retry_after_seconds",
    "summarize_error_body",
]

T = TypeVar("T")

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


def parse_model(cls: Type[T], text: str, status: int, what: str, *, secrets: Iterable[Optional[str]] = ()) -> T:
    """Decode a 2xx JSON object into ``cls`` with the strict converter.

    Raises:
        ExitApiError: kind ``parse``, naming the call and the first bad field
            (``GET /v1/account: invalid AccountInfo: field 'limits.max_wallets': ...``).
    """
    return _structure(cls, _object(text, status, what, secrets), text, status, what, secrets)


def parse_account(text: str, status: int, what: str, *, secrets: Iterable[Optional[str]] = ()) -> AccountInfo:
    """``GET /v1/account``; registered wallets are read as pubkeys whether they come as strings or as
    ``{"wallet_pubkey": ...}`` objects, under ``wallets`` or ``registered_wallets``."""
    body = _object(text, status, what, secrets)
    wallets = body.get("wallets", body.get("registered_wallets"))
    if isinstance(wallets, list):
        wallets = [w["wallet_pubkey"] if isinstance(w, dict) and "wallet_pubkey" in w else w for w in wallets]
    body = {k: v for k, v in body.items() if k not in ("wallets", "registered_wallets")}
    if wallets is not None:
        body["wallets"] = wallets
    return _structure(AccountInfo, body, text, status, what, secrets)


def _object(text: str, status: int, what: str, secrets: Iterable[Optional[str]]) -> Dict[str, Any]:
    body = _json_or_not(text)
    if body is _NOT_JSON:
        raise ExitApiError("parse", f"{what}: response was not valid JSON", status=status, body=_clip(text, secrets))
    if not isinstance(body, dict):
        raise ExitApiError("parse", f"{what}: response must be an object", status=status, body=_clip(text, secrets))
    return body


def _structure(
    cls: Type[T], body: Dict[str, Any], text: str, status: int, what: str, secrets: Iterable[Optional[str]]
) -> T:
    try:
        return from_wire(cls, body)
    except ProtocolError as exc:
        problem = str(exc)
    # Raised here, outside the handler: no __context__ holding the raw value.
    raise ExitApiError("parse", redact(f"{what}: {problem}", secrets), status=status, body=_clip(text, secrets))


def parse_removed(text: str, status: int = 200) -> bool:
    """A 2xx of ``DELETE /v1/wallets``: its ``removed`` flag; True when the body does not say."""
    body = _json_or_not(text)
    removed = body.get("removed") if isinstance(body, dict) else None
    return removed if isinstance(removed, bool) else True


def health_status(status: int, text: str, *, secrets: Iterable[Optional[str]] = ()) -> HealthStatus:
    """Read a ``GET /healthz`` answer (see :class:`HealthStatus` for what counts as healthy)."""
    if not 200 <= status < 300:
        return HealthStatus(ok=False, http_status=status, detail=summarize_error_body(text, secrets))
    body = _json_or_not(text)
    said = body.get("status") if isinstance(body, dict) else None
    said = redact(said, secrets) if isinstance(said, str) else None
    if said is None or said.lower() == "ok":
        return HealthStatus(ok=True, http_status=status, status=said)
    return HealthStatus(ok=False, http_status=status, status=said, detail=summarize_error_body(text, secrets))


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
