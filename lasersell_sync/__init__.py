"""lasersell_sync: a synchronous Python SDK for the LaserSell Exit Intelligence Stream."""

from __future__ import annotations

import logging

from . import proto
from .backoff import Backoff
from .errors import (
    AuthenticationError,
    ConnectError,
    InvalidStrategyError,
    LaserSellError,
    ProtocolError,
    SessionClosedError,
    StreamServerError,
)
from .proto import *  # noqa: F403 - the protocol models are part of the public API
from .proto import __all__ as _proto_all
from .stream import (
    DEFAULT_ENDPOINT,
    EVENT_NAMES,
    BadFrame,
    Closed,
    Connected,
    Disconnected,
    Event,
    PositionHandle,
    Reconnecting,
    SessionStats,
    StreamConnection,
    StreamSession,
)

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "DEFAULT_ENDPOINT",
    "EVENT_NAMES",
    "AuthenticationError",
    "Backoff",
    "BadFrame",
    "Closed",
    "ConnectError",
    "Connected",
    "Disconnected",
    "Event",
    "PositionHandle",
    "Reconnecting",
    "SessionStats",
    "StreamSession",
    "InvalidStrategyError",
    "LaserSellError",
    "ProtocolError",
    "SessionClosedError",
    "StreamConnection",
    "StreamServerError",
    "__version__",
    "proto",
    *_proto_all,
]
