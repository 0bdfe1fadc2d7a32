"""The simulated chain: a slot clock, recent blockhashes, submitted transactions and what landed.

Time is simulated: one slot every 400 ms of simulated time, so the simulator's ``speed`` scales
it. A blockhash is issued per slot and stays valid for ``ttl_slots`` slots (150 on mainnet). A
transaction accepted at slot ``S`` lands at the first tick of slot ``S + 1`` or later (later
with the ``land_late`` fault), unless it was dropped or its blockhash expired first; it never
lands twice. The chain knows no markets: when a transaction lands it asks ``apply`` (the
simulator's market) what the transaction did. Not thread-safe: the simulator serialises access.

On-chain errors, in the shape ``getSignatureStatuses`` reports them (instruction 0 sets the
compute budget, instruction 1 is the swap):

* ``SLIPPAGE_ERROR`` ``{"InstructionError":[1,{"Custom":6004}]}``: the sell would return less
  than the minimum it committed to (6004 is the PumpSwap program's ``ExceededSlippage``).
* ``INSUFFICIENT_FUNDS_ERROR`` ``{"InstructionError":[1,{"Custom":1}]}``: the token account holds
  fewer tokens than the sell (1 is the SPL Token program's ``InsufficientFunds``).
* ``FORCED_FAILURE_ERROR`` ``{"InstructionError":[0,{"Custom":6000}]}``: the ``fail_transactions``
  fault.
"""

from __future__ import annotations

import collections
import hashlib
import time
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

import attrs
from solders.hash import Hash
from solders.transaction import VersionedTransaction

from .faults import TxFaults
from .txbuild import build_unsigned, read_memo

__all__ = [
    "FORCED_FAILURE_ERROR",
    "INSUFFICIENT_FUNDS_ERROR",
    "SLIPPAGE_ERROR",
    "Chain",
    "Landing",
    "RpcError",
    "Settlement",
    "SimClock",
    "TxIntent",
]

SLOT_MS = 400
GENESIS_MS = 1_706_000_000_000
GENESIS_SLOT = 280_000_000
STATUS_CACHE_SLOTS = 300  # without searchTransactionHistory, older statuses are not found
FINALIZED_DEPTH = 32

SLIPPAGE_ERROR: Dict[str, Any] = {"InstructionError": [1, {"Custom": 6004}]}
INSUFFICIENT_FUNDS_ERROR: Dict[str, Any] = {"InstructionError": [1, {"Custom": 1}]}
FORCED_FAILURE_ERROR: Dict[str, Any] = {"InstructionError": [0, {"Custom": 6000}]}


class RpcError(Exception):
    """A JSON-RPC error answer: ``{"code": code, "message": message}``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SimClock:
    """Simulated time: frozen at genesis until the simulator starts it, then moved by its ticks."""

    def __init__(self) -> None:
        self.now_ms = GENESIS_MS
        self.running = False

    @property
    def slot(self) -> int:
        """The slot the clock is in (no skipped slots, so it is also the block height)."""
        return GENESIS_SLOT + (self.now_ms - GENESIS_MS) // SLOT_MS

    def advance(self, ms: int) -> None:
        """Move simulated time forward."""
        self.now_ms += ms


@attrs.frozen(kw_only=True)
class TxIntent:
    """What a transaction the simulator built does when it lands."""

    kind: str  # "sell" or "buy"
    wallet: str
    account: str  # the API key whose market built it ("" for none)
    ref_id: int  # position id (sell) or mirror buy id (buy); 0: nothing tracked
    amount: int  # tokens to sell, or lamports to spend
    min_out: int = 0  # lamports a sell must return at least (from its slippage)
    slippage_bps: int = 0
    mint: Optional[str] = None
    token_account: Optional[str] = None
    level: Optional[int] = None  # the ladder level a sell is for (None: a full or manual exit)


@attrs.frozen(kw_only=True)
class Landing:
    """What a landed transaction did (the market's answer to the chain)."""

    err: Optional[Dict[str, Any]] = None
    tokens: int = 0
    quote_units: int = 0
    position_id: int = 0
    mint: Optional[str] = None
    token_account: Optional[str] = None


@attrs.frozen(kw_only=True)
class Settlement:
    """One landed transaction, successful or failed on chain (``sim.settlements()``).

    ``tokens`` is what moved: tokens sold (a sell) or bought (a buy); 0 when ``err`` is set.
    ``quote_units`` is the lamports received (sell) or spent (buy). ``err`` is the on-chain
    error as ``getSignatureStatuses`` reports it, None on success; ``ok`` says the same.
    """

    signature: str
    kind: str  # "sell", "buy" or "other" (a transaction the simulator did not build)
    wallet: str
    position_id: int  # 0: not a tracked position
    token_account: Optional[str]
    mint: Optional[str]
    tokens: int
    requested_tokens: int  # what a sell asked to sell (0 for other kinds)
    quote_units: int
    min_quote_units: int  # a sell's slippage floor
    slippage_bps: int
    slot: int
    err: Optional[Dict[str, Any]] = attrs.field(default=None, hash=False)

    @property
    def ok(self) -> bool:
        """True when the transaction succeeded on chain."""
        return self.err is None


@attrs.define
class _Submission:
    signature: str
    wallet: str
    intent: Optional[TxIntent]
    blockhash_slot: int
    land_slot: int
    not_before: float  # time.monotonic()
    fail: bool
    state: str  # pending, landed, dropped, expired
    settlement: Optional[Settlement] = None


def describe_error(err: Dict[str, Any]) -> str:
    """The RPC's wording of an instruction error, for preflight failures."""
    index, detail = err["InstructionError"]
    return f"Error processing Instruction {index}: custom program error: {hex(detail['Custom'])}"


class Chain:
    """Slots, blockhashes, submissions, statuses and settlements of one simulator."""

    def __init__(self, *, seed: int, ttl_slots: int = 150, clock: Optional[SimClock] = None) -> None:
        if isinstance(ttl_slots, bool) or not isinstance(ttl_slots, int) or ttl_slots < 1:
            raise ValueError(f"blockhash_ttl_slots must be an integer >= 1, got {ttl_slots!r}")
        self.clock = clock or SimClock()
        self.ttl_slots = ttl_slots
        self.faults = TxFaults(seed)
        self._seed = seed
        self._blockhashes: Dict[str, int] = {}
        self._issued: Deque[Tuple[int, Hash]] = collections.deque()
        self._intents: Dict[int, TxIntent] = {}
        self._nonce = 0
        self._txs: Dict[str, _Submission] = {}
        self._queue: List[_Submission] = []
        self._settlements: List[Settlement] = []

    # -- blockhashes ---------------------------------------------------------------------------

    def latest_blockhash(self) -> Tuple[Hash, int]:
        """The current slot's blockhash and the last slot (= block height) it is valid in."""
        slot = self.clock.slot
        if not self._issued or self._issued[-1][0] != slot:
            blockhash = Hash(hashlib.sha256(f"lasersell-sim:{self._seed}:{slot}".encode()).digest())
            self._issued.append((slot, blockhash))
            self._blockhashes[str(blockhash)] = slot
            while self._issued[0][0] < slot - self.ttl_slots - 1:  # long invalid: forget them
                self._blockhashes.pop(str(self._issued.popleft()[1]), None)
        return self._issued[-1][1], slot + self.ttl_slots

    def blockhash_valid(self, blockhash: str) -> bool:
        """Whether a transaction with this blockhash can still land."""
        issued = self._blockhashes.get(blockhash)
        return issued is not None and self.clock.slot <= issued + self.ttl_slots

    # -- building ------------------------------------------------------------------------------

    def build(self, intent: TxIntent) -> str:
        """A base64 unsigned transaction doing ``intent``, with the current blockhash."""
        self._nonce += 1
        self._intents[self._nonce] = intent
        blockhash, _ = self.latest_blockhash()
        return build_unsigned(intent.wallet, self._nonce, blockhash)

    def intent_of(self, tx: VersionedTransaction) -> Optional[TxIntent]:
        """What a transaction the simulator built does; None for any other transaction."""
        nonce = read_memo(tx)
        return None if nonce is None else self._intents.get(nonce)

    # -- submitting and landing ----------------------------------------------------------------

    def submit(
        self, tx: VersionedTransaction, *, preflight: Optional[Callable[[TxIntent], Optional[Dict[str, Any]]]] = None
    ) -> str:
        """Accept a signed transaction (signatures already verified); returns its signature.

        A re-send of a pending or landed transaction changes nothing. With ``preflight`` (the
        RPC's ``skipPreflight: false``) problems are RpcErrors instead of silent non-landings.
        """
        signature = str(tx.signatures[0])
        known = self._txs.get(signature)
        if known is not None and known.state in ("pending", "landed"):
            if preflight is not None and known.state == "landed":
                raise RpcError(-32002, "Transaction simulation failed: This transaction has already been processed")
            return signature
        slot = self.clock.slot
        issued = self._blockhashes.get(str(tx.message.recent_blockhash))
        valid = issued is not None and slot <= issued + self.ttl_slots
        intent = self.intent_of(tx)
        if preflight is not None:
            if not valid:
                raise RpcError(-32002, "Transaction simulation failed: Blockhash not found")
            err = preflight(intent) if intent is not None else None
            if err is not None:
                raise RpcError(-32002, f"Transaction simulation failed: {describe_error(err)}")
        decision = self.faults.decide()
        state = "dropped" if decision.drop else "pending" if valid else "expired"
        submission = _Submission(
            signature=signature,
            wallet=str(tx.message.account_keys[0]),
            intent=intent,
            blockhash_slot=issued if issued is not None else -1,
            land_slot=slot + 1,
            not_before=time.monotonic() + decision.late_seconds,
            fail=decision.fail,
            state=state,
        )
        self._txs[signature] = submission
        if state == "pending":
            self._queue.append(submission)
        return signature

    def land_due(self, apply: Callable[[TxIntent, bool], Landing]) -> List[Settlement]:
        """Land every transaction that is due now, in the order they were accepted."""
        slot, now = self.clock.slot, time.monotonic()
        due = [s for s in self._queue if s.land_slot <= slot and s.not_before <= now]
        if not due:
            return []
        self._queue = [s for s in self._queue if not (s.land_slot <= slot and s.not_before <= now)]
        landed = []
        for submission in due:
            if slot > submission.blockhash_slot + self.ttl_slots:
                submission.state = "expired"  # it waited too long: a real cluster drops it
                continue
            landing = self._landing(submission, apply)
            intent = submission.intent
            settlement = Settlement(
                signature=submission.signature,
                kind=intent.kind if intent is not None else "other",
                wallet=submission.wallet,
                position_id=landing.position_id,
                token_account=landing.token_account,
                mint=landing.mint,
                tokens=0 if landing.err else landing.tokens,
                requested_tokens=intent.amount if intent is not None and intent.kind == "sell" else 0,
                quote_units=0 if landing.err else landing.quote_units,
                min_quote_units=intent.min_out if intent is not None else 0,
                slippage_bps=intent.slippage_bps if intent is not None else 0,
                slot=slot,
                err=landing.err,
            )
            submission.state, submission.settlement = "landed", settlement
            self._settlements.append(settlement)
            landed.append(settlement)
        return landed

    @staticmethod
    def _landing(submission: _Submission, apply: Callable[[TxIntent, bool], Landing]) -> Landing:
        intent = submission.intent
        if intent is not None:
            return apply(intent, submission.fail)
        return Landing(err=FORCED_FAILURE_ERROR if submission.fail else None)

    # -- queries ---------------------------------------------------------------------------------

    def status(self, signature: str, search_history: bool = False) -> Optional[Dict[str, Any]]:
        """``getSignatureStatuses`` entry of one signature: None until it lands (and if it never does)."""
        submission = self._txs.get(signature)
        settlement = submission.settlement if submission is not None else None
        if settlement is None:
            return None
        depth = self.clock.slot - settlement.slot
        if not search_history and depth > STATUS_CACHE_SLOTS:
            return None
        if depth >= FINALIZED_DEPTH:
            confirmations, level = None, "finalized"
        else:
            confirmations, level = depth, "confirmed" if depth > 0 else "processed"
        err = settlement.err
        return {
            "slot": settlement.slot,
            "confirmations": confirmations,
            "err": err,
            "status": {"Ok": None} if err is None else {"Err": err},
            "confirmationStatus": level,
        }

    def state(self, signature: str) -> Optional[str]:
        """``pending``, ``landed``, ``dropped`` or ``expired``; None if never submitted."""
        submission = self._txs.get(signature)
        return submission.state if submission is not None else None

    def settlement(self, signature: str) -> Optional[Settlement]:
        """The settlement of one signature, once it landed."""
        submission = self._txs.get(signature)
        return submission.settlement if submission is not None else None

    def settlements(self) -> List[Settlement]:
        """Every landed transaction, in landing order."""
        return list(self._settlements)
