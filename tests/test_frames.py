"""The buffered frame reader, fed through a real socket pair."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Iterator, Tuple

import pytest

from lasersell_sync.stream.transport.frames import (
    OP_BINARY,
    OP_CONT,
    OP_PING,
    OP_TEXT,
    ConnectionClosed,
    FrameReader,
    FrameTooLarge,
    WireViolation,
)


def frame(payload: bytes, opcode: int = OP_TEXT, fin: bool = True) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


@pytest.fixture
def pair() -> Iterator[Tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def test_many_frames_from_one_read(pair: Tuple[socket.socket, socket.socket]) -> None:
    ours, peer = pair
    peer.sendall(b"".join(frame(b"m%d" % i) for i in range(100)))
    reader = FrameReader(ours, 1024)
    assert [reader.read() for _ in range(100)] == [(OP_TEXT, b"m%d" % i) for i in range(100)]


@pytest.mark.parametrize("size", [125, 126, 65535, 65536, 200_000])
def test_length_encodings(pair: Tuple[socket.socket, socket.socket], size: int) -> None:
    ours, peer = pair
    payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    sender = threading.Thread(target=peer.sendall, args=(frame(payload),))
    sender.start()
    assert FrameReader(ours, 1 << 20).read() == (OP_TEXT, payload)
    sender.join()


def test_a_timeout_mid_frame_resumes_without_losing_bytes(pair: Tuple[socket.socket, socket.socket]) -> None:
    ours, peer = pair
    ours.settimeout(0.01)
    data = frame(b"hello world") + frame(b"second")
    reader = FrameReader(ours, 1024)
    for cut in (1, 3, 7):  # header split, payload split, second frame split
        peer.sendall(data[:cut])
        data = data[cut:]
        with pytest.raises(socket.timeout):
            reader.read()
    peer.sendall(data)
    assert reader.read() == (OP_TEXT, b"hello world")
    assert reader.read() == (OP_TEXT, b"second")


def test_oversize_frames_are_skipped_then_reading_continues(
    pair: Tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = pair
    peer.sendall(frame(b"a" * 5000) + frame(b"ok"))
    reader = FrameReader(ours, 100)
    with pytest.raises(FrameTooLarge) as info:
        reader.read()
    assert (info.value.size, info.value.limit) == (5000, 100)
    assert reader.read() == (OP_TEXT, b"ok")


def test_fragments_join_and_control_frames_interleave(pair: Tuple[socket.socket, socket.socket]) -> None:
    ours, peer = pair
    peer.sendall(
        frame(b"ab", OP_TEXT, fin=False)
        + frame(b"p", OP_PING)
        + frame(b"cd", OP_CONT, fin=False)
        + frame(b"e", OP_CONT)
    )
    reader = FrameReader(ours, 1024)
    assert reader.read() == (OP_PING, b"p")
    assert reader.read() == (OP_TEXT, b"abcde")


def test_fragmented_message_over_the_limit_is_skipped(pair: Tuple[socket.socket, socket.socket]) -> None:
    ours, peer = pair
    peer.sendall(frame(b"x" * 60, OP_BINARY, fin=False) + frame(b"y" * 60, OP_CONT) + frame(b"next"))
    reader = FrameReader(ours, 100)
    with pytest.raises(FrameTooLarge):
        reader.read()
    assert reader.read() == (OP_TEXT, b"next")


@pytest.mark.parametrize(
    "raw",
    [
        bytes([0x80 | 0x3, 0]),  # reserved opcode
        bytes([0xC1, 0]),  # RSV1 without an extension
        frame(b"x", OP_CONT),  # continuation with nothing to continue
        frame(b"p" * 126, OP_PING),  # control frame too long
    ],
)
def test_framing_violations(pair: Tuple[socket.socket, socket.socket], raw: bytes) -> None:
    ours, peer = pair
    peer.sendall(raw)
    with pytest.raises(WireViolation):
        FrameReader(ours, 1024).read()


def test_eof_is_connection_closed(pair: Tuple[socket.socket, socket.socket]) -> None:
    ours, peer = pair
    peer.sendall(frame(b"last"))
    peer.shutdown(socket.SHUT_WR)
    reader = FrameReader(ours, 1024)
    assert reader.read() == (OP_TEXT, b"last")
    with pytest.raises(ConnectionClosed):
        reader.read()


@pytest.mark.parametrize("size", [0, 1, 3, 125, 126, 4097, 65535, 65536, 70001])
def test_the_wire_writes_masked_frames_a_reader_decodes(size: int) -> None:
    """Every frame the wire writes is a client frame: masked, with a fresh key, any length."""
    from lasersell_sync.stream.transport.wire import Wire

    left, right = socket.socketpair()
    try:
        wire = Wire(max_payload=1 << 20, sslopt={})
        wire._ws.sock = left  # a connected socket, as after the upgrade
        text = ("é" * size)[:size] if size else ""
        received = []
        reader = threading.Thread(target=lambda: received.extend(_read_frames(right, 2)), name="test-frame-reader")
        reader.start()
        wire.send_text(text)
        wire.send_ping(b"x")
        reader.join(10)
        (op1, masked1, payload1), (op2, masked2, payload2) = received
        assert (op1, masked1, payload1.decode("utf-8")) == (0x1, True, text)
        assert (op2, masked2, payload2) == (0x9, True, b"x")
    finally:
        left.close()
        right.close()


def _read_frames(sock: socket.socket, count: int) -> list:
    """A tiny independent RFC 6455 decoder: (opcode, masked, unmasked payload) per frame."""
    data, frames = b"", []
    while len(frames) < count:
        chunk = sock.recv(1 << 16)
        assert chunk, "socket closed early"
        data += chunk
        while len(data) >= 2:
            opcode, masked, length, at = data[0] & 0x0F, bool(data[1] & 0x80), data[1] & 0x7F, 2
            if length == 126:
                length, at = int.from_bytes(data[2:4], "big"), 4
            elif length == 127:
                length, at = int.from_bytes(data[2:10], "big"), 10
            key = data[at : at + 4] if masked else b"\0\0\0\0"
            at += 4 if masked else 0
            if len(data) < at + length:
                break
            body = bytes(b ^ key[i % 4] for i, b in enumerate(data[at : at + length]))
            frames.append((opcode, masked, body))
            data = data[at + length :]
    return frames
