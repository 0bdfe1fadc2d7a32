"""TLS public-key pinning: an ``SSLContext`` whose handshake also checks the server's SPKI hash.

A pin is the SHA-256 of a certificate's SubjectPublicKeyInfo, base64-encoded (what
``openssl ... | openssl dgst -sha256 -binary | base64`` prints; HPKP's ``pin-sha256`` and curl's
``sha256//`` forms are accepted too). The check runs inside the TLS handshake, after normal
certificate verification (which stays on) and before a single byte of HTTP is sent, so a
mismatch never shows an API key to the wrong server. Python 3.13 and later check every
certificate of the verified chain; older versions check the leaf. A mismatch raises
:class:`~lasersell_sync.errors.TlsPinError`, which callers treat as fatal.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ssl
from typing import Any, FrozenSet, Iterable, List, Optional, Tuple

from .errors import TlsPinError

__all__ = ["check_pins", "parse_pins", "pinned_context", "spki_sha256"]

_PREFIXES = ("sha256//", "sha256/", "pin-sha256=")


def parse_pins(pins: Iterable[str], *, field: str = "tls_pins") -> FrozenSet[str]:
    """The pins as canonical base64 strings; a ValueError naming ``field`` for a bad one."""
    if isinstance(pins, (str, bytes)):
        raise TypeError(f"{field} must be a list of pins, not a single string")
    parsed = set()
    for pin in pins:
        if not isinstance(pin, str):
            raise TypeError(f"{field} must hold strings, got {type(pin).__name__}")
        text = pin.strip()
        for prefix in _PREFIXES:
            if text.lower().startswith(prefix):
                text = text[len(prefix) :].strip('"')
                break
        try:
            digest = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != 32:
            raise ValueError(f"{field}: {pin!r} is not a base64 SHA-256 pin (32 bytes, 44 characters)")
        parsed.add(base64.b64encode(digest).decode("ascii"))
    if not parsed:
        raise ValueError(f"{field} must hold at least one pin (give two, to be able to roll keys)")
    return frozenset(parsed)


def _read(der: bytes, at: int) -> Tuple[int, int, int]:
    """One DER element at ``at``: (tag, start of its content, end of the element)."""
    if at + 2 > len(der):
        raise ValueError("truncated DER")
    tag, length = der[at], der[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(der):
            raise ValueError("bad DER length")
        length = int.from_bytes(der[start : start + count], "big")
        start += count
    end = start + length
    if end > len(der):
        raise ValueError("truncated DER")
    return tag, start, end


def spki_sha256(certificate_der: bytes) -> str:
    """The base64 SHA-256 of a DER certificate's SubjectPublicKeyInfo (its pin).

    Raises:
        ValueError: not a DER X.509 certificate.
    """
    tag, start, _ = _read(certificate_der, 0)  # Certificate ::= SEQUENCE
    tag_tbs, at, tbs_end = _read(certificate_der, start)  # tbsCertificate ::= SEQUENCE
    if tag != 0x30 or tag_tbs != 0x30:
        raise ValueError("not a DER certificate")
    fields: List[Tuple[int, int]] = []
    while at < tbs_end and len(fields) < 7:
        element_tag, _, end = _read(certificate_der, at)
        if not (element_tag == 0xA0 and not fields):  # skip the optional [0] version
            fields.append((at, end))
        at = end
    if len(fields) < 6:  # serial, signature, issuer, validity, subject, subjectPublicKeyInfo
        raise ValueError("not a DER certificate")
    spki_start, spki_end = fields[5]
    return base64.b64encode(hashlib.sha256(certificate_der[spki_start:spki_end]).digest()).decode("ascii")


def _chain(sock: ssl.SSLSocket) -> List[bytes]:
    """The verified chain's DER certificates (3.13+), else the leaf alone."""
    chain = getattr(sock, "get_verified_chain", None)
    if chain is not None:
        certificates = chain()
        if certificates:
            return [bytes(c) for c in certificates if isinstance(c, (bytes, bytearray))]
    leaf = sock.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def check_pins(sock: ssl.SSLSocket, pins: FrozenSet[str], host: Optional[str]) -> None:
    """Raise TlsPinError unless a certificate of ``sock``'s chain has one of ``pins``."""
    presented = []
    for der in _chain(sock):
        try:
            presented.append(spki_sha256(der))
        except ValueError:
            continue
    if not pins.intersection(presented):
        shown = presented[0] if presented else "no certificate"
        raise TlsPinError(
            f"{host or 'the server'} presented a TLS key that matches no pin: sha256/{shown}"
            f" (the leaf; {len(pins)} pin(s) configured)",
            presented=tuple(presented),
        )


def pinned_context(context: ssl.SSLContext, pins: FrozenSet[str]) -> ssl.SSLContext:
    """``context`` (verifying as before) whose sockets check ``pins`` at the end of each handshake."""

    class PinnedSocket(ssl.SSLSocket):
        def do_handshake(self, *args: Any, **kwargs: Any) -> None:
            super().do_handshake(*args, **kwargs)
            try:
                check_pins(self, pins, self.server_hostname)
            except TlsPinError:
                self.close()  # the wrong server hears nothing more, not even a keep-alive
                raise

    context.sslsocket_class = PinnedSocket
    return context
