"""A buffered WebSocket frame reader for the client side of an open connection.

websocket-client reads each frame with two or three small ``recv`` calls and validates text in
pure Python. This reader fills one preallocated buffer with ``recv_into`` (up to 1 MiB per system
call, no allocation per call) and slices frames out of it, so a burst of small frames costs one
call; under a flood that also means far fewer GIL hand-offs for the reader thread. It is
resumable: a socket timeout (the keepalive tick) leaves any partial frame in the buffer for the
next call. Frames over ``max_payload`` are
skipped without being buffered and reported, so one bad frame cannot exhaust memory or end the
connection.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "ConnectionClosed",
    "FrameReader",
    "FrameTooLarge",
    "WireViolation",
]

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_DATA_OPS = (OP_CONT, OP_TEXT, OP_BINARY)
_CONTROL_OPS = (OP_CLOSE, OP_PING, OP_PONG)
_CHUNK = 1 << 20  # initial buffer; it grows only for a frame larger than this


class ConnectionClosed(Exception):
    """The peer closed the TCP connection (EOF)."""


class WireViolation(Exception):
    """A frame that breaks RFC 6455 framing; the connection cannot continue."""


class FrameTooLarge(Exception):
    """A data frame (or fragmented message) exceeded the size limit and was skipped."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"frame of {size} bytes exceeds the {limit}-byte limit; skipped")
        self.size = size
        self.limit = limit


class FrameReader:
    """Reads ``(opcode, payload)`` messages from a connected socket.

    Control frames are returned as they arrive (they may interleave a fragmented message);
    data fragments are joined and returned as one message with the first fragment's opcode.
    """

    __slots__ = (
        "_buf",
        "_end",
        "_fragments",
        "_fragments_op",
        "_fragments_size",
        "_pos",
        "_skip",
        "_sock",
        "max_payload",
    )

    def __init__(self, sock: Any, max_payload: int) -> None:
        self._sock = sock
        self.max_payload = max_payload
        self._buf = bytearray(_CHUNK)
        self._pos = 0  # data is buf[pos:end]
        self._end = 0
        self._skip = 0  # bytes of an oversize frame still to discard
        self._fragments: list[bytes] = []
        self._fragments_op = 0
        self._fragments_size = 0

    def read(self) -> Tuple[int, bytes]:
        """Block until one message is complete.

        Raises:
            socket.timeout: the socket's timeout expired (state is kept; call again).
            ConnectionClosed: EOF. WireViolation: broken framing. FrameTooLarge: skipped frame.
            OSError: any socket error.
        """
        message = self._next(block=True)
        assert message is not None
        return message

    def read_buffered(self) -> Optional[Tuple[int, bytes]]:
        """The next message if it is already complete in the buffer, else None (no system call).

        Raises:
            WireViolation, FrameTooLarge: as :meth:`read`.
        """
        return self._next(block=False)

    def _next(self, block: bool) -> Optional[Tuple[int, bytes]]:
        while True:
            if self._skip:
                if not block and self._pos >= self._end:
                    return None
                self._discard()
                continue
            frame = self._parse()
            if frame is None:
                if not block:
                    return None
                self._fill()
                continue
            fin, opcode, payload = frame
            if opcode in _CONTROL_OPS:
                return opcode, payload
            if opcode == OP_CONT:
                if not self._fragments_op:
                    raise WireViolation("continuation frame without a message to continue")
            elif self._fragments_op:
                raise WireViolation("new data frame inside a fragmented message")
            elif fin:
                return opcode, payload
            else:
                self._fragments_op = opcode
            self._fragments.append(payload)
            self._fragments_size += len(payload)
            if self._fragments_size > self.max_payload:
                size = self._fragments_size
                self._reset_fragments()
                raise FrameTooLarge(size, self.max_payload)
            if fin:
                op, data = self._fragments_op, b"".join(self._fragments)
                self._reset_fragments()
                return op, data

    def buffered(self) -> bool:
        """Whether bytes already received wait in the buffer (a partial frame, say)."""
        return self._end > self._pos

    def _reset_fragments(self) -> None:
        self._fragments = []
        self._fragments_op = 0
        self._fragments_size = 0

    def _parse(self) -> Optional[Tuple[int, int, bytes]]:
        buf, pos = self._buf, self._pos
        available = self._end - pos
        if available < 2:
            return None
        b0, b1 = buf[pos], buf[pos + 1]
        if b0 & 0x70:
            raise WireViolation("reserved bits set (no extension was negotiated)")
        opcode = b0 & 0x0F
        if opcode not in _DATA_OPS and opcode not in _CONTROL_OPS:
            raise WireViolation(f"unknown opcode {opcode:#x}")
        fin = b0 >> 7
        length = b1 & 0x7F
        header = 2
        if length == 126:
            if available < 4:
                return None
            length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
            header = 4
        elif length == 127:
            if available < 10:
                return None
            length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
            header = 10
        masked = b1 & 0x80
        if masked:
            header += 4
        if opcode in _CONTROL_OPS and (length > 125 or not fin):
            raise WireViolation("control frame too long or fragmented")
        if length > self.max_payload:
            take = min(available, header + length)
            self._pos += take
            self._skip = header + length - take
            if self._pos == self._end:
                self._pos = self._end = 0
            raise FrameTooLarge(length, self.max_payload)
        end = pos + header + length
        if self._end < end:
            return None
        payload = bytes(buf[pos + header : end])
        if masked:  # servers must not mask, but be lenient
            key = buf[pos + header - 4 : pos + header]
            payload = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
        self._pos = end
        if end == self._end:
            self._pos = self._end = 0
        return fin, opcode, payload

    def _fill(self) -> None:
        self._compact()
        if self._end == len(self._buf):  # a frame larger than the buffer: grow it
            self._buf.extend(bytes(len(self._buf)))
        with memoryview(self._buf) as view:
            received = self._sock.recv_into(view[self._end :])
        if not received:
            raise ConnectionClosed("connection closed by peer")
        self._end += received

    def _discard(self) -> None:
        if self._pos >= self._end:
            self._pos = self._end = 0
            with memoryview(self._buf) as view:
                received = self._sock.recv_into(view[: min(len(self._buf), self._skip)])
            if not received:
                raise ConnectionClosed("connection closed by peer")
            self._end = received
        take = min(self._skip, self._end - self._pos)
        self._pos += take
        self._skip -= take

    def _compact(self) -> None:
        if self._pos:
            remaining = self._end - self._pos
            self._buf[:remaining] = self._buf[self._pos : self._end]
            self._pos, self._end = 0, remaining
