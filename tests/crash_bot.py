"""A bot for the crash test (not a test module): ``auto_exit`` with a journal, events as JSON lines.

It prints ``{"event": ...}`` lines on stdout (``ready``, ``opened``, ``submitted``, ``landed``,
``failed``, ``unresolved``) and runs until stdin closes; the test kills it with SIGKILL.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import Any

from solders.keypair import Keypair

import lasersell_sync as ls

LADDER = ls.StrategyConfig(
    target_profit_pct=0, stop_loss_pct=0, take_profit_levels=(ls.TakeProfitLevel(profit_pct=20, sell_pct=50),)
)
_lock = threading.Lock()


def say(event: str, **fields: Any) -> None:
    with _lock:
        print(json.dumps({"event": event, **fields}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("--stream-url", "--rpc-url", "--api-key", "--journal"):
        parser.add_argument(name, required=True)
    parser.add_argument("--seed", type=int, required=True)
    options = parser.parse_args()
    wallet = Keypair.from_seed(bytes([options.seed % 256]) * 32)  # the simulator's funded wallet
    session = ls.StreamSession(options.api_key, [str(wallet.pubkey())], LADDER, endpoint=options.stream_url)
    session.on(ls.PositionOpened, lambda e: say("opened", position_id=e.message.position_id, tokens=e.message.tokens))
    session.on(ls.ExitSubmitted, lambda e: say("submitted", signature=e.message.signature, attempt=e.message.attempt))
    session.on(ls.ExitLanded, lambda e: say("landed", signature=e.message.signature, attempt=e.message.attempt))
    session.on(ls.ExitFailed, lambda e: say("failed", reason=e.message.reason, signatures=e.message.signatures))
    session.on(ls.ExitUnresolved, lambda e: say("unresolved", reason=e.message.reason))
    session.on(ls.ExitSignalWithTx, lambda e: say("signal", level_index=e.message.level_index))
    policy = ls.ExitPolicy(rebroadcast_interval=0.05, expiry_check_interval=0.05)
    sender = ls.TxSender(poll_interval=0.02)
    session.auto_exit(
        wallet, ls.SendTargetRpc(url=options.rpc_url), policy=policy, sender=sender, journal=options.journal
    )
    with session:
        say("ready")
        for line in sys.stdin:  # until the test closes stdin (or kills us)
            command, _, position = line.strip().partition(" ")
            if command == "sell":
                session.request_exit_signal(int(position))
    return 0


if __name__ == "__main__":
    sys.exit(main())
