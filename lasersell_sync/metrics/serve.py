"""``serve_metrics``: a session's counters and latencies for Prometheus, from a plain script."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._checks import check_int
from ..errors import SessionClosedError
from ..proto import ExitSignalWithTx
from ..stream import Closed, Event, ExitLanded
from .server import MetricsServer

if TYPE_CHECKING:
    from ..stream import StreamSession

__all__ = ["DEFAULT_PORT", "INSTALL_HINT", "serve_metrics"]

DEFAULT_PORT = 9464
"""The port OpenTelemetry's Prometheus exporter uses, free on most machines."""
INSTALL_HINT = "serve_metrics needs prometheus_client: pip install 'lasersell_sync[metrics]'"


def serve_metrics(
    session: StreamSession, port: int = DEFAULT_PORT, host: str = "127.0.0.1", *, process_metrics: bool = True
) -> MetricsServer:
    """Serve ``session``'s counters and latencies in the Prometheus text format, until it closes.

    A scrape reads ``session.stats()`` (and whether the stream is connected, and how many
    positions are open) at that moment, so the stream pays nothing for it between scrapes. Three
    handlers feed what no counter knows: the signal-to-handler and signal-to-landed histograms
    and the exits failed by reason; each does one ``observe()`` or one increment. Call it before
    ``connect()`` so that the first events are seen, and after ``session.auto_exit()``
    so that the executor's handler runs before the exporter's. The metrics are listed in the
    guide *Watching a bot*.

    Args:
        session: the session to watch. The server stops when it closes.
        port: the TCP port; 0 picks a free one (read it back from ``server.port``).
        host: the address to listen on. The default serves this machine only; ``"0.0.0.0"``
            serves every interface: do that only behind a firewall, the endpoint has no
            authentication.
        process_metrics: also serve the process's CPU, memory and open files (``process_*``,
            on Linux).

    Returns:
        The running server: ``.url`` is the scrape target, ``.close()`` stops it early.

    Raises:
        ImportError: ``prometheus_client`` is not installed (the ``metrics`` extra).
        SessionClosedError: the session has already closed.
        OSError: the port cannot be bound (in use, or not allowed).
        ValueError: a port outside 0..65535.

    Example:
        >>> session.auto_exit(keypair, ls.SendTargetRpc(url=MY_RPC))
        >>> ls.serve_metrics(session, port=9464)  # http://127.0.0.1:9464/metrics
        >>> session.run_forever()
    """
    check_int(port, "port", 0, 65535)
    _check_open(session)
    try:
        from prometheus_client import CollectorRegistry, ProcessCollector, make_wsgi_app
    except ImportError:
        raise ImportError(INSTALL_HINT, name="prometheus_client") from None
    from .collector import Latencies, SessionCollector

    registry = CollectorRegistry(auto_describe=False)
    latencies = Latencies(registry)
    registry.register(SessionCollector(session))
    if process_metrics:
        ProcessCollector(registry=registry)
    server = MetricsServer(make_wsgi_app(registry), registry, host, port)

    def stop(event: Event[Closed]) -> None:
        server.close()

    session.on(Closed, stop)
    session.on(ExitSignalWithTx, latencies.on_signal)
    session.on(ExitLanded, latencies.on_landed)
    if session.closed:  # it closed while the server started: its closed event may have gone by
        server.close()
    return server


def _check_open(session: StreamSession) -> None:
    if session.closed:
        raise SessionClosedError("the session is closed")
