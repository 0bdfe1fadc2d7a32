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
import math
import threading
from pathlib import Path
from typing import IO, Any, Dict, List, Mapping, Optional, Tuple, Union

import attrs

from .._redact import scrub
from ..proto import StrategyConfig, to_wire
from .positions import PositionHandle

__all__ = ["EventLine", "FrameLine", "FrameRecorder", "event_fields", "parse_line", "read_recording", "strategy_fields"]


@attrs.frozen
class FrameLine:
    """A text frame the session received, at ``t`` seconds."""

    t: float
    text: str


@attrs.frozen
class EventLine:
    """An event the session produced (``exit_landed``, ``reconnecting``, ...), at ``t`` seconds."""

    t: float
    name: str
    fields: Dict[str, Any]


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


def parse_line(raw: Union[str, bytes]) -> Union[FrameLine, EventLine, None]:
    """One recording line as a frame or an event, or None when it is neither."""
    try:
        entry = json.loads(raw)
    except ValueError:  # not JSON, or not UTF-8
        return None
    if not isinstance(entry, dict):
        return None
    t = entry.get("t")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
        return None
    frame, event = entry.get("frame"), entry.get("event")
    if isinstance(frame, str) and event is None:
        return FrameLine(float(t), frame)
    fields = entry.get("fields", {})
    if isinstance(event, str) and frame is None and isinstance(fields, dict):
        return EventLine(float(t), event, fields)
    return None


def read_recording(path: Union[str, Path]) -> List[Tuple[float, str]]:
    """``(seconds since start, frame text)`` pairs, in order (event lines are skipped).

    Raises ValueError on a line that is neither a frame nor an event.
    """
    frames: List[Tuple[float, str]] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        entry = parse_line(line)
        if entry is None:
            raise ValueError(f"{path}:{number}: not a recording line")
        if isinstance(entry, FrameLine):
            frames.append((entry.t, entry.text))
    return frames
