"""Seeded price paths: one multiplicative step per tick, shaped by a scenario.

Deterministic: the same generator gives the same path. Each position draws from its own
generator (:func:`keyed_rng`), keyed by the seed, the scenario and which position it is, so its
path does not depend on what happens to other positions, on the bot's trades or on when ticks
run in wall-clock time.
"""

from __future__ import annotations

import hashlib
import random
from typing import Iterator, Tuple, Union

__all__ = ["SCENARIOS", "keyed_rng", "price_steps"]

SCENARIOS = ("pump", "dump", "rug", "sideways", "grind", "graduation", "mixed")


def keyed_rng(seed: int, *key: Union[int, str]) -> random.Random:
    """A random generator for one part of the market, named by ``key`` rather than by turn.

    One shared generator would hand out draws in the order things happen, so a bot selling
    sooner (fewer ticks of a position, so fewer draws) would change every later token's entry
    and path. A generator per part, derived from the seed and the part's name, keeps each part
    the same whatever else happens. The derivation is a SHA-256, stable across Python versions
    and processes (unlike ``hash()``).
    """
    name = ":".join(str(part) for part in (seed, *key))
    digest = hashlib.sha256(f"lasersell-sim-market:{name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def price_steps(scenario: str, rng: random.Random) -> Iterator[Tuple[float, bool]]:
    """Yield ``(price multiplier for this tick, graduated this tick)`` forever.

    ``rng`` must belong to this path alone: every draw of the path comes from it, one tick at a
    time, so the n-th step depends only on the generator and n.
    """
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
