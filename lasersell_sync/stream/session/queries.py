"""What a :class:`~lasersell_sync.stream.session.stream_session.StreamSession` knows right now, read without I/O.

The position book is updated on the reader thread before any handler sees an event, so these
queries are at least as new as the event being handled.
"""

from __future__ import annotations

import threading
from typing import List, Optional, Tuple

from ...proto import Limits, SlippageBand
from ..positions import PositionBook, PositionHandle, PositionRef
from ..transport.connection import StreamConnection

__all__ = ["SessionQueries"]


class SessionQueries:
    """Connection state and position queries: the base of a session, owning what they read."""

    def __init__(self, conn: StreamConnection, book: PositionBook, ended: threading.Event) -> None:
        self._conn = conn
        self._book = book
        self._ended = ended

    @property
    def connected(self) -> bool:
        """Whether the stream is connected right now."""
        return self._conn.connected

    @property
    def closed(self) -> bool:
        """True once the session has ended: ``close()`` was called or a fatal error ended it."""
        return self._ended.is_set()

    @property
    def limits(self) -> Optional[Limits]:
        """The limits of the current connection's ``hello_ok``, once connected."""
        hello = self._conn.hello
        return hello.limits if hello is not None else None

    def positions(self) -> List[PositionHandle]:
        """Every tracked position."""
        return self._book.all()

    def position(self, position: PositionRef) -> Optional[PositionHandle]:
        """The tracked handle for a position id or token account (or a handle), else None."""
        return self._book.resolve(position)

    def positions_for_wallet_mint(self, wallet: str, mint: str) -> List[PositionHandle]:
        """Tracked positions of one wallet in one token."""
        return self._book.for_wallet_mint(wallet, mint)

    def slippage_bands(self, position: PositionRef) -> Optional[Tuple[SlippageBand, ...]]:
        """The latest liquidity bands of a position, if a snapshot arrived."""
        return self._book.bands(position)

    def max_sell_at_slippage(self, position: PositionRef, slippage_bps: int) -> Optional[int]:
        """Tokens sellable within ``slippage_bps``: the widest band not above it, else None."""
        return self._book.max_sell_at_slippage(position, slippage_bps)

    def liquidity_trend(self, position: PositionRef) -> Optional[str]:
        """The latest liquidity trend of a position (``growing``, ``stable``, ``draining``)."""
        return self._book.liquidity_trend(position)
