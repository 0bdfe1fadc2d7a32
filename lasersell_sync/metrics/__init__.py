"""Prometheus metrics for a session: ``serve_metrics(session, port=9464)``.

Importing this package needs nothing beyond the SDK; serving needs ``prometheus_client`` (the
``metrics`` extra), imported when :func:`serve_metrics` is called. ``serve.py`` builds the
exporter, ``collector.py`` turns ``session.stats()`` into metric families at scrape time,
``server.py`` is the HTTP endpoint and its thread.
"""

from __future__ import annotations

from .._exports import public_names as _public_names
from .serve import serve_metrics as serve_metrics
from .server import MetricsServer as MetricsServer

__all__ = _public_names(globals())
