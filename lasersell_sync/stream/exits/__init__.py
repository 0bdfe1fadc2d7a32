"""The exit executor behind ``StreamSession.auto_exit``: a sans-I/O core and a thin shell.

``core`` decides (events in, actions out, no I/O), ``ledger`` is what it remembers, ``shell``
and ``io`` carry its actions out, ``journal`` keeps the ledger across a crash, and ``policy``
and ``outcomes`` are what users set and receive.
"""

from __future__ import annotations

from .core import ExitCore
from .journal import ExitJournal
from .outcomes import ExitFailed, ExitLanded, ExitStats, ExitSubmitted, ExitUnresolved
from .policy import ExitPolicy
from .shell import ExitExecutor, ExitRefusedError

__all__ = [
    "ExitCore",
    "ExitExecutor",
    "ExitFailed",
    "ExitJournal",
    "ExitLanded",
    "ExitPolicy",
    "ExitRefusedError",
    "ExitStats",
    "ExitSubmitted",
    "ExitUnresolved",
]
