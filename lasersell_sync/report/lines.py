"""Read a session recording line by line, keeping what can be used and counting what cannot.

A recording (``StreamSession(record_to=...)``) is JSON Lines: frame lines ``{"t", "frame"}`` and
event lines ``{"t", "event", "fields"}``, parsed by ``stream/recording.py``, which writes them.
A bot that was killed leaves a last line cut off mid-way; a file edited by hand may hold
anything. Neither stops a report: such lines are counted (:class:`LineCounts`) and skipped. The
file is read as a stream, so a recording of days does not have to fit in memory twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Union

import attrs

from ..stream.recording import EventLine, FrameLine, parse_line

__all__ = ["EventLine", "FrameLine", "LineCounts", "read_lines"]


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
            entry = parse_line(raw)
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
