"""The embedded LaserSell simulator: a deterministic stand-in for the service on 127.0.0.1."""

from __future__ import annotations

from .strategy import ExitDecision, PositionState, evaluate, pnl_pct

__all__ = ["ExitDecision", "PositionState", "evaluate", "pnl_pct"]
