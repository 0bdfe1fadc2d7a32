"""Checks and wiring for ``StreamSession.auto_exit``: keypairs, targets, and the send mode they imply.

The server shapes every exit transaction for one ``send_mode`` (tips for Helius Sender or
Astralane); a transaction shaped for one of them is wasted on the other. So the targets must
agree with each other (any RPC may join either) and with the session's ``send_mode`` and
``tip_lamports``: unset settings are filled in, contradicting ones are a ``ValueError``.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from solders.keypair import Keypair

from ...proto import Configure
from ...tx import SEND_MODE_OF, SendTarget, SendTargetRpc, TxSender
from ...tx.targets import target_list
from ..exits import ExitExecutor, ExitJournal, ExitPolicy

__all__ = [
    "DEFAULT_TIP_LAMPORTS",
    "build_executor",
    "check_keep_warm",
    "check_keypairs",
    "check_targets",
    "check_wallets_covered",
    "send_settings_for",
]

DEFAULT_TIP_LAMPORTS = 1_000_000
"""The tip the official CLI pays with Helius Sender or Astralane (0.001 SOL)."""


def check_keep_warm(keep_warm: Optional[float]) -> Optional[float]:
    """``keep_warm`` as seconds (None: off); a ValueError naming it otherwise."""
    if keep_warm is None:
        return None
    if isinstance(keep_warm, bool) or not isinstance(keep_warm, (int, float)) or not 0 < keep_warm < float("inf"):
        raise ValueError(f"keep_warm must be None or a number of seconds > 0, got {keep_warm!r}")
    return float(keep_warm)


def check_keypairs(keypair: Union[Keypair, Sequence[Keypair]]) -> Dict[str, Keypair]:
    """Signing keypairs by wallet public key; a TypeError for anything else."""
    keypairs = [keypair] if isinstance(keypair, Keypair) else list(keypair)
    if not keypairs or not all(isinstance(k, Keypair) for k in keypairs):
        raise TypeError("keypair must be a solders Keypair (or a list of them), e.g. ls.load_keypair(path)")
    return {str(k.pubkey()): k for k in keypairs}


def check_wallets_covered(keypairs: Dict[str, Keypair], wallets: Sequence[str]) -> List[str]:
    """The session's wallets that have no keypair; a ValueError when none has one.

    A keypair for none of the wallets would refuse every exit signal, one error per signal.
    """
    unkeyed = [w for w in wallets if w not in keypairs]
    if len(unkeyed) == len(wallets):
        raise ValueError(
            f"keypair is the key of {', '.join(keypairs)}, which is not one of the session's wallets "
            f"({', '.join(wallets)}): auto_exit could sign none of their exits; add the wallet to the "
            "session first (wallets=, update_wallets or register_and_connect)"
        )
    return unkeyed


def check_targets(
    targets: Union[SendTarget, Sequence[SendTarget]], confirm_rpc: Optional[str]
) -> Tuple[List[SendTarget], str]:
    """The targets as a list, and the RPC URL to confirm on (the first RPC target by default)."""
    chosen = target_list(targets)
    if confirm_rpc is None:
        rpcs = [t.url for t in chosen if isinstance(t, SendTargetRpc)]
        if not rpcs:
            raise ValueError("confirm_rpc is required when no target is an RPC (Helius Sender and Astralane only send)")
        confirm_rpc = rpcs[0]
    if not isinstance(confirm_rpc, str) or not confirm_rpc.startswith(("http://", "https://")):
        raise ValueError("confirm_rpc must be an http:// or https:// RPC URL")
    return chosen, confirm_rpc


def send_settings_for(targets: Sequence[SendTarget], intent: Configure) -> Dict[str, object]:
    """The ``send_mode``/``tip_lamports`` the session must take for ``targets`` (only changes).

    Raises:
        ValueError: targets shaped for different senders, or a session setting that contradicts
            them.
    """
    modes = {SEND_MODE_OF[type(t)] for t in targets} - {"rpc"}
    if len(modes) > 1:
        raise ValueError(
            f"targets mix {' and '.join(sorted(modes))}: the server shapes each transaction for one of them"
        )
    mode = modes.pop() if modes else "rpc"
    changes: Dict[str, object] = {}
    if intent.send_mode is None:
        changes["send_mode"] = mode
    elif intent.send_mode != mode:
        raise ValueError(
            f"the session's send_mode is {intent.send_mode!r} but the targets need {mode!r}; "
            f"pass send_mode={mode!r} (or matching targets)"
        )
    if mode != "rpc":
        if intent.tip_lamports is None:
            changes["tip_lamports"] = DEFAULT_TIP_LAMPORTS
        elif intent.tip_lamports == 0:
            raise ValueError(f"send_mode {mode!r} needs a tip; the session's tip_lamports is 0")
    return changes


def build_executor(
    keypair: Union[Keypair, Sequence[Keypair]],
    targets: Union[SendTarget, Sequence[SendTarget]],
    confirm_rpc: Optional[str],
    policy: ExitPolicy,
    *,
    sender: Optional[TxSender],
    journal: Optional[Union[str, os.PathLike[str]]],
    keep_warm: Optional[float],
    intent: Configure,
    request: Callable[..., Any],
    publish: Callable[[Any], None],
    publish_error: Callable[..., None],
) -> Tuple[ExitExecutor, Dict[str, object]]:
    """Check ``auto_exit``'s arguments and build its executor; also the send settings it implies.

    Every check runs before the journal is opened or a sender made, so bad input leaves nothing
    behind.
    """
    keypairs = check_keypairs(keypair)
    unkeyed = check_wallets_covered(keypairs, intent.wallet_pubkeys)
    chosen, rpc = check_targets(targets, confirm_rpc)
    warm = check_keep_warm(keep_warm)
    changes = send_settings_for(chosen, intent)
    opened = ExitJournal(journal) if journal is not None else None
    owned = sender if sender is not None else TxSender(timeout=5.0, connect_timeout=1.0)
    executor = ExitExecutor(
        keypairs=keypairs,
        targets=chosen,
        confirm_rpc=rpc,
        policy=policy,
        sender=owned,
        request=request,
        publish=publish,
        publish_error=publish_error,
        journal=opened,
        keep_warm=warm,
        unkeyed=unkeyed,
    )
    return executor, changes
