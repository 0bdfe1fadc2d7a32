"""A scripted HTTP/1.1 server on 127.0.0.1 for Exit API and JSON-RPC tests.

Responses are queued per path (or computed by a handler function); every request is recorded
with its headers and body, and accepted TCP connections are counted, so tests can check
keep-alive reuse. Nothing here sleeps: a "slow" response waits on an event that ``stop()`` sets.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

import attrs


@attrs.define
class Reply:
    status: int = 200
    body: Any = ""
    headers: Dict[str, str] = attrs.field(factory=dict)
    delay: float = 0.0  # seconds before answering (to trip client timeouts)


@attrs.define
class Recorded:
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ScriptedHttp:
    def __init__(self) -> None:
        self.requests: List[Recorded] = []
        self.connections = 0
        self.cond = threading.Condition()
        self.replies: Dict[str, Deque[Reply]] = {}
        self.defaults: Dict[str, Reply] = {}
        self.handlers: Dict[str, Callable[[Recorded], Reply]] = {}
        self._released = threading.Event()
        self._sockets: List[socket.socket] = []
        owner = self

        class Server(ThreadingHTTPServer):
            daemon_threads = False
            block_on_close = True

            def get_request(self) -> Tuple[socket.socket, Any]:
                conn, addr = super().get_request()
                with owner.cond:
                    owner.connections += 1
                    owner._sockets.append(conn)
                return conn, addr

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                owner._serve(self)

            def do_GET(self) -> None:
                owner._serve(self)

            def do_DELETE(self) -> None:
                owner._serve(self)

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="test-http-server")
        self._thread.start()

    def queue(self, path: str, *replies: Reply) -> None:
        with self.cond:
            self.replies.setdefault(path, deque()).extend(replies)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        recorded = Recorded(handler.command, handler.path, {k.lower(): v for k, v in handler.headers.items()}, body)
        with self.cond:
            self.requests.append(recorded)
            self.cond.notify_all()
            queued = self.replies.get(handler.path)
            reply = queued.popleft() if queued else None
        if reply is None and handler.path in self.handlers:
            reply = self.handlers[handler.path](recorded)
        if reply is None:
            reply = self.defaults.get(handler.path, Reply(404, {"error": "no reply scripted"}))
        if reply.delay:
            self._released.wait(reply.delay)
        payload = (
            reply.body
            if isinstance(reply.body, bytes)
            else (reply.body.encode() if isinstance(reply.body, str) else json.dumps(reply.body).encode())
        )
        try:
            handler.send_response(reply.status)
            for key, value in reply.headers.items():
                handler.send_header(key, value)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            pass  # the client gave up (timeout test)

    def paths(self) -> List[str]:
        with self.cond:
            return [r.path for r in self.requests]

    def stop(self) -> None:
        self._released.set()
        with self.cond:
            sockets = list(self._sockets)
        for sock in sockets:  # end keep-alive connections so handler threads finish
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def reply(status: int = 200, body: Any = "", **options: Any) -> Reply:
    return Reply(status=status, body=body, **options)


def optional_header(recorded: Recorded, name: str) -> Optional[str]:
    return recorded.headers.get(name)
