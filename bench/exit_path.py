"""The exit path inside the bot: ``python bench/exit_path.py [--signals 300]``.

From an exit signal's arrival on the socket to its signed transaction, base64-encoded, ready for
the send target (the bot stops there: sending is network time), for the full path
(``sign_unsigned_tx`` + ``encode_signed_tx``: decode, sign, re-encode) and the in-place fast path
(``fast_sign``). Real v0 transactions whose fee payer is the bot's keypair; p50/p99 in µs, each
bot in its own process, signals one at a time.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
from pathlib import Path

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import Bot, pct  # noqa: E402
from server import WALLET, BenchServer, frame  # noqa: E402

MEMO = Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")


def unsigned_sell(payer: Keypair) -> str:
    """A v0 transaction the size of a real sell: compute budget, a swap-like instruction, 12 keys."""
    keys = [AccountMeta(payer.pubkey(), is_signer=True, is_writable=True)]
    keys += [AccountMeta(Pubkey.new_unique(), is_signer=False, is_writable=i % 2 == 0) for i in range(11)]
    swap = Instruction(MEMO, bytes(range(40)), keys)
    message = MessageV0.try_compile(payer.pubkey(), [swap], [], Hash.new_unique())
    return base64.b64encode(bytes(VersionedTransaction.populate(message, [Signature.default()]))).decode()


def signal(position_id: int, tx: str) -> bytes:
    body = {
        "type": "exit_signal_with_tx",
        "session_id": 1,
        "position_id": position_id,
        "wallet_pubkey": WALLET,
        "mint": "2" * 32,
        "position_tokens": 1000000,
        "profit_units": 5000000,
        "reason": "target_profit",
        "triggered_at_ms": 1706000000000,
        "unsigned_tx_b64": tx,
    }
    return frame(json.dumps(body, separators=(",", ":")))


def run(path: str, signals: int) -> list:
    server = BenchServer()
    bot = Bot("exit_path", sys.executable, server, "--count", "1" if path == "fast" else "0")
    payer = Keypair.from_seed(bytes(32))  # the bot's keypair
    try:
        for i in range(signals):
            server.signal_raw(60_000 + i, signal(60_000 + i, unsigned_sell(payer)))
            server.wait_reaction(60_000 + i)
    finally:
        bot.stop()
        server.stop()
    assert bot.proc.stderr is not None
    lines = bot.proc.stderr.read().decode().split("\n")
    return [float(line.split()[0]) for line in lines if line and line[0].isdigit()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signals", type=int, default=300)
    options = parser.parse_args()
    print(f"{'path':<36}{'p50 (µs)':>10}{'p99 (µs)':>10}")
    for path, label in (("full", "sign_unsigned_tx + encode_signed_tx"), ("fast", "fast_sign")):
        micros = run(path, options.signals)[10:]  # the first ones warm up the worker threads
        print(f"{label:<36}{statistics.median(micros):>10,.0f}{pct(micros, 0.99):>10,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
