"""Record what a session receives to JSON Lines, and read it back (for replays and reports).

A frame line is ``{"t": seconds since the first line, "frame": "<the text frame exactly as
received>"}`` (undecodable frames too, so a replay reproduces them). An event line is ``{"t": ...,
"event": "exit_landed", "fields": {...}}``: what the session itself produced (the exit executor's
outcomes, connects, disconnects, reconnects and errors, and a ``strategy`` line at every connect
and strategy change), so a report can show what happened to a sell and the thresholds in force,
not only what the server said. Both use one monotonic clock. Recording is opt-in; lines are
buffered and flushed on close.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import IO, Any, Dict, List, Mapping, Optional, Tuple, Union

import attrs

from .._redact import scrub
from ..proto import StrategyConfig, to_wire
from .positions import PositionHandle

__all__ = ["FrameRecorder", "event_fields", "read_recording", "strategy_fields"]


class FrameRecorder:
    """Writes received text frames to a JSON Lines file."""

    def __init__(self, path: Union[str, Path]) -> None:
        self._file: Optional[IO[str]] = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._start: Optional[float] = None
        self._lock = threading.Lock()

    def record(self, payload: bytes, received_at: float) -> None:
        """Append one frame (``received_at`` is ``time.monotonic()`` when it was read)."""
        with self._lock:
            if self._file is None:
                return
            if self._start is None:
                self._start = received_at
            frame = payload.decode("utf-8", "replace")
            self._file.write(json.dumps({"t": round(received_at - self._start, 6), "frame": frame}) + "\n")

    def record_event(self, name: str, fields: Mapping[str, Any], at: float) -> None:
        """Append one event the session produced (``at`` is ``time.monotonic()`` when it happened)."""
        with self._lock:
            if self._file is None:
                return
            if self._start is None:
                self._start = at
            line = {"t": round(at - self._start, 6), "event": name, "fields": dict(fields)}
            self._file.write(json.dumps(line, default=str) + "\n")

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def event_fields(event: Any) -> Dict[str, Any]:
    """An attrs event's fields as JSON-ready values.

    An exception becomes ``"TypeName: text"`` with registered secrets removed; the server's
    ``hello`` is left out (a report needs only that a connect happened).
    """
    fields: Dict[str, Any] = {}
    for field in attrs.fields(type(event)):
        value = getattr(event, field.name)
        if field.name == "hello":
            continue
        if isinstance(value, BaseException):
            value = scrub(f"{type(value).__name__}: {value}")
        elif isinstance(value, tuple):
            value = list(value)
        elif attrs.has(type(value)):
            value = scrub(repr(value))
        fields[field.name] = value
    return fields


def strategy_fields(strategy: StrategyConfig, deadline_sec: int, position: Optional[PositionHandle]) -> Dict[str, Any]:
    """A ``strategy`` event line's fields: the strategy in its wire form, the client-side deadline,
    and the position it is for (None: the session strategy)."""
    return {
        "strategy": to_wire(strategy),
        "deadline_timeout_sec": deadline_sec,
        "position_id": position.position_id if position is not None else None,
        "token_account": position.token_account if position is not None else None,
    }


def read_recording(path: Union[str, Path]) -> List[Tuple[float, str]]:
    """``(seconds since start, frame text)`` pairs, in order (event lines are skipped).

    Raises ValueError on a line that is neither a frame nor an event.
    """
    frames: List[Tuple[float, str]] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if "event" in entry and "frame" not in entry:
                continue
            frames.append((float(entry["t"]), str(entry["frame"])))
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"{path}:{number}: not a recording line") from None
    return frames
