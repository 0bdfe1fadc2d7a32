"""The embedded LaserSell simulator: a deterministic stand-in for the service on 127.0.0.1.

Needs the ``simulator`` extra (``websockets``). ``with Simulator(seed=1, scenario="pump") as sim:``
gives ``sim.stream_url``, ``sim.api_url``, ``sim.rpc_url``, ``sim.api_key`` and a funded test wallet
``sim.wallet`` (a solders ``Keypair``). Transactions sent to ``sim.rpc_url`` land on a simulated
chain a slot later; ``sim.settlements()`` lists what landed and ``sim.faults`` breaks things.
"""

from __future__ import annotations

from .chain import FORCED_FAILURE_ERROR, INSUFFICIENT_FUNDS_ERROR, SLIPPAGE_ERROR, Settlement
from .engine import DEFAULT_SLIPPAGE_BPS
from .faults import Faults
from .market import SCENARIOS
from .sim import DEFAULT_LIMITS, Simulator
from .strategy import ExitDecision, PositionState, evaluate, pnl_pct

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_SLIPPAGE_BPS",
    "FORCED_FAILURE_ERROR",
    "INSUFFICIENT_FUNDS_ERROR",
    "SCENARIOS",
    "SLIPPAGE_ERROR",
    "ExitDecision",
    "Faults",
    "PositionState",
    "Settlement",
    "Simulator",
    "evaluate",
    "pnl_pct",
]
