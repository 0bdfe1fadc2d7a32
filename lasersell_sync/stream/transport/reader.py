"""The reader thread of a :class:`~lasersell_sync.stream.transport.connection.StreamConnection`.

It owns the receive side of the live link: it pumps frames (decode, confirm or reject intent
changes, deliver), keeps the link alive (probes, dead-link detection), and when the link breaks
runs the reconnect loop (immediate first attempt, then jittered backoff) until connected again,
closed, or refused for good. It runs no user code beyond the connection's four callbacks
(``on_message``, ``on_messages``, ``on_event``, ``on_frame``).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from ...backoff import Backoff
from ...errors import (
    AuthenticationError,
    ConnectError,
    ProtocolError,
    SessionClosedError,
    StreamServerError,
    TlsPinError,
)
from ...proto import ErrorMessage, HelloOk, Ping, ServerMessage, UnknownMessage
from ...proto.server import SERVER_MESSAGE_TYPES
from ..events import BadFrame, Closed, CommandRejected, Connected, Disconnected, Reconnecting, TransportEvent
from ..routes import ROUTES
from .frames import ConnectionClosed, WireViolation
from .keepalive import Keepalive
from .link import FATAL_ERROR_CODES, Link, open_link
from .outbox import IntentChange, Outbox
from .wire import PeerClosed, Wire

__all__ = ["Reader"]

logger = logging.getLogger(__name__)

_OUTBOX_OBSERVES = frozenset(cls for cls in SERVER_MESSAGE_TYPES if ROUTES[cls.TYPE].outbox)
"""``pong`` and ``error``: they confirm or reject intent changes (from the routing table)."""
_BATCH = 256  # frames handed over together when a burst sits in the read buffer


class Reader:
    """The reader thread of one connection, with its own state.

    The connection makes it, calls :meth:`open` and :meth:`go_live` for the first connect on the
    caller's thread, then runs :meth:`run` on the reader thread: it announces the link, pumps
    frames, keeps the link alive and reconnects until ``closing`` is set. The connection reads
    ``hello``, ``connecting`` and :meth:`counts`; nothing else reaches inside.
    """

    def __init__(
        self,
        *,
        url: str,
        shown_url: str,
        api_key: str,
        sslopt: Dict[str, Any],
        connect_timeout: float,
        max_frame_bytes: int,
        keepalive: Keepalive,
        backoff: Backoff,
        outbox: Outbox,
        on_message: Callable[[ServerMessage, float], None],
        on_messages: Optional[Callable[[List[ServerMessage], float], None]],
        on_event: Callable[[TransportEvent], None],
        on_frame: Optional[Callable[[bytes, float], None]],
    ) -> None:
        self._url = url
        self._shown_url = shown_url
        self._api_key = api_key
        self._sslopt = sslopt
        self._connect_timeout = connect_timeout
        self._max_frame_bytes = max_frame_bytes
        self._keepalive = keepalive
        self._backoff = backoff
        self._outbox = outbox
        self._on_message = on_message
        self._on_messages = on_messages
        self._on_event = on_event
        self._on_frame = on_frame
        self.closing = threading.Event()
        """Set by the connection's ``close()``: the reader stops at its next look."""
        self.announced = threading.Event()
        """The first connection's events were handed over (``connect()`` returns after it)."""
        self.connecting: Optional[Wire] = None
        """The wire of a handshake in progress, for ``close()`` to shut down."""
        self.hello: Optional[HelloOk] = None
        """The latest ``hello_ok``."""
        self._link: Optional[Link] = None
        self._closed_reported = False
        self._closed_lock = threading.Lock()
        self._failures = 0
        self._connected_at = 0.0
        self._frames = self._delivered = self._bad_frames = self._reconnects = 0
        self._unknown_types: Set[str] = set()

    def counts(self) -> Tuple[int, int, int, int]:
        """Frames received, messages delivered, bad frames, reconnects."""
        return self._frames, self._delivered, self._bad_frames, self._reconnects

    def open(self, timeout: float) -> Link:
        """Upgrade and handshake a new link (the caller's thread for the first, else this one)."""
        return open_link(
            self._url,
            self._api_key,
            self._outbox.configure_text(),
            timeout=timeout,
            sslopt=self._sslopt,
            max_payload=self._max_frame_bytes,
            on_wire=self._track_connecting,
        )

    def _track_connecting(self, wire: Wire) -> None:
        self.connecting = wire
        if self.closing.is_set():
            wire.shutdown()

    def go_live(self, link: Link) -> None:
        """Flush kept commands and accept direct writes on the new link."""
        self.connecting = None
        try:
            self._outbox.go_live(link.wire)
        except BaseException:
            link.wire.release()
            raise
        self._link = link
        self.hello = link.hello
        self._frames += link.text_frames
        self._connected_at = time.monotonic()

    def _publish_connected(self, link: Link, reconnect: bool) -> None:
        """Report the connection, then ``hello_ok`` and what came before it."""
        logger.info("connected to %s (session %d)", self._shown_url, link.hello.session_id)
        self._publish_event(Connected(hello=link.hello, reconnect=reconnect))
        received = time.monotonic()
        if self._on_frame is not None:
            for text in link.texts:
                self._on_frame(text, received)
        self._publish_message(link.hello, received)
        for item in link.early:
            if isinstance(item, Exception):
                self._publish_bad_frame(item)
            else:
                self._publish_message(item, received)

    def run(self) -> None:
        """The reader thread: announce the first link, then pump and reconnect until closed."""
        error: Optional[BaseException] = None
        try:
            assert self._link is not None
            try:
                self._publish_connected(self._link, reconnect=False)
            finally:
                self.announced.set()
            while not self.closing.is_set():
                link = self._link
                assert link is not None
                reason, cause = self._pump(link)
                self._outbox.go_down()
                link.wire.release()
                if self.closing.is_set():
                    break
                logger.warning("disconnected from %s: %s", self._shown_url, reason)
                self._publish_event(Disconnected(reason=reason, error=cause, will_reconnect=True))
                if time.monotonic() - self._connected_at >= self._backoff.healthy_after:
                    self._failures = 0
                error = self._reconnect()
                if error is not None:
                    break
        except BaseException as exc:  # pragma: no cover - a bug; report it rather than die silently
            logger.exception("reader thread failed")
            error = exc
        finally:
            self._outbox.go_down()
            if self._link is not None:
                self._link.wire.release()
            reason = str(error) if error is not None else "closed"
            self._publish_event(Disconnected(reason=reason, error=error, will_reconnect=False))
            self.publish_closed(error)

    def _reconnect(self) -> Optional[BaseException]:
        """Retry until connected or closed (None), or a fatal error (returned)."""
        limit = self._backoff.max_attempts
        last_error: Optional[ConnectError] = None
        retry_now = False
        while not self.closing.is_set():
            self._failures += 1
            attempt = self._failures
            if limit is not None and attempt > limit:
                return ConnectError(f"gave up reconnecting after {limit} attempts")
            delay = 0.0 if retry_now else self._backoff.delay(attempt)
            retry_now = False
            logger.info("reconnecting in %.3f s (attempt %d)", delay, attempt)
            self._publish_event(Reconnecting(attempt=attempt, delay=delay, last_error=last_error))
            if delay and self.closing.wait(delay):
                return None
            try:
                link = self.open(self._connect_timeout)
                self.go_live(link)
                self._publish_connected(link, reconnect=True)
            except SessionClosedError:
                return None
            except (AuthenticationError, TlsPinError) as exc:  # a refusal or another server: fatal
                return exc
            except StreamServerError as exc:
                rejected = self._outbox.reject_for_handshake(exc.code)
                if rejected:  # the refusal was about changes made while offline: drop them, retry
                    self._publish_rejected(rejected, exc.code, exc.server_message)
                    retry_now = True
                elif exc.code in FATAL_ERROR_CODES:
                    return exc
                else:
                    logger.warning("reconnect attempt %d refused: %s", attempt, exc)
                last_error = exc
            except ConnectError as exc:
                logger.warning("reconnect attempt %d failed: %s", attempt, exc)
                last_error = exc
            else:
                self._reconnects += 1
                return None
        return None

    def _publish_rejected(self, changes: List[IntentChange], code: str, detail: str) -> None:
        for change in changes:
            logger.warning(
                "the server rejected %s [%s]: %s; the session intent was rolled back",
                change.command.TYPE,
                code,
                detail,
            )
            self._publish_event(CommandRejected(command=change.command, code=code, message=detail))

    def _pump(self, link: Link) -> Tuple[str, Optional[BaseException]]:
        """Read frames until the connection breaks; returns why."""
        wire, clock, outbox = link.wire, self._keepalive.start(time.monotonic()), self._outbox
        texts: Optional[List[bytes]] = [] if self._on_frame is not None else None
        while True:
            timeout = clock.next_wakeup() - time.monotonic()
            if timeout <= 0:
                now = time.monotonic()
                action = clock.due(now)
                if action == "dead":
                    if wire.data_waiting():  # the reader was late, not the peer: it is alive
                        clock.received(now)
                        continue
                    return (f"nothing received for {clock.ping_timeout:g} s after a ping", None)
                try:
                    if action == "ping":
                        wire.send_ping()
                    elif action == "app_ping":
                        outbox.send(Ping(client_time_ms=int(time.time() * 1000)))
                except (OSError, SessionClosedError) as exc:
                    return ("keepalive send failed", exc)
                continue
            try:
                items = wire.receive_batch(timeout, _BATCH, texts)
            except socket.timeout:
                continue
            except ConnectionClosed:
                return ("connection closed without a close frame", None)
            except WireViolation as exc:
                return (f"WebSocket protocol violation: {exc}", exc)
            except OSError as exc:
                return (f"socket error: {exc}", exc)
            now = time.monotonic()
            clock.received(now)
            outbox.inbound += len(items)
            if texts:
                on_frame = self._on_frame
                assert on_frame is not None
                for text in texts:
                    on_frame(text, now)
                texts.clear()
            closed: Optional[PeerClosed] = None
            messages: List[ServerMessage] = []
            for item in items:
                if item is None:  # a control frame, already handled
                    continue
                kind = type(item)
                if kind is PeerClosed:
                    closed = item  # type: ignore[assignment]
                    break
                self._frames += 1
                if kind is ProtocolError:
                    self._publish_bad_frame(item)  # type: ignore[arg-type]
                    continue
                if kind in _OUTBOX_OBSERVES:
                    rejected = outbox.observe(item)  # type: ignore[arg-type]
                    if rejected is not None:
                        assert isinstance(item, ErrorMessage)
                        self._publish_rejected([rejected], item.code, item.message)
                elif kind is UnknownMessage:
                    self._note_unknown(item)  # type: ignore[arg-type]
                messages.append(item)  # type: ignore[arg-type]
            if messages:
                self._publish_messages(messages, now)
            if closed is not None:
                return (str(closed), None)

    def _publish_messages(self, messages: List[ServerMessage], received_at: float) -> None:
        """Deliver a batch: to ``on_messages`` in one call, else to ``on_message`` one by one."""
        self._delivered += len(messages)
        try:
            if self._on_messages is not None:
                self._on_messages(messages, received_at)
            else:
                for message in messages:
                    self._on_message(message, received_at)
        except Exception:
            logger.exception("on_message callback failed")

    def _note_unknown(self, message: UnknownMessage) -> None:
        if message.type not in self._unknown_types:
            self._unknown_types.add(message.type)
            logger.warning(
                "received a message of unknown type %r (a newer protocol?); delivered as UnknownMessage",
                message.type,
            )

    def _publish_message(self, message: ServerMessage, received_at: float) -> None:
        if type(message) is UnknownMessage:
            self._note_unknown(message)
        self._publish_messages([message], received_at)

    def _publish_bad_frame(self, error: Exception) -> None:
        self._bad_frames += 1
        logger.warning("skipped a bad frame: %s", error)
        self._publish_event(BadFrame(error=error))

    def _publish_event(self, event: TransportEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            logger.exception("on_event callback failed")

    def publish_closed(self, error: Optional[BaseException]) -> None:
        """Mark the connection closed and report ``Closed`` once, whoever gets here first."""
        with self._closed_lock:
            if self._closed_reported:
                return
            self._closed_reported = True
        self._outbox.refuse_sends()
        logger.info("stream connection to %s closed%s", self._shown_url, f": {error}" if error else "")
        self._publish_event(Closed(error=error))
