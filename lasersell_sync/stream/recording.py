"""Record what a session receives to JSON Lines, and read it back (for the simulator's replay).

Each line is ``{"t": seconds since the first message, "frame": "<the message as JSON text>"}``.
Recording happens on the reader thread, so it is opt-in; lines are buffered and flushed on close.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import IO, List, Optional, Tuple, Union

from ..proto import ServerMessage, encode_server

__all__ = ["FrameRecorder", "read_recording"]


class FrameRecorder:
    def __init__(self, path: Union[str, Path]) -> None:
        self._file: Optional[IO[str]] = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._start: Optional[float] = None
        self._lock = threading.Lock()

    def record(self, message: ServerMessage, received_at: float) -> None:
        with self._lock:
            if self._file is None:
                return
            if self._start is None:
                self._start = received_at
            line = json.dumps({"t": round(received_at - self._start, 6), "frame": encode_server(message)})
            self._file.write(line + "\n")

    def close(self) -> None:
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
