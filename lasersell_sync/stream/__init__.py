"""The stream: the session users touch, and the transport, book, dispatcher beneath it."""

from __future__ import annotations

from .dispatch.iterator import EventIterator
from .dispatch.registry import EVENT_NAMES, Event
from .events import BadFrame, Closed, CommandRejected, Connected, Disconnected, Reconnecting, TransportEvent
from .exits import (
    ExitExecutor,
    ExitFailed,
    ExitLanded,
    ExitPolicy,
    ExitRefusedError,
    ExitStats,
    ExitSubmitted,
    ExitUnresolved,
)
from .positions import PositionHandle, PositionRef
from .session.stats import SessionStats
from .session.stream_session import StreamSession
from .transport.connection import StreamConnection, TransportStats
from .transport.link import DEFAULT_ENDPOINT

__all__ = [
    "DEFAULT_ENDPOINT",
    "EVENT_NAMES",
    "BadFrame",
    "Closed",
    "CommandRejected",
    "Connected",
    "Disconnected",
    "Event",
    "EventIterator",
    "ExitExecutor",
    "ExitFailed",
    "ExitLanded",
    "ExitPolicy",
    "ExitRefusedError",
    "ExitStats",
    "ExitSubmitted",
    "ExitUnresolved",
    "PositionHandle",
    "PositionRef",
    "Reconnecting",
    "SessionStats",
    "StreamConnection",
    "StreamSession",
    "TransportEvent",
    "TransportStats",
]
