"""Seeded price paths: one multiplicative step per tick, shaped by a scenario.

Deterministic: the same seed and scenario always give the same path.
"""

from __future__ import annotations

import random
from typing import Iterator, Tuple

__all__ = ["SCENARIOS", "price_steps"]

SCENARIOS = ("pump", "dump", "rug", "sideways", "grind", "graduation", "mixed")


def price_steps(scenario: str, rng: random.Random) -> Iterator[Tuple[float, bool]]:
    """Yield ``(price multiplier for this tick, graduated this tick)`` forever."""
    if scenario == "mixed":
        scenario = rng.choice(SCENARIOS[:-1])
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r} (expected one of {', '.join(SCENARIOS)})")
    tick = 0
    rug_at = rng.randint(15, 40)
    graduate_at = rng.randint(10, 25)
    while True:
        tick += 1
        noise = rng.gauss(0.0, 0.01)
        if scenario == "pump":
            step = 1.03 + noise if tick < 60 else 0.99 + noise
        elif scenario == "dump":
            step = 0.98 + noise
        elif scenario == "rug":
            step = 0.08 if tick == rug_at else 1.005 + noise
        elif scenario == "sideways":
            step = 1.0 + noise
        elif scenario == "grind":
            step = 1.006 + noise / 4
        else:  # graduation: climbs along the bonding curve, migrates, then trades on the AMM
            step = 1.02 + noise if tick <= graduate_at else 1.0 + noise
        yield max(step, 0.01), scenario == "graduation" and tick == graduate_at
