"""JSON backend: ``orjson`` when installed (the ``fast`` extra), the standard library otherwise.

Chosen once at import. Both backends accept the same documents: when ``orjson`` refuses one
(an integer beyond 64 bits, say), the frame is parsed again with the standard library so that
the codec can name the offending field, and the error paths agree across backends.
"""

from __future__ import annotations

import json
import math
from typing import Any, Union

try:  # pragma: no cover - which branch runs depends on the environment
    import orjson as _orjson_module

    _orjson: Any = _orjson_module
except ImportError:  # pragma: no cover
    _orjson = None

__all__ = ["BACKEND", "LOSSY_BIG_INTS", "JsonDecodeError", "dumps", "loads", "loads_exact"]

BACKEND = "orjson" if _orjson is not None else "json"
"""Name of the backend in use: ``"orjson"`` or ``"json"``."""

LOSSY_BIG_INTS = _orjson is not None
"""True when :func:`loads` reads integers beyond 64 bits as floats (orjson does)."""


class JsonDecodeError(ValueError):
    """The frame is not valid UTF-8 JSON; the message says where."""


def _reject_constant(name: str) -> Any:
    raise JsonDecodeError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isfinite(value):
        return value
    raise JsonDecodeError(f"number {text} is out of range for a double")


# Like orjson: no NaN/Infinity literals and no number that overflows to infinity.
_std_decoder = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
_std_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def loads_exact(frame: Union[str, bytes, bytearray, memoryview]) -> Any:
    """Parse with the standard library, which keeps integers of any size exact."""
    if isinstance(frame, str):
        text = frame
    else:
        try:
            text = bytes(frame).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonDecodeError(f"frame is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        return _std_decoder.decode(text)
    except JsonDecodeError:
        raise
    except RecursionError:
        raise JsonDecodeError("JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and int digit limits on 3.11+
        raise JsonDecodeError(str(exc)) from None


if _orjson is not None:
    _orjson_loads = _orjson.loads
    _orjson_dumps = _orjson.dumps
    _OrjsonDecodeError = _orjson.JSONDecodeError

    def loads(frame: Union[str, bytes, bytearray, memoryview]) -> Any:
        """Parse one frame. Raises :class:`JsonDecodeError`."""
        try:
            return _orjson_loads(frame)
        except _OrjsonDecodeError:
            return loads_exact(frame)

    def dumps(value: Any) -> str:
        """Compact JSON text (no whitespace)."""
        try:
            text: str = _orjson_dumps(value).decode("utf-8")
        except TypeError:  # orjson.JSONEncodeError: e.g. an int beyond 64 bits
            return _std_encoder.encode(value)
        return text

else:  # pragma: no cover - exercised by the no-orjson CI run

    def loads(frame: Union[str, bytes, bytearray, memoryview]) -> Any:
        """Parse one frame. Raises :class:`JsonDecodeError`."""
        return loads_exact(frame)

    def dumps(value: Any) -> str:
        """Compact JSON text (no whitespace)."""
        return _std_encoder.encode(value)
