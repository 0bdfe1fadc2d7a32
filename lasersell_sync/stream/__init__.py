"""The stream: transport (connection), events, and the pieces the session composes."""

from __future__ import annotations

from .connection import StreamConnection, TransportStats
from .events import BadFrame, Closed, Connected, Disconnected, Reconnecting, TransportEvent
from .link import DEFAULT_ENDPOINT

__all__ = [
    "DEFAULT_ENDPOINT",
    "BadFrame",
    "Closed",
    "Connected",
    "Disconnected",
    "Reconnecting",
    "StreamConnection",
    "TransportEvent",
    "TransportStats",
]
