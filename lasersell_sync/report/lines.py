"""Read a session recording line by line, keeping what can be used and counting what cannot.

A recording (``StreamSession(record_to=...)``) is JSON Lines: frame lines ``{"t", "frame"}`` and
event lines ``{"t", "event", "fields"}``. A bot that was killed leaves a last line cut off
mid-way; a file edited by hand may hold anything. Neither stops a report: such lines are
counted (:class:`LineCounts`) and skipped. The file is read as a stream, so a recording of
days does not have to fit in memory twice.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Dict, Iterator, Union

import attrs

__all__ = ["EventLine", "FrameLine", "LineCounts", "read_lines"]


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


@attrs.define
class LineCounts:
    """What :func:`read_lines` found: usable lines, and the ones it skipped."""

    lines: int = 0
    frames: int = 0
    events: int = 0
    cut_off: int = 0
    unreadable: int = 0


def read_lines(path: Union[str, Path], counts: LineCounts) -> Iterator[Union[FrameLine, EventLine]]:
    """Frame and event lines in file order; ``counts`` is updated as the file is read.

    A last line without its newline that does not parse counts as ``cut_off``; any other line
    that is not a frame or an event counts as ``unreadable``. Blank lines are ignored.

    Raises:
        OSError: the file cannot be opened or read.
    """
    with open(path, "rb") as file:
        for raw in file:
            if not raw.strip():
                continue
            counts.lines += 1
            entry = _parse(raw)
            if entry is None:
                if raw.endswith(b"\n"):
                    counts.unreadable += 1
                else:  # the last line, and the writer stopped in the middle of it
                    counts.cut_off += 1
                continue
            if isinstance(entry, FrameLine):
                counts.frames += 1
            else:
                counts.events += 1
            yield entry


def _parse(raw: bytes) -> Union[FrameLine, EventLine, None]:
    """One line as a frame or an event, or None when it is neither."""
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
