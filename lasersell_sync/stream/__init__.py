"""The stream: the session users touch, and the transport, book, dispatcher beneath it."""

from __future__ import annotations

from .._exports import public_names as _public_names
from .dispatch.iterator import EventIterator as EventIterator
from .dispatch.registry import EVENT_NAMES as EVENT_NAMES, Event as Event
from .events import (
    BadFrame as BadFrame,
    Closed as Closed,
    CommandRejected as CommandRejected,
    Connected as Connected,
    Disconnected as Disconnected,
    Reconnecting as Reconnecting,
    TransportEvent as TransportEvent,
)
from .exits import (
    ExitExecutor as ExitExecutor,
    ExitFailed as ExitFailed,
    ExitLanded as ExitLanded,
    ExitPolicy as ExitPolicy,
    ExitRefusedError as ExitRefusedError,
    ExitStats as ExitStats,
    ExitSubmitted as ExitSubmitted,
    ExitUnresolved as ExitUnresolved,
)
from .positions import PositionHandle as PositionHandle, PositionRef as PositionRef
from .session.stats import SessionStats as SessionStats
from .session.stream_session import StreamSession as StreamSession
from .transport.connection import StreamConnection as StreamConnection, TransportStats as TransportStats
from .transport.link import DEFAULT_ENDPOINT as DEFAULT_ENDPOINT

__all__ = _public_names(globals())
