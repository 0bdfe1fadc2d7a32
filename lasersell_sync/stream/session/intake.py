"""What the reader thread hands the session, and the events the session makes itself.

Every server message updates the position book and the per-position duties first (as its route
says), then goes to the dispatcher, so a handler always sees state at least as new as its event.
The exit executor's outcomes and the transport's lifecycle changes enter the dispatcher here too,
and, when the session records, the recording.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from ...errors import CommandRejectedError
from ...proto import ServerMessage
from ..dispatch.dispatcher import Dispatcher
from ..dispatch.registry import CLASS_NAMES, Event, event_name, make_event
from ..events import BadFrame, Closed, CommandRejected, Connected, Reconnecting, TransportEvent
from ..positions import PositionBook
from ..recording import FrameRecorder, event_fields
from ..routes import ROUTES, Route
from .position_duties import PositionDuties

__all__ = ["Intake"]

_PLAN: Dict[type, Tuple[str, bool, Route]] = {
    cls: (name, ROUTES[name].lookup_only, ROUTES[name]) for cls, name in CLASS_NAMES.items()
}
"""Per message class: its event name, whether it only needs a handle lookup, and its route."""

_RECORDED_NAMES = {BadFrame: "bad_frame", CommandRejected: "command_rejected"}
"""Transport events that reach handlers as errors rather than events, by the name a recording gives them."""


class Intake:
    """The session's four transport callbacks and its ``publish``; counts rejections, keeps the fatal error."""

    def __init__(
        self,
        book: PositionBook,
        dispatcher: Dispatcher,
        recorder: Optional[FrameRecorder],
        ended: threading.Event,
        strategy_now: Callable[[], Dict[str, Any]],
    ) -> None:
        self._book = book
        self._strategy_now = strategy_now
        self._dispatcher = dispatcher
        self._recorder = recorder
        self._ended = ended
        self._duties: Optional[PositionDuties] = None
        self.rejected = 0
        """Intent commands the server answered with ``error``."""
        self.fatal: Optional[BaseException] = None
        """The error that ended the session, if one did."""

    def attach(self, duties: PositionDuties) -> None:
        """Give the intake the per-position duties (they need the connection, which needs the intake)."""
        self._duties = duties

    def on_message(self, message: ServerMessage, received_at: float) -> None:
        """One message from the reader thread."""
        self.on_messages([message], received_at)

    def on_messages(self, messages: List[ServerMessage], received_at: float) -> None:
        """A burst, in arrival order: book and duties first, then one hand-off to the lanes."""
        book, duties, by_id, plan, events = self._book, self._duties, self._book.by_id, _PLAN, []
        assert duties is not None, "attach() the duties before connecting"
        for message in messages:
            name, lookup_only, route = plan[type(message)]
            if lookup_only:  # pnl, ticks: nothing to update
                handle = by_id.get(message.position_id)  # type: ignore[union-attr]
            else:
                handle = book.apply(message, route.book)
                duties.observe(message, handle, received_at, route.duty)
            events.append(make_event(name, message, handle, received_at))
        self._dispatcher.submit_many(events)

    def publish(self, message: Any) -> None:
        """An event the session itself produces (exit outcomes), into the dispatcher."""
        account = getattr(message, "token_account", None)
        handle = self._book.resolve(account if account is not None else message.position_id)
        name, now = event_name(message), time.monotonic()
        self._dispatcher.submit(Event(name, message, handle, now))
        if self._recorder is not None:
            self._recorder.record_event(name, event_fields(message), now)

    def on_transport_event(self, event: TransportEvent) -> None:
        """A lifecycle change, a bad frame or a rejected command, from the transport."""
        dispatcher, now = self._dispatcher, time.monotonic()
        if self._recorder is not None:
            name = _RECORDED_NAMES.get(type(event)) or event_name(event)
            self._recorder.record_event(name, event_fields(event), now)
            if isinstance(event, Connected):  # every connect sends the whole intent again
                self._recorder.record_event("strategy", self._strategy_now(), now)
        if isinstance(event, BadFrame):
            dispatcher.publish_error_later(event.error)
            return
        if isinstance(event, CommandRejected):
            self.rejected += 1
            dispatcher.publish_error_later(CommandRejectedError(event.command, event.code, event.message))
            return
        if isinstance(event, Connected) and event.reconnect and self._duties is not None:
            self._duties.reconnected()
        lifecycle = Event(event_name(event), event, None, now)
        dispatcher.submit(lifecycle)
        if isinstance(event, Reconnecting) and event.last_error is not None:
            dispatcher.publish_error_later(event.last_error, lifecycle)
        if isinstance(event, Closed):
            if event.error is not None:
                self.fatal = event.error
                dispatcher.publish_error_later(event.error, lifecycle)
            self._ended.set()
