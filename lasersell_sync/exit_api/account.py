"""The account endpoints' answers: ``GET /v1/account``, ``GET /v1/history``, ``GET /healthz``.

Decoded with the package's strict converter (exact integers, no coercion) but tolerant where the
service may grow: unknown keys are kept in ``extra``, ``null`` in an optional field is None. What
is required follows the documented schema: a field the docs give as ``number | null`` or
``string | null`` is optional here, the others are required. Timestamps stay the ISO 8601
strings the service sends (so an unexpected format never fails a whole page); the
``*_datetime`` helpers parse them when they can.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple
from urllib.parse import urlencode

import attrs

from .._checks import U64_MAX, check_int, check_pubkey
from ..proto.scalars import I64, U64, optional, unknown_keys

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_HISTORY_LIMIT",
    "AccountInfo",
    "AccountLimits",
    "HealthStatus",
    "TradeHistoryPage",
    "TradeRecord",
    "history_query",
    "iterate_pages",
    "parse_timestamp",
]

MAX_HISTORY_LIMIT = 200
"""The most trades one ``GET /v1/history`` page may hold (the service caps ``limit`` there)."""


@attrs.frozen(kw_only=True)
class AccountLimits:
    """The plan's capacity: wallets per session, open positions per wallet and per session."""

    max_wallets: U64
    max_positions_per_wallet: U64
    max_positions_per_session: U64
    extra: Dict[str, Any] = unknown_keys()


@attrs.frozen(kw_only=True)
class AccountInfo:
    """``GET /v1/account``: the API key's plan and limits, and its registered wallets if listed.

    ``tier`` is 0 (``free``), 1 (``tier_1``) or 2 (``tier_2``) today; other values and names are
    kept as sent. ``wallets`` is None when the service does not list the registered wallets.
    """

    tier: U64
    tier_name: str
    limits: AccountLimits
    wallets: Optional[Tuple[str, ...]] = optional()
    extra: Dict[str, Any] = unknown_keys()


@attrs.frozen(kw_only=True)
class TradeRecord:
    """One closed (or closing) position of ``GET /v1/history``; amounts in the quote's atomic units.

    ``profit_quote_units`` is negative for a loss. ``exit_*``, ``profit_*`` and ``closed_at`` are
    None while the service has no exit for the position; the ``strategy_*`` fields are the
    strategy in force when it opened (None when not recorded).
    """

    id: U64
    session_id: U64
    position_id: U64
    wallet_pubkey: str
    mint: str
    entry_quote_units: U64
    tokens: U64
    opened_at: str
    exit_quote_units: Optional[U64] = optional()
    profit_quote_units: Optional[I64] = optional()
    exit_reason: Optional[str] = optional()
    market_kind: Optional[str] = optional()
    strategy_target_profit_pct: Optional[float] = optional()
    strategy_stop_loss_pct: Optional[float] = optional()
    strategy_trailing_stop_pct: Optional[float] = optional()
    closed_at: Optional[str] = optional()
    extra: Dict[str, Any] = unknown_keys()

    @property
    def opened_at_datetime(self) -> Optional[datetime]:
        """``opened_at`` as an aware datetime (UTC when no offset is given); None if unreadable."""
        return parse_timestamp(self.opened_at)

    @property
    def closed_at_datetime(self) -> Optional[datetime]:
        """``closed_at`` as an aware datetime; None if absent or unreadable."""
        return parse_timestamp(self.closed_at)


@attrs.frozen(kw_only=True)
class TradeHistoryPage:
    """One page of ``GET /v1/history``, most recent trade first.

    ``total`` is the service's estimate of all matching trades (None when it gives none).
    """

    trades: Tuple[TradeRecord, ...]
    total: Optional[U64] = optional()
    extra: Dict[str, Any] = unknown_keys()


@attrs.frozen(kw_only=True)
class HealthStatus:
    """What ``GET /healthz`` said.

    ``ok`` is True for any 2xx answer whose JSON ``status`` (if any) is ``ok``: a 2xx body that is
    not JSON still counts as healthy. A non-2xx answer is ``ok=False`` with ``detail`` (the body
    summarised, secrets removed); only a failure to get any answer raises.
    """

    ok: bool
    http_status: int
    status: Optional[str] = None
    detail: Optional[str] = None


_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def parse_timestamp(text: Optional[str]) -> Optional[datetime]:
    """An ISO 8601 timestamp (``2026-03-07T12:30:00Z``, offsets, fractions) as an aware datetime.

    Python 3.9 and 3.10 read neither ``Z`` nor fractions other than 3 or 6 digits, so both are
    normalised first. Returns None for None or an unreadable value rather than raising.
    """
    if not text:
        return None
    normalised = _FRACTION.sub(lambda m: (m.group(1) + "00000")[:7], text.strip())
    if normalised[-1:] in ("Z", "z"):
        normalised = normalised[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(normalised)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def history_query(
    limit: int, offset: int, mint: Optional[str], wallet: Optional[str], *, limit_name: str = "limit"
) -> str:
    """The query string of ``GET /v1/history`` in the documented order, each value checked first.

    Raises:
        ValueError: naming the bad argument (``limit`` outside 1..200, a negative ``offset``,
            a ``mint``/``wallet`` that is not a base58 public key).
    """
    check_int(limit, limit_name, 1, MAX_HISTORY_LIMIT)
    check_int(offset, "offset", 0, U64_MAX)
    params: List[Tuple[str, Any]] = [("limit", limit), ("offset", offset)]
    if mint is not None:
        params.append(("mint", check_pubkey(mint, "mint")))
    if wallet is not None:
        params.append(("wallet", check_pubkey(wallet, "wallet")))
    return urlencode(params)


_MAX_BARREN_PAGES = 100
"""Pages in a row with no trade not seen before that a growing ``total`` may explain (a bound)."""


def iterate_pages(
    fetch: Callable[[int], TradeHistoryPage], page_size: int, max_trades: Optional[int]
) -> Iterator[TradeRecord]:
    """The trades that had closed when the walk began, from ``fetch(offset)``, each ``id`` once.

    History is most recent first, so trades that close during the walk are added above it and
    push the rest to later offsets; the growth of ``total`` says by how many, and the next
    offset is moved down by as much (any trade already yielded is skipped too). Ends at a short
    or empty page, once the offset reaches ``total``, after ``max_trades`` trades (None: no
    cap), or at a full page with no trade not seen before that no growth explains (a server
    that ignores ``offset`` would otherwise be asked for pages forever).
    """
    seen: Set[int] = set()
    walked = 0  # trades of the walk's own list covered so far
    first_total: Optional[int] = None
    newer = 0  # trades that closed after the walk began: they sit above it
    barren = 0
    while max_trades is None or len(seen) < max_trades:
        offset = walked + newer
        page = fetch(offset)
        before = newer
        if page.total is not None:
            first_total = page.total if first_total is None else first_total
            newer = max(0, page.total - first_total)
        fresh = 0
        for index, trade in enumerate(page.trades):
            if offset + index < newer or trade.id in seen:
                continue  # closed after the walk began, or pushed down onto this page
            if max_trades is not None and len(seen) >= max_trades:
                return
            seen.add(trade.id)
            fresh += 1
            yield trade
        walked = max(walked, offset + len(page.trades) - newer)
        if len(page.trades) < page_size or (page.total is not None and offset + len(page.trades) >= page.total):
            return
        barren = 0 if fresh else barren + 1
        if barren and (newer == before or barren > _MAX_BARREN_PAGES):
            logger.warning("GET /v1/history: page at offset %d repeated earlier trades only; stopping", offset)
            return
