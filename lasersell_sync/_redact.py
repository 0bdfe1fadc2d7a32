"""Keep secrets out of logs, reprs and exception messages.

Two kinds of secret reach the library: values the user names as secrets (API keys) and secrets
hidden inside URLs the user hands in (``?api-key=...``, ``user:password@``, a token as a path
segment). :func:`safe_url` renders a URL without them; :func:`redact` removes known secrets from
free text (for example a wrapped ``requests`` error that quotes the URL). Replacement is
token-aware, so a short secret such as ``"k"`` never mangles the word ``known``.
"""

from __future__ import annotations

import re
from typing import Iterable, List, Optional
from urllib.parse import parse_qsl, urlsplit

__all__ = ["REDACTED", "mask", "redact", "safe_url", "url_secrets"]

REDACTED = "<redacted>"

_SECRET_NAME = re.compile(
    r"key|token|secret|pass|pwd|auth|sig|cred|session|jwt|bearer|access|private|code", re.IGNORECASE
)
_TOKEN_CHARS = r"A-Za-z0-9_\-"
_TOKENISH = re.compile(rf"[{_TOKEN_CHARS}.~+/=]{{16,}}")


def mask(secret: Optional[str]) -> str:
    """A stand-in that shows a secret is set without revealing any of it."""
    return "<unset>" if not secret else REDACTED


def _looks_secret(value: str) -> bool:
    """A long random-looking token (letters and digits mixed), as providers put in paths."""
    return bool(_TOKENISH.fullmatch(value)) and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def url_secrets(url: str) -> List[str]:
    """The secret parts of ``url``: userinfo, secret-looking query values and path tokens."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return [url] if url else []
    found: List[str] = []
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        found.append(userinfo)
        password = userinfo.partition(":")[2]
        if password:
            found.append(password)
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if value and (_SECRET_NAME.search(name) or _looks_secret(value)):
            found.append(value)
    found.extend(segment for segment in parts.path.split("/") if segment and _looks_secret(segment))
    if parts.fragment:
        found.append(parts.fragment)
    return found


def safe_url(url: str) -> str:
    """``url`` as scheme, host, port and path, with every secret part replaced by ``<redacted>``.

    Example:
        >>> safe_url("https://user:pw@rpc.example.com/abc?api-key=123&cluster=main")
        'https://<redacted>@rpc.example.com/abc?api-key=<redacted>&cluster=main'
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return REDACTED
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    if "@" in parts.netloc:
        netloc = f"{REDACTED}@{netloc}"
    path = "/".join(REDACTED if segment and _looks_secret(segment) else segment for segment in parts.path.split("/"))
    query = "&".join(
        f"{name}={REDACTED}" if value and (_SECRET_NAME.search(name) or _looks_secret(value)) else f"{name}={value}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    shown = f"{parts.scheme}://{netloc}{path}"
    return f"{shown}?{query}" if query else shown


def redact(text: str, secrets: Iterable[Optional[str]]) -> str:
    """``text`` with every whole-token occurrence of each secret replaced by ``<redacted>``.

    A secret counts only where it is not glued to other letters, digits or ``_``, so redacting ``"k"``
    leaves ``"not known"`` intact while ``"x-api-key: k"`` loses the key. Longer secrets are
    replaced first, so a secret containing another is removed whole.
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if secret in text:
            pattern = rf"(?<![A-Za-z0-9_]){re.escape(secret)}(?![A-Za-z0-9_])"
            text = re.sub(pattern, REDACTED, text)
    return text
