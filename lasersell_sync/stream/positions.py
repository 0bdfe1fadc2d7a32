"""The position book: handles keyed by token account, updated in arrival order.

Only the reader thread writes (before the event is dispatched), so a handler always sees state
at least as new as its event. Readers on any thread take the lock and get immutable handles.
A position's identity is its token account; the server's position id is its current alias, so
a ``position_opened`` for a tracked token account (after a reconnect) refreshes the handle.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import attrs

from ..proto import (
    ExitSignalWithTx,
    LiquiditySnapshot,
    MarketContext,
    PositionClosed,
    PositionOpened,
    SlippageBand,
)
from .routes import Book

__all__ = ["PositionBook", "PositionHandle", "PositionRef"]


@attrs.frozen(kw_only=True)
class PositionHandle:
    """What is known about a tracked position, from its ``position_opened``."""

    position_id: int
    token_account: str
    wallet_pubkey: str
    mint: str
    token_program: Optional[str]
    tokens: int
    entry_quote_units: int
    market_context: Optional[MarketContext]
    token_name: Optional[str]
    token_symbol: Optional[str]
    token_decimals: Optional[int]
    token_price_quote: Optional[int]
    market_cap_quote: Optional[int]
    pool_liquidity_quote: Optional[int]
    opened_at_ms: Optional[int]
    watched: bool
    mirror_source: Optional[str]

    @property
    def market_type(self) -> Optional[str]:
        """The wire spelling (``pump_fun``, ...), or None without a market context."""
        return self.market_context.market_type if self.market_context is not None else None

    @classmethod
    def from_opened(cls, message: PositionOpened) -> PositionHandle:
        """The handle a ``position_opened`` describes: each of its fields, copied from the message."""
        return cls(**{name: getattr(message, name) for name in _HANDLE_FIELDS})


_HANDLE_FIELDS = tuple(field.name for field in attrs.fields(PositionHandle))
"""Every field of a handle; each is a field of ``PositionOpened`` of the same name."""


PositionRef = Union[PositionHandle, int, str]
"""A position as users name it: a handle, a position id, or a token account."""


def _nothing(message: Any) -> None:
    return None


class PositionBook:
    """Tracked positions and their latest liquidity snapshot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_account: Dict[str, PositionHandle] = {}
        self._by_id: Dict[int, PositionHandle] = {}
        self._liquidity: Dict[int, LiquiditySnapshot] = {}
        self._actions: Dict[Book, Callable[[Any], Optional[PositionHandle]]] = {
            Book.NONE: _nothing,
            Book.LOOKUP: self._lookup,
            Book.LIQUIDITY: self._store_liquidity,
            Book.SIGNAL: self._signal,
            Book.OPEN: self._open,
            Book.CLOSE: self._close,
        }

    @property
    def by_id(self) -> Dict[int, PositionHandle]:
        """The live id -> handle map, for the reader thread's lookups (do not mutate it)."""
        return self._by_id

    def apply(self, message: Any, action: Book) -> Optional[PositionHandle]:
        """Do what the message's route says to the book; return the handle its event carries."""
        return self._actions[action](message)

    def _lookup(self, message: Any) -> Optional[PositionHandle]:
        return self._by_id.get(message.position_id)

    def _store_liquidity(self, message: LiquiditySnapshot) -> Optional[PositionHandle]:
        with self._lock:
            self._liquidity[message.position_id] = message
        return self._by_id.get(message.position_id)

    def _signal(self, message: ExitSignalWithTx) -> Optional[PositionHandle]:
        handle = self._by_id.get(message.position_id)
        if handle is None and message.token_account is not None:
            handle = self._by_account.get(message.token_account)
        return handle

    def _open(self, message: PositionOpened) -> PositionHandle:
        handle = PositionHandle.from_opened(message)
        with self._lock:
            old = self._by_account.get(handle.token_account)
            if old is not None and self._by_id.get(old.position_id) is old:
                del self._by_id[old.position_id]
            self._by_account[handle.token_account] = handle
            self._by_id[handle.position_id] = handle
        return handle

    def _close(self, message: PositionClosed) -> Optional[PositionHandle]:
        with self._lock:
            handle = self._by_id.get(message.position_id)
            if handle is None and message.token_account is not None:
                handle = self._by_account.get(message.token_account)
            if handle is None:
                return None
            del self._by_account[handle.token_account]
            if self._by_id.get(handle.position_id) is handle:
                del self._by_id[handle.position_id]
            self._liquidity.pop(handle.position_id, None)
            self._liquidity.pop(message.position_id, None)
            return handle

    # -- queries (any thread) -------------------------------------------------------------

    def resolve(self, ref: PositionRef) -> Optional[PositionHandle]:
        """The tracked handle for a handle, id or token account, or None."""
        with self._lock:
            if isinstance(ref, PositionHandle):
                return self._by_account.get(ref.token_account)
            if isinstance(ref, bool):
                return None
            if isinstance(ref, int):
                return self._by_id.get(ref)
            return self._by_account.get(ref)

    def all(self) -> List[PositionHandle]:
        """Every tracked position, in the order they were first opened."""
        with self._lock:
            return list(self._by_account.values())

    def for_wallet_mint(self, wallet: str, mint: str) -> List[PositionHandle]:
        """The tracked positions of one wallet in one mint."""
        with self._lock:
            return [h for h in self._by_account.values() if h.wallet_pubkey == wallet and h.mint == mint]

    def snapshot(self, ref: PositionRef) -> Optional[LiquiditySnapshot]:
        """The latest liquidity snapshot of a position, or None (untracked, or none received yet)."""
        handle = self.resolve(ref)
        if handle is not None:
            position_id = handle.position_id
        elif type(ref) is int:
            position_id = ref
        else:
            return None
        with self._lock:
            return self._liquidity.get(position_id)

    def bands(self, ref: PositionRef) -> Optional[Tuple[SlippageBand, ...]]:
        """The slippage bands of the latest snapshot, or None without one."""
        snapshot = self.snapshot(ref)
        return snapshot.bands if snapshot is not None else None

    def max_sell_at_slippage(self, ref: PositionRef, slippage_bps: int) -> Optional[int]:
        """``max_tokens`` of the widest band whose slippage does not exceed ``slippage_bps``."""
        bands = self.bands(ref)
        if not bands:
            return None
        fitting = [band for band in bands if band.slippage_bps <= slippage_bps]
        if not fitting:
            return None
        return max(fitting, key=lambda band: band.slippage_bps).max_tokens

    def liquidity_trend(self, ref: PositionRef) -> Optional[str]:
        """The latest snapshot's trend (``growing``, ``stable``, ``draining``), or None without one."""
        snapshot = self.snapshot(ref)
        return snapshot.liquidity_trend if snapshot is not None else None
