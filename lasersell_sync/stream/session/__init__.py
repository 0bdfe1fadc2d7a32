"""The session users touch: ``StreamSession`` and the parts only it uses.

``stream_session.py`` composes the rooms below; ``intake.py`` is what the reader thread calls;
``commands.py`` and ``queries.py`` are the session's commands and read-only questions;
``position_duties.py`` keeps deadlines and per-position strategies across reconnects;
``autoexit.py`` checks and wires ``auto_exit``; ``stats.py`` is the counters' snapshot.
"""

from __future__ import annotations

from .stats import SessionStats
from .stream_session import StreamSession

__all__ = ["SessionStats", "StreamSession"]
