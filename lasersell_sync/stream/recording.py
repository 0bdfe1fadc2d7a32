"""Record what a session receives to JSON Lines, and read it back (for the simulator's replay).

Each line is ``{"t": seconds since the first frame, "frame": "<the text frame exactly as received>"}``
(undecodable frames too, so a replay reproduces them). Recording happens on the reader thread, so
it is opt-in; lines are buffered and flushed on close.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import IO, List, Optional, Tuple, Union

__all__ = ["FrameRecorder", "read_recording"]


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

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def read_recording(path: Union[str, Path]) -> List[Tuple[float, str]]:
    """``(seconds since start, frame text)`` pairs, in order. Raises ValueError on a bad line."""
    frames: List[Tuple[float, str]] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            frames.append((float(entry["t"]), str(entry["frame"])))
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"{path}:{number}: not a recording line") from None
    return frames
