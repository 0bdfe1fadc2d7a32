"""TLS for the stream: verification always on, optional key pinning, and session resumption.

A stream reconnect pays a TCP and a TLS handshake before ``configure`` can go out. When the
library builds the TLS context itself (``ca_bundle``, or the system's trust), it is a
:class:`ResumingContext`: after each handshake the session (its TLS 1.3 ticket) is kept, and the
next connection to the same host offers it, which skips the certificate exchange and its
verification; a server that declines simply runs a full handshake. A context passed as
``ssl_context`` is used as it is. With pins (``_pins``) sessions are not resumed: every connect
runs a full handshake, so the key the server presents is checked every time.
"""

from __future__ import annotations

import os
import ssl
import threading
from pathlib import Path
from typing import Any, Dict, FrozenSet, Optional, Union

from ..._pins import pinned_context

__all__ = ["ResumingContext", "remember_session", "tls_options"]


class ResumingContext(ssl.SSLContext):
    """An ``SSLContext`` that offers the last session of a host to its next connection."""

    def __new__(cls, protocol: int = ssl.PROTOCOL_TLS_CLIENT, *args: Any, **kwargs: Any) -> ResumingContext:
        context = super().__new__(cls, protocol, *args, **kwargs)
        context._sessions = {}
        context._sessions_lock = threading.Lock()
        return context

    _sessions: Dict[Optional[str], ssl.SSLSession]
    _sessions_lock: threading.Lock

    def wrap_socket(self, sock: Any, *args: Any, **kwargs: Any) -> Any:
        """As ``SSLContext.wrap_socket``, offering the host's last session unless one is given."""
        if kwargs.get("session") is None and not kwargs.get("server_side"):
            with self._sessions_lock:
                session = self._sessions.get(kwargs.get("server_hostname"))
            if session is not None:
                kwargs["session"] = session
        return super().wrap_socket(sock, *args, **kwargs)

    def remember(self, sock: ssl.SSLSocket) -> None:
        """Keep ``sock``'s session for the next connection to its host."""
        session = sock.session
        if session is not None:
            with self._sessions_lock:
                self._sessions[sock.server_hostname] = session


def remember_session(sslopt: Dict[str, Any], sock: Any) -> None:
    """After a handshake: let the stream's context keep the session, if it resumes sessions."""
    context = sslopt.get("context")
    if isinstance(context, ResumingContext) and isinstance(sock, ssl.SSLSocket):
        context.remember(sock)


def tls_options(
    ssl_context: Optional[ssl.SSLContext],
    ca_bundle: Union[str, Path, None],
    pins: Optional[FrozenSet[str]] = None,
) -> Dict[str, Any]:
    """TLS options for wss://. Verification is always on; it cannot be switched off here.

    Without ``ssl_context`` the context trusts what websocket-client would (``ca_bundle``,
    ``WEBSOCKET_CLIENT_CA_BUNDLE``, or the system's) and resumes sessions, unless ``pins`` are
    given: then every handshake is a full one and checks the server's key (``_pins``), on
    ``ssl_context`` itself when one is given (its socket class is replaced).
    """
    if ssl_context is not None:
        if ssl_context.verify_mode != ssl.CERT_REQUIRED or not ssl_context.check_hostname:
            raise ValueError("ssl_context must verify certificates and host names (CERT_REQUIRED)")
        return {"context": pinned_context(ssl_context, pins) if pins else ssl_context}
    if pins:  # a full handshake every time: the key is shown, and checked, at every connect
        plain = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        _trust(plain, ca_bundle)
        return {"context": pinned_context(plain, pins)}
    context = ResumingContext(ssl.PROTOCOL_TLS_CLIENT)
    _trust(context, ca_bundle)
    return {"context": context}


def _trust(context: ssl.SSLContext, ca_bundle: Union[str, Path, None]) -> None:
    """What websocket-client trusts by itself: ``ca_bundle``, ``WEBSOCKET_CLIENT_CA_BUNDLE``
    (a file or a directory), else the system's certificates; and its ``SSLKEYLOGFILE``."""
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog:
        context.keylog_filename = keylog
    bundle = str(ca_bundle) if ca_bundle is not None else os.environ.get("WEBSOCKET_CLIENT_CA_BUNDLE")
    if bundle and os.path.isdir(bundle):
        context.load_verify_locations(capath=bundle)
    elif bundle:
        context.load_verify_locations(cafile=bundle)
    else:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
