"""The exit journal: the ledger in SQLite, so a crash cannot make the next run sell a tranche again.

Every attempt is committed (WAL, ``synchronous=FULL``) before its transaction is sent, with its
signature, blockhash and signed bytes; its verdicts and its tranche's outcome follow. On start
the executor reads it back and settles every open attempt (re-sending the same bytes, which
cannot sell twice) before any signal of that position acts. The file is locked for as long as
one executor uses it, so two bots cannot share it. A file that is not a journal, or one written
by a newer version, is refused with :class:`~lasersell_sync.errors.JournalError`; it is never
reset. Settled positions older than a week are pruned at open.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from typing import Any, Dict, List, Tuple

from ...errors import JournalError
from .ledger import Attempt, AttemptState, Phase, PositionLedger, Tranche
from .messages import AttemptRef, Signal

__all__ = ["ExitJournal"]

APPLICATION_ID = 0x4C534A31  # "LSJ1": a lasersell_sync exit journal
SCHEMA_VERSION = 1
RETENTION_SECONDS = 7 * 24 * 3600

_SCHEMA = """
CREATE TABLE tranches (
    position_key TEXT NOT NULL,
    tranche TEXT NOT NULL,
    position_id INTEGER NOT NULL,
    token_account TEXT,
    mint TEXT NOT NULL,
    wallet TEXT NOT NULL,
    sell_tokens INTEGER,
    level_index INTEGER,
    phase TEXT NOT NULL,
    round INTEGER NOT NULL,
    base INTEGER NOT NULL,
    first_received REAL NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (position_key, tranche)
);
CREATE TABLE attempts (
    position_key TEXT NOT NULL,
    tranche TEXT NOT NULL,
    number INTEGER NOT NULL,
    signature TEXT NOT NULL,
    blockhash TEXT NOT NULL,
    tx_b64 TEXT NOT NULL,
    slippage_bps INTEGER,
    state TEXT NOT NULL,
    slot INTEGER,
    err TEXT,
    sent_at REAL NOT NULL,
    PRIMARY KEY (position_key, tranche, number)
);
"""
# Read back: an attempt that may have been sent is live until a status call settles it again.
_RESTORED_STATE = {
    "unsent": AttemptState.LIVE,
    "live": AttemptState.LIVE,
    "landed": AttemptState.LANDED,
    "confirmed": AttemptState.LANDED,
    "failed": AttemptState.FAILED,
    "expired": AttemptState.EXPIRED,
    "never_sent": AttemptState.NEVER_SENT,
}


class ExitJournal:
    """One SQLite file, used by one executor at a time (the shell serialises every call).

    Raises:
        JournalError: at open, when the file cannot be used (see the module docstring).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        try:
            self._db = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open the exit journal {self.path!r}: {exc}", path=self.path) from None
        try:
            self._prepare()
        except sqlite3.Error as exc:
            self._db.close()
            raise JournalError(_explain(exc, self.path), path=self.path) from None
        except JournalError:
            self._db.close()
            raise

    def __repr__(self) -> str:
        return f"<ExitJournal {self.path!r}>"

    def _prepare(self) -> None:
        db = self._db
        db.execute("PRAGMA locking_mode=EXCLUSIVE")  # one executor per journal, held until close
        app = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if app == 0 and version == 0 and not tables:
            if db.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
                raise JournalError(f"the exit journal {self.path!r} cannot use WAL mode", path=self.path)
            db.execute("BEGIN IMMEDIATE")
            db.executescript(_SCHEMA)  # executescript commits
            db.execute(f"PRAGMA application_id={APPLICATION_ID}")
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        elif app != APPLICATION_ID:
            raise JournalError(f"{self.path!r} is not a lasersell_sync exit journal", path=self.path)
        elif version > SCHEMA_VERSION:
            raise JournalError(
                f"the exit journal {self.path!r} was written by a newer lasersell_sync (schema {version})",
                path=self.path,
            )
        elif not {"tranches", "attempts"} <= tables:
            raise JournalError(f"the exit journal {self.path!r} is damaged: tables are missing", path=self.path)
        else:
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("BEGIN IMMEDIATE")  # takes the lock now: a second bot fails here, not mid-sell
        old = [
            row[0]
            for row in db.execute(
                "SELECT position_key FROM tranches GROUP BY position_key"
                " HAVING SUM(phase NOT IN ('sold', 'failed')) = 0 AND MAX(updated) < ?",
                (time.time() - RETENTION_SECONDS,),
            )
        ]
        for key in old:
            db.execute("DELETE FROM attempts WHERE position_key = ?", (key,))
            db.execute("DELETE FROM tranches WHERE position_key = ?", (key,))
        db.execute("COMMIT")

    # -- reading back ----------------------------------------------------------------------------

    def load(self, now: float) -> List[PositionLedger]:
        """The ledger as it was left, with wall times turned into the caller's monotonic ``now``."""
        skew = now - time.time()
        attempts: Dict[Tuple[str, str], List[Attempt]] = {}
        try:
            for row in self._db.execute(
                "SELECT position_key, tranche, number, signature, blockhash, tx_b64, slippage_bps, state, slot, err"
                " FROM attempts ORDER BY position_key, tranche, number"
            ):
                key, tranche, number, signature, blockhash, tx_b64, slippage, state, slot, err = row
                attempts.setdefault((key, tranche), []).append(
                    Attempt(
                        number=number,
                        slippage_bps=slippage,
                        state=_RESTORED_STATE[state],
                        signature=signature,
                        blockhash=blockhash,
                        tx_b64=tx_b64,
                        slot=slot,
                        err=json.loads(err) if err is not None else None,
                        expiry_due=True,
                    )
                )
            rows = self._db.execute(
                "SELECT position_key, tranche, position_id, token_account, mint, wallet, sell_tokens, level_index,"
                " phase, round, base, first_received FROM tranches ORDER BY position_key, tranche"
            ).fetchall()
        except (sqlite3.Error, KeyError, ValueError) as exc:
            raise JournalError(f"cannot read the exit journal {self.path!r}: {exc}", path=self.path) from None
        positions: Dict[str, PositionLedger] = {}
        for key, tranche, position_id, account, mint, wallet, sell_tokens, level, phase, rnd, base, first in rows:
            pos = positions.setdefault(
                key, PositionLedger(key=key, position_id=position_id, token_account=account, mint=mint)
            )
            signal = Signal(
                key=key,
                position_id=position_id,
                token_account=account,
                mint=mint,
                wallet=wallet,
                sell_tokens=sell_tokens,
                level_index=level,
                received_at=first + skew,
            )
            restored = Tranche(
                id=tranche,
                phase=Phase(phase),
                signal=signal,
                first_received=first + skew,
                attempts=attempts.get((key, tranche), []),
                round=rnd,
                base=base,
            )
            if restored.phase is Phase.SOLD:  # its landing was final: nothing to look at again
                for a in restored.attempts:
                    if a.state is AttemptState.LANDED:
                        a.state = AttemptState.CONFIRMED
            pos.tranches[tranche] = restored
        return list(positions.values())

    # -- writing ---------------------------------------------------------------------------------

    def record_attempt(self, pos: PositionLedger, t: Tranche, a: Attempt, now: float) -> None:
        """Commit a new attempt (and its tranche) durably; raises JournalError if it cannot."""
        wall = time.time()
        s = t.signal
        try:
            self._db.execute("BEGIN IMMEDIATE")
            first = wall - (now - t.first_received)
            self._db.execute(
                "INSERT INTO tranches VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'selling', ?, ?, ?, ?)"
                " ON CONFLICT (position_key, tranche) DO UPDATE SET position_id = excluded.position_id,"
                " phase = 'selling', round = excluded.round, base = excluded.base, updated = excluded.updated",
                (
                    pos.key,
                    t.id,
                    pos.position_id,
                    pos.token_account,
                    pos.mint,
                    s.wallet,
                    s.sell_tokens,
                    s.level_index,
                    t.round,
                    t.base,
                    first,
                    wall,
                ),
            )
            self._db.execute(
                "INSERT OR REPLACE INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?, 'unsent', NULL, NULL, ?)",
                (pos.key, t.id, a.number, a.signature, a.blockhash, a.tx_b64, a.slippage_bps, wall),
            )
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise JournalError(f"cannot write the exit journal {self.path!r}: {exc}", path=self.path) from None

    def update(self, what: str, ref: AttemptRef, fields: Dict[str, Any]) -> None:
        """Record an attempt's verdict (``state``) or a tranche's outcome (``outcome``)."""
        try:
            if what == "state":
                err = fields.get("err")
                shown = json.dumps(err) if err is not None else None
                self._db.execute(
                    "UPDATE attempts SET state = ?, slot = COALESCE(?, slot), err = ?"
                    " WHERE position_key = ? AND tranche = ? AND number = ?",
                    (fields["state"], fields.get("slot"), shown, ref.key, ref.tranche, ref.number),
                )
            else:
                self._db.execute(
                    "UPDATE tranches SET phase = ?, updated = ? WHERE position_key = ? AND tranche = ?",
                    (fields["phase"], time.time(), ref.key, ref.tranche),
                )
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write the exit journal {self.path!r}: {exc}", path=self.path) from None

    def forget(self, key: str) -> None:
        """Drop a position that has closed and settled."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM attempts WHERE position_key = ?", (key,))
            self._db.execute("DELETE FROM tranches WHERE position_key = ?", (key,))
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise JournalError(f"cannot write the exit journal {self.path!r}: {exc}", path=self.path) from None

    def close(self) -> None:
        """Release the file (and its lock)."""
        self._db.close()

    def _rollback(self) -> None:
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def _explain(exc: sqlite3.Error, path: str) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"the exit journal {path!r} is in use by another process (one bot per journal)"
    if "not a database" in text or "malformed" in text:
        return f"{path!r} is not a readable exit journal ({text}); it is left as it is"
    return f"cannot use the exit journal {path!r}: {text}"
