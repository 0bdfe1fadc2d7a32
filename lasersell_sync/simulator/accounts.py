"""The simulator's accounts: which API keys it accepts, which wallets are registered, the plan.

Shared by the stream (key check on the upgrade, ``wallet_not_registered``) and the Exit API
(``/v1/wallets/register``, ``DELETE /v1/wallets``, ``GET /v1/account``). One registry serves
every key, and the plan is the one the stream's ``hello_ok`` announces: ``GET /v1/account``
reports its limits and the lowest published tier that covers them.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Tuple

from ..proto import Limits

__all__ = ["TIERS", "Accounts", "tier_of"]

TIERS: Tuple[Tuple[int, str, Tuple[int, int, int]], ...] = (
    (0, "free", (1, 2, 2)),
    (1, "tier_1", (5, 100, 500)),
    (2, "tier_2", (200, 100, 20_000)),
)
"""Published tiers: number, ``tier_name``, (wallets, positions per wallet, positions per session)."""


def tier_of(limits: Limits) -> Tuple[int, str]:
    """The lowest published tier whose limits cover ``limits`` (0 means unlimited); else the top one."""
    wanted = (limits.max_wallets_per_session, limits.max_positions_per_wallet, limits.max_positions_per_session)
    for number, name, allowed in TIERS:
        if all(0 < want <= cap for want, cap in zip(wanted, allowed)):
            return number, name
    return TIERS[-1][0], TIERS[-1][1]


class Accounts:
    """API keys, registered wallets and the plan; thread-safe (endpoint threads call in)."""

    def __init__(
        self,
        *,
        limits: Limits,
        api_keys: Optional[FrozenSet[str]],
        require_registration: bool,
        registered: Iterable[str],
    ) -> None:
        self.limits = limits
        self._api_keys = api_keys
        self._require_registration = require_registration
        self._lock = threading.Lock()
        self._registered: Dict[str, None] = dict.fromkeys(registered)  # in registration order

    def accepts(self, api_key: str) -> bool:
        """Whether ``api_key`` may use the stream and ``/v1/``: any non-empty key, or a listed one."""
        return bool(api_key) and (self._api_keys is None or api_key in self._api_keys)

    def is_registered(self, wallet: str) -> bool:
        """Whether the stream accepts ``wallet`` (always, unless registration is required)."""
        if not self._require_registration:
            return True
        with self._lock:
            return wallet in self._registered

    def register(self, wallet: str) -> None:
        """Record a proved wallet (idempotent)."""
        with self._lock:
            self._registered[wallet] = None

    def unregister(self, wallet: str) -> bool:
        """Forget a wallet; False if it was not registered."""
        with self._lock:
            if wallet not in self._registered:
                return False
            del self._registered[wallet]
            return True

    def wallets(self) -> List[str]:
        """The registered wallets, in registration order."""
        with self._lock:
            return list(self._registered)

    def account(self) -> Dict[str, Any]:
        """The body of ``GET /v1/account``: tier, limits and the registered wallets."""
        tier, name = tier_of(self.limits)
        return {
            "tier": tier,
            "tier_name": name,
            "limits": {
                "max_wallets": self.limits.max_wallets_per_session,
                "max_positions_per_wallet": self.limits.max_positions_per_wallet,
                "max_positions_per_session": self.limits.max_positions_per_session,
            },
            "wallets": self.wallets(),
        }
