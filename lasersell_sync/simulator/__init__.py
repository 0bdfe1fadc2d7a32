"""The embedded LaserSell simulator: a deterministic stand-in for the service on 127.0.0.1.

Needs the ``simulator`` extra (``websockets``). ``with Simulator(seed=1, scenario="pump") as sim:``
gives ``sim.stream_url``, ``sim.api_url``, ``sim.rpc_url``, ``sim.api_key`` and a funded test wallet
``sim.wallet`` (a solders ``Keypair``). Transactions sent to ``sim.rpc_url`` land on a simulated
chain a slot later; ``sim.settlements()`` lists what landed and ``sim.faults`` breaks things.
"""

from __future__ import annotations

from .._exports import public_names as _public_names
from .chain import (
    FORCED_FAILURE_ERROR as FORCED_FAILURE_ERROR,
    INSUFFICIENT_FUNDS_ERROR as INSUFFICIENT_FUNDS_ERROR,
    SLIPPAGE_ERROR as SLIPPAGE_ERROR,
    Settlement as Settlement,
)
from .engine import DEFAULT_SLIPPAGE_BPS as DEFAULT_SLIPPAGE_BPS
from .faults import Faults as Faults
from .market import SCENARIOS as SCENARIOS
from .sim import DEFAULT_LIMITS as DEFAULT_LIMITS, Simulator as Simulator
from .strategy import (
    ExitDecision as ExitDecision,
    PositionState as PositionState,
    evaluate as evaluate,
    pnl_pct as pnl_pct,
)

__all__ = _public_names(globals())
