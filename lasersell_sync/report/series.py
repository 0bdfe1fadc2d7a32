"""Thin a long price path for drawing, keeping its shape: each bucket's first, lowest and highest point.

A bot that ran for days has millions of prices per position; a chart a few hundred pixels wide
shows no more than a few thousand, and an SVG with every point would be too large to open.
The extremes of every bucket are kept, so no spike the recording holds disappears from the chart.
"""

from __future__ import annotations

from typing import List, Sequence

from .model import PricePoint

__all__ = ["MAX_DRAWN", "thinned"]

MAX_DRAWN = 1500
"""Most points drawn per position (about three per pixel column of a chart)."""


def thinned(prices: Sequence[PricePoint], limit: int = MAX_DRAWN) -> List[PricePoint]:
    """``prices`` (sorted by time) with at most about ``limit`` points; the first and last always kept."""
    if len(prices) <= limit:
        return list(prices)
    buckets = max(1, (limit - 2) // 3)
    size = (len(prices) - 2) / buckets
    kept = [prices[0]]
    for bucket in range(buckets):
        start, stop = 1 + int(bucket * size), 1 + int((bucket + 1) * size)
        chunk = prices[start:stop]
        if not chunk:
            continue
        picks = {id(chunk[0]): chunk[0]}
        low = min(chunk, key=lambda point: point.price)
        high = max(chunk, key=lambda point: point.price)
        picks.setdefault(id(low), low)
        picks.setdefault(id(high), high)
        kept.extend(sorted(picks.values(), key=lambda point: point.t))
    kept.append(prices[-1])
    return kept
