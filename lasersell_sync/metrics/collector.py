"""What a scrape reads: the session's counters at scrape time, and the latencies handlers observed.

:class:`SessionCollector` turns one ``session.stats()`` snapshot into metric families when
Prometheus scrapes, so counting costs the stream nothing beyond what ``stats()`` already counts.
:class:`Latencies` holds what no counter knows: two histograms, fed by two cheap handlers (one
``observe()`` each).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Dict, Iterator, TypeVar, Union

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ..proto import ExitSignalWithTx
from ..stream import Event, ExitLanded, ExitStats, SessionStats

if TYPE_CHECKING:
    from ..stream import StreamSession

__all__ = ["FAILURE_REASONS", "HANDLER_BUCKETS", "LANDED_BUCKETS", "Latencies", "SessionCollector"]

HANDLER_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""Seconds from a signal's frame to a handler's start: tens of microseconds when the lanes are idle."""
LANDED_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0)
"""Seconds from a signal to its sell landing: a few slots (400 ms each) when all goes well."""
FAILURE_REASONS = ("abandoned", "journal", "max_retries", "no_signal", "position_closed", "refused", "superseded")
"""``ExitFailed.reason`` values, exported at 0 before the first, so rates and alerts see a series."""

Q = TypeVar("Q", bound=Union[CounterMetricFamily, GaugeMetricFamily])

# (metric name without _total, SessionStats field, help)
_SESSION_COUNTERS = (
    ("lasersell_frames_received", "frames_received", "Text frames read from the stream's socket."),
    ("lasersell_decode_errors", "decode_errors", "Frames skipped as undecodable, binary or oversize."),
    ("lasersell_handler_errors", "handler_errors", "Handler calls that raised."),
    ("lasersell_reconnects", "reconnects", "Successful reconnects of the stream."),
    ("lasersell_commands_rejected", "commands_rejected", "Intent commands the server rejected (rolled back)."),
)
# (metric name without _total, ExitStats field, help)
_EXIT_COUNTERS = (
    ("lasersell_exit_signals", "signals", "Exit signals the executor received."),
    ("lasersell_exits_submitted", "submitted", "Sell attempts accepted by at least one send target."),
    ("lasersell_exits_landed", "landed", "Tranches sold (exit_landed)."),
    ("lasersell_exits_unresolved", "unresolved", "exit_unresolved events: a sell neither proved landed nor dead."),
    ("lasersell_exit_retries", "retries", "Fresh signals requested after every attempt had died."),
    ("lasersell_exit_signals_refused", "refused", "Signals refused before signing (wrong wallet, fee payer)."),
    ("lasersell_exit_signals_stale", "stale", "Signals ignored: their tranche had sold or their exit had ended."),
    ("lasersell_exit_signals_duplicate", "duplicates", "Signals that replaced a queued or held one."),
    ("lasersell_exit_signals_unkeyed", "unkeyed", "Signals of a wallet with no keypair, left to handlers."),
    ("lasersell_exit_rebroadcasts", "rebroadcasts", "Re-sends of a signed sell to every target."),
    ("lasersell_exit_status_errors", "status_errors", "Status or blockhash checks that failed."),
    ("lasersell_exit_warm_failures", "warm_failures", "Warm-ups of a send target that got no answer."),
)
_EXIT_GAUGES = (
    ("lasersell_exits_in_flight", "in_flight", "Tranches being sold: sending, landing or awaiting a fresh signal."),
    ("lasersell_exits_queued", "queued", "Tranches waiting behind another tranche of the same position."),
)


class Latencies:
    """The two latency histograms, fed by the session's handlers.

    Each handler does one ``observe()``: they run in the high-priority lane, beside the user's own
    handlers and the executor.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.to_handler = Histogram(
            "lasersell_signal_to_handler_seconds",
            "From reading an exit signal's frame to the start of a handler registered where serve_metrics was called.",
            buckets=HANDLER_BUCKETS,
            registry=registry,
        )
        self.to_landed = Histogram(
            "lasersell_signal_to_landed_seconds",
            "From the first exit signal of a tranche to its sell seen landed (ExitLanded.latency_ms).",
            buckets=LANDED_BUCKETS,
            registry=registry,
        )

    def on_signal(self, event: Event[ExitSignalWithTx]) -> None:
        """An exit signal reached this handler: how long after its frame was read."""
        self.to_handler.observe(time.monotonic() - event.received_at)

    def on_landed(self, event: Event[ExitLanded]) -> None:
        """A sell landed: its signal-to-landed time."""
        self.to_landed.observe(event.message.latency_ms / 1000.0)


class SessionCollector(Collector):
    """Reads ``session.stats()`` (and the connection state, the open positions) at each scrape."""

    def __init__(self, session: StreamSession) -> None:
        self._session = session

    def collect(self) -> Iterator[Metric]:
        """The session's metric families, from one snapshot of its counters."""
        session = self._session
        stats = session.stats()
        yield _gauge("lasersell_connected", "1 while the stream is connected, else 0.", 1 if session.connected else 0)
        yield _gauge("lasersell_positions_open", "Positions the session tracks.", len(session.positions()))
        yield from _session_families(stats)
        if stats.exits is not None:
            yield from _exit_families(stats.exits)


def _session_families(stats: SessionStats) -> Iterator[Metric]:
    for name, field, doc in _SESSION_COUNTERS:
        yield CounterMetricFamily(name, doc, value=getattr(stats, field))
    dispatched = CounterMetricFamily(
        "lasersell_events_dispatched",
        "Events handed to handlers, by event name (lifecycle and exit outcomes included).",
        labels=["event"],
    )
    for event, count in sorted(stats.events_dispatched.items()):
        dispatched.add_metric([event], count)
    yield dispatched
    yield _per_queue(
        CounterMetricFamily(
            "lasersell_events_conflated",
            "PnL and liquidity updates replaced by newer ones before delivery.",
            labels=["queue"],
        ),
        {"low": stats.low_priority_conflated, "events_iterators": stats.iterator_conflated},
    )
    yield _per_queue(
        CounterMetricFamily("lasersell_events_dropped", "Trade ticks dropped from a full backlog.", labels=["queue"]),
        {"low": stats.low_priority_dropped, "events_iterators": stats.iterator_dropped},
    )
    yield _per_queue(
        GaugeMetricFamily("lasersell_queue_depth", "Events waiting for delivery.", labels=["queue"]),
        stats.queue_depths,
    )
    yield _gauge("lasersell_pending_commands", "Commands kept for the next connection.", stats.pending_commands)
    yield _gauge("lasersell_deadline_timers", "Armed client-side deadlines.", stats.deadline_timers)


def _exit_families(exits: ExitStats) -> Iterator[Metric]:
    for name, field, doc in _EXIT_COUNTERS:
        yield CounterMetricFamily(name, doc, value=getattr(exits, field))
    by_reason = CounterMetricFamily(
        "lasersell_exits_failed", "Tranches given up (exit_failed), by ExitFailed.reason.", labels=["reason"]
    )
    for reason, count in sorted({**dict.fromkeys(FAILURE_REASONS, 0), **exits.failed_by_reason}.items()):
        by_reason.add_metric([reason], count)
    yield by_reason
    for name, field, doc in _EXIT_GAUGES:
        yield _gauge(name, doc, getattr(exits, field))


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _per_queue(metric: Q, values: Dict[str, int]) -> Q:
    for queue, value in sorted(values.items()):
        metric.add_metric([queue], value)
    return metric
