"""The stream: the session users touch, and the transport, book, dispatcher beneath it."""

from __future__ import annotations

from .connection import StreamConnection, TransportStats
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
from .iterator import EventIterator
from .link import DEFAULT_ENDPOINT
from .positions import PositionHandle, PositionRef
from .registry import EVENT_NAMES, Event
from .session import StreamSession
from .stats import SessionStats

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
