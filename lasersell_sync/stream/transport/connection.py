"""The transport: one WebSocket, one reader thread, reconnects and keepalive.

The caller's thread performs the first connect, so its errors raise where they belong. Then the
connection's :class:`~lasersell_sync.stream.transport.reader.Reader`, on a thread named
``lasersell-reader``, owns the receive side: it decodes each frame, hands messages to
``on_message``/``on_messages``, pings when the line is quiet, and runs the reconnect loop. It
runs no user code beyond the four callbacks (``on_message``, ``on_messages``, ``on_event``,
``on_frame``), which must be quick. Sending goes through
:class:`~lasersell_sync.stream.transport.outbox.Outbox`, on the caller's thread.
"""

from __future__ import annotations

import logging
import ssl
import threading
from pathlib import Path
from typing import Any, Callable, List, NamedTuple, Optional, Sequence, Union

import attrs

from ..._pins import parse_pins
from ..._redact import mask, safe_url
from ...backoff import Backoff
from ...errors import SessionClosedError
from ...proto import (
    ClientMessage,
    Configure,
    HelloOk,
    MirrorConfig,
    ServerMessage,
    StrategyConfig,
)
from ..events import TransportEvent
from ..input_checks import configure_settings
from .keepalive import Keepalive
from .link import endpoint_url, tls_options
from .outbox import Outbox
from .reader import Reader

__all__ = ["StreamConnection", "TransportStats", "enter_connected"]

logger = logging.getLogger(__name__)


class TransportDefaults(NamedTuple):
    """The transport's defaults, shared with StreamSession's keyword arguments so they cannot drift."""

    backoff: Backoff = Backoff()
    connect_timeout: float = 10.0
    ping_interval: float = 10.0
    ping_timeout: float = 4.0
    app_ping_interval: Optional[float] = 30.0
    max_frame_bytes: int = 4 * 1024 * 1024


DEFAULTS = TransportDefaults()


def _ignore_event(event: TransportEvent) -> None:
    pass


@attrs.frozen(kw_only=True)
class TransportStats:
    """Counters since the transport was created."""

    frames_received: int
    messages_delivered: int
    bad_frames: int
    reconnects: int
    pending_commands: int
    connected: bool


def enter_connected(started: bool, connect: Callable[[], Any], close: Callable[[], Any]) -> None:
    """What ``with`` does on entry: connect unless :meth:`connect` already ran, and close at once
    if connecting fails, so that no reconnect loop outlives a failed ``with``."""
    if started:
        return
    try:
        connect()
    except BaseException:
        close()
        raise


class StreamConnection:
    """A self-healing connection to the LaserSell stream.

    Args:
        api_key: sent in the ``x-api-key`` header; never logged.
        configure: the initial session intent.
        on_message: ``(message, received_at)`` for every decoded message, on the reader thread,
            in arrival order (``received_at`` is ``time.monotonic()`` when the frame was read).
        on_event: lifecycle changes and skipped frames (:mod:`lasersell_sync.stream.events`).
        endpoint: ``ws://`` or ``wss://`` URL; production by default.
        ssl_context: custom trust for ``wss://``; verification is always on.
        ca_bundle: a PEM file of trusted certificates for ``wss://``, instead of ``ssl_context``.
        tls_pins: SHA-256 SPKI pins (base64); the server's key must match one, at every
            connect (a mismatch is a fatal :class:`~lasersell_sync.errors.TlsPinError`).
        connect_timeout: seconds for TCP + TLS + upgrade + ``hello_ok``.
        ping_interval: probe after this much silence.
        ping_timeout: declare the connection dead when nothing at all arrives within this long
            of the probe (defaults: a silent link is replaced 14 s after its last frame; an idle
            one wakes twice per 10 s).
        app_ping_interval: send an application ``ping`` this often (free-tier inactivity
            timeout of 45 minutes); ``None`` disables it.
        backoff: reconnect timing.
        max_frame_bytes: larger frames are skipped and reported.
        replays: whether a command kept across a reconnect is still sent on the new connection
            (default: all are). A session re-applies per-position strategies itself, by token
            account, once positions are re-announced, so it keeps no stale position ids.
        on_frame: ``(payload, received_at)`` for every text frame exactly as received, on the
            reader thread, before it is delivered (a session records with it).
        on_messages: ``(messages, received_at)``: the messages of a burst in one call, in order,
            instead of one ``on_message`` call each (a session hands them over in one batch).

    Example:
        >>> conn = StreamConnection(key, configure, on_message=handle)
        >>> conn.connect(timeout=10)
    """

    def __init__(
        self,
        api_key: str,
        configure: Configure,
        *,
        on_message: Callable[[ServerMessage, float], None],
        on_event: Optional[Callable[[TransportEvent], None]] = None,
        endpoint: Optional[str] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
        ca_bundle: Union[str, Path, None] = None,
        tls_pins: Optional[Sequence[str]] = None,
        connect_timeout: float = DEFAULTS.connect_timeout,
        ping_interval: float = DEFAULTS.ping_interval,
        ping_timeout: float = DEFAULTS.ping_timeout,
        app_ping_interval: Optional[float] = DEFAULTS.app_ping_interval,
        backoff: Backoff = DEFAULTS.backoff,
        max_frame_bytes: int = DEFAULTS.max_frame_bytes,
        replays: Optional[Callable[[ClientMessage], bool]] = None,
        on_frame: Optional[Callable[[bytes, float], None]] = None,
        on_messages: Optional[Callable[[List[ServerMessage], float], None]] = None,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError("api_key must be a non-empty string")
        if not isinstance(configure, Configure):
            raise TypeError(f"configure must be a Configure message, not {type(configure).__name__}")
        if min(connect_timeout, ping_interval, ping_timeout) <= 0 or max_frame_bytes <= 0:
            raise ValueError("timeouts, intervals and max_frame_bytes must be > 0")
        self._api_key = api_key
        self._url = endpoint_url(endpoint)
        self._shown_url = safe_url(self._url)
        pins = parse_pins(tls_pins) if tls_pins is not None else None
        if pins and not self._url.startswith("wss://"):
            raise ValueError("tls_pins needs a wss:// endpoint")
        self._keepalive = Keepalive(ping_interval, ping_timeout, app_ping_interval)
        self._outbox = Outbox(configure, replays)
        self._reader = Reader(
            url=self._url,
            shown_url=self._shown_url,
            api_key=api_key,
            sslopt=tls_options(ssl_context, ca_bundle, pins),
            connect_timeout=connect_timeout,
            max_frame_bytes=max_frame_bytes,
            keepalive=self._keepalive,
            backoff=backoff,
            outbox=self._outbox,
            on_message=on_message,
            on_messages=on_messages,
            on_event=on_event or _ignore_event,
            on_frame=on_frame,
        )
        self._connect_timeout = connect_timeout
        self._thread: Optional[threading.Thread] = None
        self._start_lock = threading.Lock()  # one connect() starts the reader thread

    def __repr__(self) -> str:
        state = "closed" if self._outbox.closed else "connected" if self.connected else "disconnected"
        return f"<StreamConnection {self._shown_url} api_key={mask(self._api_key)} {state}>"

    @property
    def endpoint(self) -> str:
        """The stream URL as given (it may hold credentials: show :attr:`safe_endpoint`)."""
        return self._url

    @property
    def safe_endpoint(self) -> str:
        """The stream URL with any credentials in it masked, for logs and displays."""
        return self._shown_url

    @property
    def api_key(self) -> str:
        """The API key this connection authenticates with."""
        return self._api_key

    @property
    def connected(self) -> bool:
        """Whether commands are written to a live connection right now."""
        return self._outbox.ready

    @property
    def started(self) -> bool:
        """Whether :meth:`connect` was called and succeeded (the reconnect loop runs until close)."""
        return self._thread is not None

    @property
    def hello(self) -> Optional[HelloOk]:
        """The latest ``hello_ok`` (session id and limits of the current connection)."""
        return self._reader.hello

    @property
    def intent(self) -> Configure:
        """The ``configure`` the next (re)connect will send."""
        return self._outbox.intent

    def stats(self) -> TransportStats:
        """Counters since the connection was created."""
        frames, delivered, bad_frames, reconnects = self._reader.counts()
        return TransportStats(
            frames_received=frames,
            messages_delivered=delivered,
            bad_frames=bad_frames,
            reconnects=reconnects,
            pending_commands=self._outbox.pending_count(),
            connected=self.connected,
        )

    def connect(self, timeout: Optional[float] = None) -> HelloOk:
        """Connect and wait for ``hello_ok``; then keep the connection up in the background.

        Args:
            timeout: seconds for TCP + TLS + upgrade + ``hello_ok`` (> 0); None uses the
                ``connect_timeout`` the connection was made with.

        Raises:
            AuthenticationError, StreamServerError, ConnectError: the first connect is not
                retried. SessionClosedError: after ``close()``. RuntimeError: called twice.
                ValueError: a timeout that is not a positive number.
        """
        if timeout is None:
            timeout = self._connect_timeout
        elif isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
        with self._start_lock:
            if self._outbox.closed:
                raise SessionClosedError("this connection was closed")
            if self._thread is not None:
                raise RuntimeError(
                    "connect() was already called; `with` connects too, so use connect() or `with`, not both"
                )
            self._thread = threading.Thread(target=self._reader.run, name="lasersell-reader", daemon=True)
        thread = self._thread
        try:
            link = self._reader.open(timeout)
            self._reader.go_live(link)
        except BaseException:
            self._thread = None
            raise
        # From here the reader thread owns the link: it announces it (the callbacks run there,
        # never on the caller's thread, so a Ctrl-C in the caller cannot interrupt them holding a
        # lock), then pumps it; close() can always stop it. Returning after the announcement
        # keeps "events from now on" meaning the same thing as before.
        thread.start()
        self._reader.announced.wait()
        return link.hello

    def __enter__(self) -> StreamConnection:
        """Connect (unless :meth:`connect` already did); closed on the way out, or at once if
        connecting fails, so no reconnect loop outlives a failed ``with``."""
        enter_connected(self.started, self.connect, self.close)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def send(self, message: ClientMessage) -> bool:
        """Send a command now if connected (True), else keep it for the next connection (False).

        True means written to the socket, not received: action commands written after the
        connection's last inbound frame are sent again once if that connection dies (at least
        once delivery; see :mod:`~lasersell_sync.stream.transport.outbox`).
        ``update_strategy``/``update_wallets``/``update_watch_wallets`` also update the intent;
        one the server rejects is rolled back and reported as a ``CommandRejected`` event.
        ``ping`` is never kept.

        Raises:
            SessionClosedError: after ``close()``. TypeError: a ``configure`` message.
        """
        return self._outbox.send(message)

    def update_intent(
        self,
        *,
        send_mode: Optional[str] = None,
        tip_lamports: Optional[int] = None,
        mirror_config: Optional[MirrorConfig] = None,
    ) -> Configure:
        """Change configure-only settings; they take effect at the next (re)connect.

        The protocol has no command for these; call :meth:`reconnect` to apply them now.
        """
        return self._outbox.update_intent(**configure_settings(send_mode, tip_lamports, mirror_config))

    def set_position_strategy(self, token_account: str, strategy: Optional[StrategyConfig]) -> None:
        """Make one position's own strategy part of the intent (None forgets it)."""
        self._outbox.set_position_strategy(token_account, strategy)

    def position_strategy(self, token_account: str) -> Optional[StrategyConfig]:
        """A position's own strategy, if it was given one."""
        return self._outbox.position_strategy(token_account)

    def reconnect(self) -> None:
        """Drop the current connection; the reconnect loop sends the current intent."""
        wire = self._outbox.go_down()
        if wire is not None:
            wire.shutdown()

    def close(self, timeout: float = 5.0) -> None:
        """Close the connection and stop the reader thread. Idempotent, safe from any thread."""
        with self._start_lock:  # a connect() either saw the close or made the thread seen below
            first, wire = self._outbox.close()
            thread = self._thread
        self._reader.closing.set()
        if first:
            if wire is not None:
                wire.send_close()
                wire.shutdown()
            connecting = self._reader.connecting
            if connecting is not None:
                connecting.shutdown()
        if thread is not None and thread.is_alive():
            if thread is not threading.current_thread():
                thread.join(timeout)
        elif first:
            self._reader.publish_closed(None)
