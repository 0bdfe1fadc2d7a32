"""Keep secrets out of logs, reprs and exception messages.

Two kinds of secret reach the library: values the user names as secrets (API keys) and secrets
hidden inside URLs the user hands in (``?api-key=...``, ``user:password@``, a token as a path
segment). :func:`safe_url` renders a URL without them; :func:`redact` removes known secrets from
free text (for example a wrapped ``requests`` error that quotes the URL). Replacement of short
secrets is token-aware, so a key such as ``"k"`` never mangles the word ``known``; long ones are
replaced wherever they occur, since a long key glued to other text (``%3D<key>``) is still the key.

Third-party log records are the one place the library cannot choose its own text: urllib3 logs
``"POST /?api-key=... HTTP/1.1" 200`` at DEBUG and websocket-client's trace dumps the upgrade
request. Rather than configure logging (no levels, no handlers), every client registers the
secrets of the URLs and keys it is created with (:func:`register_secrets`), and a
:class:`SecretLogFilter` on exactly those third-party loggers (:data:`FILTERED_LOGGERS`) rewrites a
record that contains one. Logger filters run only for records that pass the level check, so this
costs nothing unless DEBUG logging is on. The registry holds distinct secrets only and forgets the
oldest past :data:`MAX_REGISTERED`.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Pattern, Tuple
from urllib.parse import unquote, unquote_plus, urlsplit

__all__ = [
    "FILTERED_LOGGERS",
    "MAX_REGISTERED",
    "REDACTED",
    "SecretLogFilter",
    "mask",
    "redact",
    "register_secrets",
    "safe_url",
    "url_secrets",
]

REDACTED = "<redacted>"

_SECRET_NAME = re.compile(
    r"key|token|secret|pass|pwd|auth|sig|cred|session|jwt|bearer|access|private|code", re.IGNORECASE
)
_TOKEN_CHARS = r"A-Za-z0-9_\-"
_TOKENISH = re.compile(rf"[{_TOKEN_CHARS}.~+/=%]{{16,}}")
_WORD = re.compile(r"[A-Za-z0-9_]")
_SHORT = 8
"""Secrets shorter than this count only as whole tokens; longer ones are replaced anywhere."""


def mask(secret: Optional[str]) -> str:
    """A stand-in that shows a secret is set without revealing any of it."""
    return "<unset>" if not secret else REDACTED


def _looks_secret(value: str) -> bool:
    """A long random-looking token (letters and digits mixed), as providers put in paths."""
    return bool(_TOKENISH.fullmatch(value)) and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def _query_pairs(query: str) -> List[Tuple[str, str, str]]:
    """``(decoded name, raw value, decoded value)`` for each ``name=value`` of a query string."""
    pairs = []
    for field in query.split("&"):
        if field:
            name, _, value = field.partition("=")
            pairs.append((unquote_plus(name), value, unquote_plus(value)))
    return pairs


def _secret_value(name: str, value: str, decoded: str) -> bool:
    return bool(decoded) and bool(_SECRET_NAME.search(name) or _looks_secret(decoded) or _looks_secret(value))


def url_secrets(url: str) -> List[str]:
    """The secret parts of ``url``: userinfo, secret-looking query values and path tokens.

    Each is listed as written and percent-decoded, since wrapped errors quote either form.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return [url] if url else []
    found: List[str] = []
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        password = userinfo.partition(":")[2]
        found += [userinfo, unquote(userinfo), password, unquote(password)]
    for name, value, decoded in _query_pairs(parts.query):
        if _secret_value(name, value, decoded):
            found += [value, decoded]
    for segment in parts.path.split("/"):
        if segment and _looks_secret(unquote(segment)):
            found += [segment, unquote(segment)]
    if parts.fragment:
        found += [parts.fragment, unquote(parts.fragment)]
    return list(dict.fromkeys(s for s in found if s))


def safe_url(url: str) -> str:
    """``url`` as scheme, host, port and path, with every secret part replaced by ``<redacted>``.

    Example:
        >>> safe_url("https://user:pw@rpc.example.com/abc?api-key=123&cluster=main")
        'https://<redacted>@rpc.example.com/abc?api-key=<redacted>&cluster=main'
    """
    text = url.strip()
    if "://" not in text:  # not a URL: shown only when it cannot hide a key or a credential
        plain = len(text) <= 80 and not any(c in text for c in "@?#:") and not any(map(_looks_secret, text.split("/")))
        return text if plain else REDACTED
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return REDACTED
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    if "@" in parts.netloc:
        netloc = f"{REDACTED}@{netloc}"
    path = "/".join(
        REDACTED if segment and _looks_secret(unquote(segment)) else segment for segment in parts.path.split("/")
    )
    query = "&".join(
        f"{name}={REDACTED}" if _secret_value(name, value, decoded) else f"{name}={decoded}"
        for name, value, decoded in _query_pairs(parts.query)
    )
    shown = f"{parts.scheme}://{netloc}{path}"
    return f"{shown}?{query}" if query else shown


def _compile(secrets: Tuple[str, ...]) -> Pattern[str]:
    """One alternation, longest secret first; short secrets bounded where they have a word end."""
    alternatives = []
    for secret in secrets:
        short = len(secret) < _SHORT
        before = r"(?<![A-Za-z0-9_])" if short and _WORD.match(secret[0]) else ""
        after = r"(?![A-Za-z0-9_])" if short and _WORD.match(secret[-1]) else ""
        alternatives.append(before + re.escape(secret) + after)
    return re.compile("|".join(alternatives))


_pattern = lru_cache(maxsize=64)(_compile)


def _ordered(secrets: Iterable[Optional[str]]) -> Tuple[str, ...]:
    return tuple(sorted({s for s in secrets if s}, key=lambda s: (-len(s), s)))


def redact(text: str, secrets: Iterable[Optional[str]]) -> str:
    """``text`` with every occurrence of each secret replaced by ``<redacted>``.

    A short secret (under 8 characters) counts only where it is not glued to other letters, digits
    or ``_``, so redacting ``"k"`` leaves ``"not known"`` intact while ``"x-api-key: k"`` loses the
    key; a longer one is replaced wherever it occurs. One pass, longest secret first, so a secret
    containing another is removed whole and ``<redacted>`` is never rewritten.
    """
    ordered = _ordered(secrets)
    if not ordered or not any(secret in text for secret in ordered):
        return text
    return _pattern(ordered).sub(REDACTED, text)


# -- third-party log records ---------------------------------------------------------------

FILTERED_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "websocket",
)
"""Loggers whose records quote request paths, URLs or headers (and so URL secrets)."""

MAX_REGISTERED = 1024
"""Most distinct secrets remembered; past it the oldest are forgotten (a bounded registry)."""

_registered: Dict[str, None] = {}
_registry_lock = threading.Lock()
_active: Optional[Pattern[str]] = None


class SecretLogFilter(logging.Filter):
    """Rewrites a log record (message and traceback text) that contains a registered secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record; only its text changes, and only when a secret is in it."""
        pattern = _active
        if pattern is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem to report, not ours
            return True
        cleaned = pattern.sub(REDACTED, message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = pattern.sub(REDACTED, logging.Formatter().formatException(record.exc_info))
        return True


_FILTER = SecretLogFilter()


def scrub(text: str) -> str:
    """``text`` without any registered secret (for text written outside logging, e.g. recordings)."""
    pattern = _active
    return text if pattern is None else pattern.sub(REDACTED, text)


def register_secrets(secrets: Iterable[Optional[str]]) -> None:
    """Remember secrets so :class:`SecretLogFilter` removes them from third-party log records.

    Idempotent and cheap for secrets already known; installs the filter on first use.
    """
    global _active
    fresh = [s for s in dict.fromkeys(secrets) if s and s not in _registered]
    if not fresh:
        return
    with _registry_lock:
        for secret in fresh:
            _registered[secret] = None
        while len(_registered) > MAX_REGISTERED:
            del _registered[next(iter(_registered))]
        _active = _compile(_ordered(_registered))
        for name in FILTERED_LOGGERS:
            logging.getLogger(name).addFilter(_FILTER)
