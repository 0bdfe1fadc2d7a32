"""The state of one exit on its way to a landed sell, and how signals map onto it."""

from __future__ import annotations

from collections import deque
from typing import Any, Deque, Hashable, List, Optional, Tuple, Union

from ..proto import ExitSignalWithTx
from ..tx import Confirmation, TxSender
from ..tx.confirm import Watch
from .exit_types import ExitFailed
from .registry import Event

__all__ = ["ACTIVE", "Exit", "exit_key", "failed_event", "landed_attempt", "tranche_of"]

ACTIVE = ("sending", "confirming", "proving")
"""States in which a sell may still land: ``close()`` waits for them."""


class Exit:
    """One tranche of one position on its way to a landed sell."""

    def __init__(self, key: str, event: Event[ExitSignalWithTx]) -> None:
        message = event.message
        self.key = key
        self.position_id = message.position_id
        self.token_account = event.handle.token_account if event.handle is not None else message.token_account
        self.mint = message.mint
        self.tranche = tranche_of(message)
        self.partial = message.sell_tokens is not None
        self.sell_tokens = message.sell_tokens
        self.level_index = message.level_index
        self.first_received = event.received_at
        self.attempt = 1
        self.slippage: Optional[int] = None  # None: as the signal was built
        self.signatures: List[Tuple[str, str]] = []  # (signature, blockhash) of every attempt
        self.state = "sending"
        self.watch: Optional[Watch] = None
        self.held: Optional[Event[ExitSignalWithTx]] = None
        self.queue: Deque[Event[ExitSignalWithTx]] = deque()
        self.last_error: Optional[str] = None
        self.prove_until = 0.0

    @property
    def selector(self) -> Union[str, int]:
        """How to name the position in ``request_exit_signal``: its token account when known."""
        return self.token_account if self.token_account is not None else self.position_id


def tranche_of(message: ExitSignalWithTx) -> Hashable:
    """Signals for the same tranche refresh each other; a different tranche is a different sell."""
    return ("partial", message.level_index, message.sell_tokens) if message.sell_tokens is not None else "full"


def exit_key(event: Event[Any]) -> str:
    """Exits are keyed by token account (stable across reconnects), else by position id."""
    handle = event.handle
    account = handle.token_account if handle is not None else getattr(event.message, "token_account", None)
    return account if account is not None else f"#{event.message.position_id}"


def failed_event(ex: Exit, reason: str, error: Optional[str]) -> ExitFailed:
    """The ``exit_failed`` event of an exit."""
    return ExitFailed(
        position_id=ex.position_id,
        token_account=ex.token_account,
        mint=ex.mint,
        reason=reason,
        attempts=ex.attempt,
        error=error,
        signature=ex.signatures[-1][0] if ex.signatures else None,
        level_index=ex.level_index,
    )


def landed_attempt(sender: TxSender, rpc_url: str, ex: Exit, commitment: str) -> Optional[Confirmation]:
    """The attempt of this tranche that landed, if any (one status call for all of them).

    Raises:
        TxSubmitError: the RPC could not answer.
    """
    signatures = [signature for signature, _ in ex.signatures]
    if not signatures:
        return None
    for signature, status in zip(signatures, sender.signature_statuses(rpc_url, signatures)):
        if status is not None and status.err is None and status.reached(commitment):
            return Confirmation(
                signature=signature, outcome="landed", slot=status.slot, confirmation_status=status.confirmation_status
            )
    return None
