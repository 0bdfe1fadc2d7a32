"""The embedded LaserSell simulator: a deterministic stand-in for the service on 127.0.0.1.

Needs the ``simulator`` extra (``websockets``). ``with Simulator(seed=1, scenario="pump") as sim:``
gives ``sim.stream_url``, ``sim.api_url``, ``sim.rpc_url``, ``sim.api_key`` and a funded test wallet
``sim.wallet`` (a solders ``Keypair``).
"""

from __future__ import annotations

from .market import SCENARIOS
from .sim import DEFAULT_LIMITS, Simulator
from .strategy import ExitDecision, PositionState, evaluate, pnl_pct

__all__ = ["DEFAULT_LIMITS", "SCENARIOS", "ExitDecision", "PositionState", "Simulator", "evaluate", "pnl_pct"]
