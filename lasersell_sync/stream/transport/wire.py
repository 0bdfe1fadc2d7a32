"""``Wire``: the one owner of a stream socket.

It performs the WebSocket upgrade (websocket-client's handshake), reads frames with the buffered
:class:`~lasersell_sync.stream.transport.frames.FrameReader`, writes every frame (text, ping, pong, close)
itself, masked with keys drawn from ``os.urandom`` in bulk, in one ``sendall`` under its own lock,
and shuts the socket down. Nothing else touches the raw socket.

:meth:`Wire.receive` is the one frame handler, shared by the handshake and the connection's
pump: it answers pings itself and turns each frame into a decoded message, a ``ProtocolError``
(undecodable, binary or oversize: reported and skipped), a :class:`PeerClosed`, or ``None`` for
a control frame that needs nothing more. Every frame, control frames included, is proof that
the peer is alive.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
from typing import Any, Dict, List, Optional, Tuple, Union

import attrs
import websocket

from ...errors import ProtocolError
from ...proto import ServerMessage, decode_server
from .frames import OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, ConnectionClosed, FrameReader, FrameTooLarge

__all__ = ["Incoming", "PeerClosed", "Wire", "readable"]

logger = logging.getLogger(__name__)

_KEY_POOL = 4096  # bytes of masking keys drawn per os.urandom call (1024 frames)


@attrs.frozen
class PeerClosed:
    """The server sent a close frame (already answered); the connection is over."""

    code: Optional[int]
    reason: str

    def __str__(self) -> str:
        detail = f": {self.reason}" if self.reason else ""
        return f"server closed the connection (code {self.code}{detail})"


Incoming = Union[ServerMessage, ProtocolError, PeerClosed, None]
"""What :meth:`Wire.receive` returns for one frame."""


class Wire:
    """One WebSocket to the stream, from upgrade to shutdown.

    Args:
        max_payload: larger data frames are skipped (reported as a ``ProtocolError``).
        sslopt: websocket-client TLS options (verification always on; see ``tls_options``).
    """

    def __init__(self, *, max_payload: int, sslopt: Dict[str, Any]) -> None:
        self._ws: Any = websocket.WebSocket(sslopt=sslopt, skip_utf8_validation=True, enable_multithread=False)
        self._max_payload = max_payload
        self._reader: Optional[FrameReader] = None
        self._lock = threading.Lock()  # every write; reads belong to one thread at a time
        self.text: Optional[bytes] = None  # the payload of the last frame read, if it was text
        self._timeout = -1.0  # the read timeout last set on the socket
        self._keys = b""  # a pool of masking keys from os.urandom, 4 bytes each
        self._key_at = 0

    def upgrade(self, url: str, headers: List[str], timeout: float) -> None:
        """TCP, TLS and the HTTP upgrade. Raises websocket-client's and socket errors as they are."""
        self._ws.connect(url, header=headers, timeout=timeout, suppress_origin=True)
        self._reader = FrameReader(self._ws.sock, self._max_payload)

    # -- reading (one thread) ------------------------------------------------------------------

    def receive(self, timeout: float) -> Incoming:
        """Read one frame (waiting at most ``timeout`` seconds) and handle it.

        ``text`` holds the raw payload afterwards when the frame was text.

        Raises:
            socket.timeout: nothing arrived in time (any partial frame is kept).
            ConnectionClosed, WireViolation, OSError: the connection is unusable (OSError also
                when answering a ping failed).
        """
        reader = self._ready(timeout)
        self.text = None
        try:
            opcode, payload = reader.read()
        except FrameTooLarge as exc:
            return ProtocolError(str(exc))
        if opcode == OP_TEXT:
            self.text = payload
        return self._handle(opcode, payload)

    def receive_batch(self, timeout: float, limit: int, texts: Optional[List[bytes]] = None) -> List[Incoming]:
        """Wait for one frame, then take every frame already complete in the buffer (up to
        ``limit``), each handled as by :meth:`receive`; one system call for a burst.

        With ``texts``, the raw payload of every text frame is appended to it, in order.

        Raises:
            As :meth:`receive`; a frame too large mid-batch is a ``ProtocolError`` item.
        """
        reader = self._ready(timeout)
        items: List[Incoming] = []
        try:
            frame: Optional[Tuple[int, bytes]] = reader.read()
        except FrameTooLarge as exc:
            return [ProtocolError(str(exc))]
        while frame is not None:
            opcode, payload = frame
            if opcode == OP_TEXT and texts is not None:
                texts.append(payload)
            item = self._handle(opcode, payload)
            items.append(item)
            if type(item) is PeerClosed or len(items) >= limit:
                break
            try:
                frame = reader.read_buffered()
            except FrameTooLarge as exc:
                items.append(ProtocolError(str(exc)))
                break
        return items

    def _ready(self, timeout: float) -> FrameReader:
        reader, sock = self._reader, self._ws.sock
        if reader is None or sock is None:
            raise ConnectionClosed("the connection was released")
        # Under a flood the keepalive deadline moves with every batch; setting the timeout costs
        # a call each time, so it changes only when it must shrink by more than 5 % (a wake-up
        # at most that late) or has grown by over a second (one early, harmless wake-up).
        current = self._timeout
        if timeout < current - max(0.001, current * 0.05) or timeout > current + 1.0:
            sock.settimeout(timeout)
            self._timeout = timeout
        return reader

    def _handle(self, opcode: int, payload: bytes) -> Incoming:
        """The one frame handler: decode text, answer pings, note a close, report binary."""
        if opcode == OP_TEXT:
            try:
                return decode_server(payload)
            except ProtocolError as exc:
                return exc
        if opcode == OP_PING:
            self.send_pong(payload)
            return None
        if opcode == OP_CLOSE:
            closed = PeerClosed(
                int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None,
                payload[2:].decode("utf-8", "replace"),
            )
            self.send_close()
            return closed
        if opcode == OP_BINARY:
            return ProtocolError(f"binary frame of {len(payload)} bytes ignored")
        return None  # a pong

    def data_waiting(self) -> bool:
        """Whether bytes from the peer wait unread (kernel, SSL or our own buffer)."""
        if self._reader is not None and self._reader.buffered():
            return True
        return readable(self._ws.sock)

    # -- writing (any thread) ------------------------------------------------------------------

    def send_text(self, text: str) -> None:
        """One text frame. Raises OSError when the connection is broken."""
        self._send_frame(OP_TEXT, text.encode("utf-8"))

    def send_ping(self, payload: bytes = b"") -> None:
        """A WebSocket ping (keepalive)."""
        self._send_frame(OP_PING, payload)

    def send_pong(self, payload: bytes) -> None:
        """The answer to the server's ping."""
        self._send_frame(OP_PONG, payload)

    def send_close(self, status: int = 1000, reason: bytes = b"client closing") -> None:
        """A close frame, best effort: the socket may already be gone."""
        try:
            self._send_frame(OP_CLOSE, status.to_bytes(2, "big") + reason, timeout=1.0)
        except OSError:
            logger.debug("could not send a close frame", exc_info=True)

    def _send_frame(self, opcode: int, payload: bytes, timeout: Optional[float] = None) -> None:
        """Frame, mask and write one message, whole, under the write lock (RFC 6455 5.2-5.3)."""
        n = len(payload)
        if n < 126:
            head = bytes((0x80 | opcode, 0x80 | n))
        elif n < 65536:
            head = bytes((0x80 | opcode, 0xFE)) + n.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0xFF)) + n.to_bytes(8, "big")
        with self._lock:
            sock = self._ws.sock
            if sock is None:
                raise OSError("the connection was released")
            if self._key_at >= len(self._keys):  # masking keys: unpredictable, drawn in bulk
                self._keys, self._key_at = os.urandom(_KEY_POOL), 0
            key = self._keys[self._key_at : self._key_at + 4]
            self._key_at += 4
            if n:
                mask = int.from_bytes((key * (n // 4 + 1))[:n], "big")
                payload = (int.from_bytes(payload, "big") ^ mask).to_bytes(n, "big")
            if timeout is not None:
                sock.settimeout(timeout)  # a close must never hang on a full send buffer
                self._timeout = timeout
            sock.sendall(head + key + payload)

    # -- ending ----------------------------------------------------------------------------------

    @property
    def socket(self) -> Any:
        """The connected socket (an ``ssl.SSLSocket`` for ``wss://``), or None."""
        return self._ws.sock

    def shutdown(self) -> None:
        """Wake a thread blocked reading or connecting; :meth:`release` frees the socket."""
        sock = self._ws.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def release(self) -> None:
        """Close the socket (idempotent)."""
        with contextlib.suppress(Exception):
            self._ws.shutdown()


def readable(sock: Any) -> bool:
    """Whether a socket has bytes to read now (in the kernel, or decrypted in an SSL buffer)."""
    if sock is None:
        return False
    try:
        pending = getattr(sock, "pending", None)
        if pending is not None and pending() > 0:
            return True
        ready, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return bool(ready)
