"""Key files on disk: read with a size bound, written atomically and private from the first byte.

A key file is written to a temporary file in the same directory (``mkstemp`` creates it with mode
0600, so no umask or race can make it readable by others even briefly), flushed and fsynced, then
renamed over the target with ``os.replace``: a reader sees the old file or the new one, never a
half-written key. The directory is fsynced too, so the rename survives a power cut.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Optional, Tuple, Union

from ..errors import InvalidKeyError

__all__ = ["MAX_KEY_FILE_BYTES", "display_path", "read_key_document", "read_key_file", "write_private_file"]

MAX_KEY_FILE_BYTES = 64 * 1024
"""Key files are a few hundred bytes; anything past this is not one (and is not read whole)."""

PathLike = Union[str, "os.PathLike[str]"]


def display_path(path: PathLike) -> str:
    """``path`` as text for messages; a TypeError when it is not a path at all."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
    return os.fspath(path)


def _read_bounded(where: str) -> Tuple[Optional[bytes], str]:
    """(content, "") or (None, why not), never raising: the caller raises outside any except."""
    try:
        with open(where, "rb") as handle:
            return handle.read(MAX_KEY_FILE_BYTES + 1), ""
    except OSError as exc:
        return None, exc.strerror or type(exc).__name__


def read_key_file(path: PathLike) -> str:
    """The text of a key file; an InvalidKeyError naming the file when it cannot be one."""
    where = display_path(path)
    data, reason = _read_bounded(where)
    if data is None:
        raise InvalidKeyError(f"cannot load a keypair from {where}: {reason}", path=where)
    if len(data) > MAX_KEY_FILE_BYTES:
        reason = f"larger than {MAX_KEY_FILE_BYTES} bytes, not a key file"
        raise InvalidKeyError(f"cannot load a keypair from {where}: {reason}", path=where)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    raise InvalidKeyError(f"cannot load a keypair from {where}: not a text (UTF-8) file", path=where)


def read_key_document(path: PathLike) -> Any:
    """The JSON value of a key file, or None when its text is not JSON (the caller names the format)."""
    text = read_key_file(path)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable, where the platform allows opening a directory."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private_file(path: PathLike, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically, mode 0600 from creation; OSError names the path.

    On failure the temporary file is removed and the previous file, if any, is left as it was.
    """
    target = Path(display_path(path))
    directory = target.parent
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)
