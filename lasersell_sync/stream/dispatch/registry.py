"""Events as handlers see them, event names, and the handler registry.

Lookup order for an event: handlers registered for its exact type (in registration order),
then ``on_any`` handlers; a handler that raises goes to the ``on_error`` handlers.
Registration validates the name and the handler's signature, so a typo fails at start-up
rather than never firing.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable, Dict, Generic, Optional, Tuple, Type, TypeVar, Union

import attrs

from ...proto import UnknownMessage
from ...proto.server import SERVER_MESSAGE_TYPES
from ..events import (
    Closed,
    Connected,
    Disconnected,
    ExitFailed,
    ExitLanded,
    ExitSubmitted,
    ExitUnresolved,
    Reconnecting,
)
from ..positions import PositionHandle

__all__ = [
    "CLASS_NAMES",
    "EVENT_NAMES",
    "EXIT_TYPES",
    "LIFECYCLE_TYPES",
    "ErrorHandler",
    "Event",
    "Handler",
    "HandlerRegistry",
    "event_name",
    "make_event",
]

M = TypeVar("M")


@attrs.frozen(slots=True)
class Event(Generic[M]):
    """One thing that happened, as handed to a handler.

    Attributes:
        type: the event name (``"exit_signal_with_tx"``, ``"connected"``, ...).
        message: the typed server message, or the lifecycle record for lifecycle events.
        handle: the position the message is about, when the book knows it.
        received_at: ``time.monotonic()`` when the frame was read (or the event happened).
    """

    type: str
    message: M
    handle: Optional[PositionHandle]
    received_at: float


_new_event = object.__new__
_set_type, _set_message, _set_handle, _set_received = (
    Event.__dict__[name].__set__ for name in ("type", "message", "handle", "received_at")
)


def make_event(name: str, message: Any, handle: Optional[PositionHandle], received_at: float) -> Event[Any]:
    """``Event(name, message, handle, received_at)`` at half the cost, for the reader's hot path."""
    event: Event[Any] = _new_event(Event)
    _set_type(event, name)
    _set_message(event, message)
    _set_handle(event, handle)
    _set_received(event, received_at)
    return event


Handler = Callable[[Event[M]], Any]
ErrorHandler = Callable[[BaseException, Optional[Event[Any]]], Any]

LIFECYCLE_TYPES: Dict[str, type] = {
    "connected": Connected,
    "disconnected": Disconnected,
    "reconnecting": Reconnecting,
    "closed": Closed,
}
CLASS_NAMES: Dict[type, str] = {cls: cls.TYPE for cls in SERVER_MESSAGE_TYPES}
CLASS_NAMES[UnknownMessage] = "unknown"
CLASS_NAMES.update({cls: name for name, cls in LIFECYCLE_TYPES.items()})
EXIT_TYPES: Dict[str, type] = {
    "exit_submitted": ExitSubmitted,
    "exit_landed": ExitLanded,
    "exit_failed": ExitFailed,
    "exit_unresolved": ExitUnresolved,
}
"""Outcomes of the exit executor (``session.auto_exit``)."""
CLASS_NAMES.update({cls: name for name, cls in EXIT_TYPES.items()})
EVENT_NAMES = frozenset(CLASS_NAMES.values())
"""Every name ``on()`` accepts."""


def event_name(message: Any) -> str:
    """The event name of a message or lifecycle record."""
    return CLASS_NAMES[type(message)]


def _is_async(handler: Any) -> bool:
    target = handler
    while isinstance(target, functools.partial):
        target = target.func
    call = getattr(type(target), "__call__", None)  # noqa: B004 - an instance with an async __call__
    return (
        inspect.iscoroutinefunction(target)
        or inspect.isasyncgenfunction(target)
        or (not inspect.isroutine(target) and call is not None and inspect.iscoroutinefunction(call))
    )


def _check_arity(handler: Any, count: int, what: str) -> None:
    if not callable(handler):
        raise TypeError(f"{what} must be callable, got {type(handler).__name__}")
    if _is_async(handler):
        raise TypeError(
            f"{what} {handler!r} is an async function; lasersell_sync runs handlers on worker threads "
            "and never awaits them: use a plain def"
        )
    try:
        inspect.signature(handler).bind(*([None] * count))
    except TypeError:
        raise TypeError(f"{what} {handler!r} must accept {count} positional argument(s)") from None
    except ValueError:  # builtins without a signature: trust them
        pass


class HandlerRegistry:
    """Handlers per event name; copy-on-write so dispatch reads need no lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_name: Dict[str, Tuple[Handler[Any], ...]] = {}
        self._any: Tuple[Handler[Any], ...] = ()
        self._errors: Tuple[ErrorHandler, ...] = ()

    def add(self, event: Union[str, Type[Any]], handler: Handler[Any]) -> None:
        name = self.name_of(event)
        _check_arity(handler, 1, f"handler for {name!r}")
        with self._lock:
            self._by_name = {**self._by_name, name: (*self._by_name.get(name, ()), handler)}

    def add_any(self, handler: Handler[Any]) -> None:
        _check_arity(handler, 1, "on_any handler")
        with self._lock:
            self._any = (*self._any, handler)

    def add_error(self, handler: ErrorHandler) -> None:
        _check_arity(handler, 2, "on_error handler")
        with self._lock:
            self._errors = (*self._errors, handler)

    def handlers(self, name: str) -> Tuple[Handler[Any], ...]:
        exact = self._by_name.get(name, ())
        return exact + self._any if self._any else exact

    def error_handlers(self) -> Tuple[ErrorHandler, ...]:
        return self._errors

    @staticmethod
    def name_of(event: Union[str, Type[Any]]) -> str:
        """The event name for a name or type; ValueError for anything ``on()`` cannot take."""
        if isinstance(event, str):
            if event not in EVENT_NAMES:
                raise ValueError(f"unknown event name {event!r}; expected one of {sorted(EVENT_NAMES)}")
            return event
        if isinstance(event, type) and event in CLASS_NAMES:
            return CLASS_NAMES[event]
        raise ValueError(f"cannot register a handler for {event!r}: not a LaserSell event type or name")
