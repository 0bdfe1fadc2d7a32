"""What ``auto_exit(journal=...)`` adds before each send: ``python bench/journal_write.py [--dir PATH]``.

Every attempt is committed to the SQLite journal (WAL, ``synchronous=FULL``: an fsync) before
its transaction goes out. This times that commit, p50/p99 over ``--writes`` attempts with a
signed transaction of a real sell's size, in a journal in ``--dir`` (default: the current
directory, so the figure is the disk the bot would use).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from lasersell_sync.stream.exits.journal import ExitJournal  # noqa: E402
from lasersell_sync.stream.exits.ledger import Attempt, Phase, PositionLedger, Tranche  # noqa: E402
from lasersell_sync.stream.exits.messages import Signal  # noqa: E402

TX_B64 = "A" * 1200  # a signed sell, base64: about 900 bytes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=500)
    parser.add_argument("--dir", default=".", help="where the journal goes (its disk is what is measured)")
    options = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="journal-bench-", dir=options.dir)
    path = os.path.join(folder, "exits.db")
    journal = ExitJournal(path)
    times = []
    try:
        for i in range(options.writes):
            now = time.monotonic()
            signal = Signal(
                key=f"acct{i}",
                position_id=i,
                token_account=f"acct{i}",
                mint="mint",
                wallet="wallet",
                sell_tokens=None,
                level_index=None,
                received_at=now,
            )
            pos = PositionLedger(key=f"acct{i}", position_id=i, token_account=f"acct{i}", mint="mint")
            tranche = Tranche(id="full", phase=Phase.SELLING, signal=signal, first_received=now)
            attempt = Attempt(number=1, slippage_bps=None, signature=f"sig{i}", blockhash="hash", tx_b64=TX_B64)
            started = time.perf_counter()
            journal.record_attempt(pos, tranche, attempt, now)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        journal.close()
        for name in os.listdir(folder):
            os.remove(os.path.join(folder, name))
        os.rmdir(folder)
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    print(f"journal commit before a send, {options.writes} writes in {options.dir}:")
    print(f"  p50 {statistics.median(times):.3f} ms, p99 {p99:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
