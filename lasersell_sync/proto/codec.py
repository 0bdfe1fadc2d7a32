"""Frames <-> typed messages: the four entry points of the wire format.

``decode_server`` runs on the reader thread for every frame, so it does the minimum: one JSON
parse, one dict lookup on ``type``, one generated cattrs structuring function. Everything that
goes wrong becomes a :class:`~lasersell_sync.errors.ProtocolError` naming the message type and
the field; no other exception escapes a decode.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Type, TypeVar, Union

import attrs

from ..errors import ProtocolError
from . import jsonlib
from .client import CLIENT_MESSAGE_TYPES, CLIENT_TYPE_ALIASES, ClientMessage
from .converter import converter, describe_error, json_kind
from .fastpath import fast_structure
from .server import (
    SERVER_MESSAGE_TYPES,
    ExitSignalWithTx,
    MirrorBuySignal,
    PositionOpened,
    ServerMessage,
    UnknownMessage,
)

__all__ = [
    "decode_client",
    "decode_server",
    "encode_client",
    "encode_server",
    "from_wire",
    "to_wire",
]

Frame = Union[str, bytes, bytearray, memoryview]
_StructureFn = Callable[[Any, Any], Any]
T = TypeVar("T")
_EXCERPT = 120


_Entry = Tuple[Optional[Callable[[Dict[str, Any]], Any]], _StructureFn, Any]


def _hooks(classes: Tuple[Any, ...], aliases: Mapping[str, Any]) -> Dict[str, _Entry]:
    """Per ``type``: the generated fast path (when the class is flat enough), the general hook."""
    table: Dict[str, _Entry] = {
        cls.TYPE: (fast_structure(cls, converter.get_structure_hook), converter.get_structure_hook(cls), cls)
        for cls in classes
    }
    for alias, cls in aliases.items():
        table[alias] = table[cls.TYPE]
    return table


_SERVER = _hooks(SERVER_MESSAGE_TYPES, {})
_CLIENT = _hooks(CLIENT_MESSAGE_TYPES, CLIENT_TYPE_ALIASES)
_UNSTRUCTURE: Dict[Type[Any], Callable[[Any], Dict[str, Any]]] = {
    cls: converter.get_unstructure_hook(cls) for cls in SERVER_MESSAGE_TYPES + CLIENT_MESSAGE_TYPES
}


def _register_unions() -> None:
    """Make ``converter.structure(obj, ServerMessage)`` dispatch on ``type`` like the decoders."""

    def structure_server(obj: Any, _: Any) -> Any:
        return _structure(_as_object(obj), _SERVER)

    def structure_client(obj: Any, _: Any) -> Any:
        return _client_message(_structure(_as_object(obj), _CLIENT))

    converter.register_structure_hook(ServerMessage, structure_server)
    converter.register_structure_hook(ClientMessage, structure_client)
    converter.register_unstructure_hook(ServerMessage, to_wire)
    converter.register_unstructure_hook(ClientMessage, to_wire)


def _excerpt(frame: Frame) -> str:
    text = frame if isinstance(frame, str) else bytes(frame[: _EXCERPT * 4]).decode("utf-8", "replace")
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 3] + "..."


def _parse(frame: Frame, loads: Optional[Callable[[Frame], Any]] = None) -> Dict[str, Any]:
    if not isinstance(frame, (str, bytes, bytearray, memoryview)):
        raise ProtocolError(f"a frame must be str or bytes, not {type(frame).__name__}")
    try:
        obj = (loads or jsonlib.loads)(frame)
    except jsonlib.JsonDecodeError as exc:
        raise ProtocolError(f"frame is not valid JSON: {exc}; frame: {_excerpt(frame)!r}") from None
    return _as_object(obj)


def _as_object(obj: Any) -> Dict[str, Any]:
    if type(obj) is not dict:
        raise ProtocolError(f"a message must be a JSON object, got {json_kind(obj)}")
    return obj


def _structure(obj: Dict[str, Any], table: Dict[str, _Entry]) -> Any:
    tag = obj.get("type")
    if type(tag) is not str:
        problem = "missing" if tag is None else f"not a string ({json_kind(tag)})"
        raise ProtocolError(f"message field 'type' is {problem}", field="type")
    entry = table.get(tag)
    if entry is None:
        return UnknownMessage(type=tag, fields={k: v for k, v in obj.items() if k != "type"})
    fast, structure, cls = entry
    if fast is not None:
        try:
            return fast(obj)
        except Exception:  # anything unusual: the general path decides, with its own errors
            pass
    try:
        return structure(obj, cls)
    except Exception as exc:  # any failure of a generated hook is a bad field
        raise _protocol_error(exc, f"invalid {tag} message", tag) from None


def _protocol_error(exc: Exception, what: str, message_type: Any = None) -> ProtocolError:
    problems = describe_error(exc) or [("", str(exc))]
    field = problems[0][0] or None
    detail = "; ".join(f"field '{path}': {problem}" if path else problem for path, problem in problems)
    return ProtocolError(f"{what}: {detail}", message_type=message_type, field=field)


def decode_server(frame: Frame) -> ServerMessage:
    """Decode one server frame (``str`` or UTF-8 ``bytes``) into a typed message.

    An unknown ``type`` yields :class:`UnknownMessage`; unknown keys are ignored.

    Raises:
        ProtocolError: invalid UTF-8 or JSON, not an object, bad ``type``, or a bad field.

    Example:
        >>> decode_server('{"type":"pong","server_time_ms":1}')
        Pong(server_time_ms=1)
    """
    message = _structure(_parse(frame), _SERVER)
    if jsonlib.LOSSY_BIG_INTS and _raw_parts_hold_floats(message):
        # Keys this release does not know are kept verbatim, so read them exactly.
        message = _structure(_parse(frame, jsonlib.loads_exact), _SERVER)
    return message  # type: ignore[no-any-return]


_WITH_MARKET_CONTEXT = frozenset({PositionOpened, ExitSignalWithTx, MirrorBuySignal})


def _raw_parts_hold_floats(message: Any) -> bool:
    """Whether the undecoded parts of a message (unknown type, unknown keys) contain a float."""
    kind = type(message)
    if kind is UnknownMessage:
        return _holds_float(message.fields)
    if kind not in _WITH_MARKET_CONTEXT:
        return False  # the common case (pnl, ticks, ...): one set lookup per frame
    context = message.market_context
    return context is not None and bool(context.extra) and _holds_float(context.extra)


def _holds_float(value: Any) -> bool:
    if type(value) is float:
        return True
    if type(value) is dict:
        return any(_holds_float(item) for item in value.values())
    if type(value) is list:
        return any(_holds_float(item) for item in value)
    return False


def decode_client(frame: Frame) -> ClientMessage:
    """Decode one client frame, accepting the legacy aliases (``sell_now``, ``wallet_pubkey``).

    An unknown ``type`` is a :class:`ProtocolError` here: a server must not guess at commands.
    """
    return _client_message(_structure(_parse(frame), _CLIENT))


def _client_message(message: Any) -> ClientMessage:
    if type(message) is UnknownMessage:
        raise ProtocolError(f"unknown client message type {message.type!r}", message_type=message.type)
    return message  # type: ignore[no-any-return]


def to_wire(value: Any) -> Dict[str, Any]:
    """The JSON object of a message (``type`` first) or of a nested type such as MarketContext.

    Optional fields are omitted when unset, exactly as :func:`encode_client` writes them.
    """
    if type(value) is UnknownMessage:
        return {"type": value.type, **value.fields}
    unstructure = _UNSTRUCTURE.get(type(value))
    if unstructure is None:
        if not attrs.has(type(value)):
            raise TypeError(f"not a LaserSell protocol value: {type(value).__name__}")
        return converter.unstructure(value)  # type: ignore[no-any-return]
    out = {"type": value.TYPE}
    out.update(unstructure(value))
    return out


def from_wire(cls: Type[T], value: Any) -> T:
    """Build a nested protocol type (MarketContext, StrategyConfig, ...) from decoded JSON.

    Raises:
        ProtocolError: the value does not match ``cls``; the message names the field.
    """
    try:
        return converter.structure(value, cls)
    except Exception as exc:
        raise _protocol_error(exc, f"invalid {cls.__name__}") from None


def encode_client(message: ClientMessage) -> str:
    """Encode a client message as compact JSON text, ready to send.

    Example:
        >>> encode_client(ClosePosition(position_id=7))
        '{"type":"close_position","position_id":7}'
    """
    return jsonlib.dumps(to_wire(message))


def encode_server(message: ServerMessage) -> str:
    """Encode a server message as compact JSON text (for the simulator and tests)."""
    return jsonlib.dumps(to_wire(message))


_register_unions()
