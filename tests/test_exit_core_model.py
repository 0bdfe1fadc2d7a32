"""The exit core against a model chain and server, in interleavings hypothesis generates.

The core (``ExitCore``) has no I/O, so this test plays every part around it: the server (exit
signals from the strategy, answers to ``request_exit_signal``, delivered late, twice or out of
order), two send targets (accepting, refusing, or failing after forwarding), a chain (dropping
transactions, landing them late at each commitment, failing them on chain, expiring their
blockhashes) and a status RPC (answering truthfully, late, or with errors). Timers fire in any
order, and the executor closes at any step. After every step it checks the invariants:

- no tranche sells twice, and no position sells a tranche its strategy did not ask for;
- ``ExitLanded`` only for an attempt that landed at the policy's commitment, once per tranche;
- ``ExitFailed`` only when every attempt is provably dead;
- nothing is signed, sent or requested once closing began, and nothing happens after shutdown;
- at the end, when everything is allowed to settle, every exit ends, and every attempt that
  landed was reported as landed (or, after a shutdown, as unresolved).

The last tests remove one guard of the core at a time and show that this test finds the double
sell the guard prevents (defects 1 to 3 of the issue that asked for the core).
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Set, Tuple, Type

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import Phase as Stage
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from lasersell_sync.stream.exits.core import ExitCore
from lasersell_sync.stream.exits.ledger import Tranche
from lasersell_sync.stream.exits.messages import (
    ArmTimer,
    AttemptRef,
    BeginClose,
    BlockhashChecked,
    Broadcast,
    CheckBlockhash,
    Forget,
    Persist,
    Persisted,
    PersistFailed,
    Poll,
    PollFailed,
    PollResult,
    PositionClosed,
    Publish,
    Report,
    RequestSignal,
    SendResult,
    Shutdown,
    Sign,
    Signal,
    Signed,
    SignRefused,
    Timer,
    TimerFired,
)
from lasersell_sync.stream.exits.outcomes import ExitFailed, ExitLanded, ExitUnresolved
from lasersell_sync.stream.exits.policy import ExitPolicy
from lasersell_sync.tx.confirm import COMMITMENTS, SignatureStatus

TTL = 3  # blocks a blockhash stays valid
TOKENS = 1000
LEVELS = (400, 300)  # tokens each ladder level sells
TARGETS = ("a", "b")
FAULTS = (
    "requests_late",
    "requests_lost",
    "hold_back",
    "duplicate",
    "drop",
    "send_errors",
    "chain_stalls",
    "fail",
    "unconfirmed",
    "rpc_down",
    "timers_late",
)
NO_FAULTS = dict.fromkeys(FAULTS, False)
ODD_THINGS = (
    "user_closes_1",
    "user_closes_2",
    "foreign_signal",
    "journal_fails",
    "journal_works",
    "begin_close",
    "shutdown",
    "nothing",
    "nothing",
    "nothing",
)
ONE_THINGS = (
    "deliver",
    "duplicate",
    "answer_request",
    "lose_request",
    "send_ok",
    "send_error_forwarded",
    "send_error_lost",
    "land_ok",
    "land_fail",
    "drop",
    "confirm_one",
    "poll_ok",
    "poll_error",
    "check_truth",
    "check_unknown",
    "timer",
    "new_block",
)
EXAMPLES = int(os.environ.get("LASERSELL_MODEL_EXAMPLES", "150"))
STEPS = int(os.environ.get("LASERSELL_MODEL_STEPS", "60"))


@attrs.define
class Payload:
    """An unsigned transaction the model server built: what it sells, on which blockhash."""

    id: int
    position: int
    tranche: str
    amount: Optional[int]  # None never: a full exit sells the tokens held when it was built
    blockhash: int  # the height it was built at
    foreign: bool = False  # another fee payer: the shell refuses to sign it

    @property
    def signature(self) -> str:
        return f"sig{self.id}"


@attrs.define
class Tx:
    payload: Payload
    in_pool: bool = False  # accepted, may land
    landed: bool = False
    err: Optional[str] = None
    conf: int = 0  # 0 processed, 1 confirmed, 2 finalized
    slot: int = 0
    broadcasts: int = 0


@attrs.define
class ServerPosition:
    id: int
    tokens: int = TOKENS
    fired: Set[str] = attrs.field(factory=set)
    pending: List[str] = attrs.field(factory=list)  # tranches signalled, not sold (oldest first)
    closed: bool = False


class ExitModel(RuleBasedStateMachine):
    """A model chain, server, targets and RPC around one ExitCore."""

    core_class: Type[ExitCore] = ExitCore
    strict = True  # False: only a double (or unasked) sell fails the test

    def expect(self, ok: bool, message: str) -> None:
        """An invariant other than the double sell: enforced unless the test looks for that alone."""
        if self.strict:
            assert ok, message

    def __init__(self) -> None:
        super().__init__()
        self.core: Optional[ExitCore] = None
        self.policy = ExitPolicy()
        self.height = 0
        self.payloads: Dict[int, Payload] = {}
        self.txs: Dict[str, Tx] = {}
        self.positions = {1: ServerPosition(1), 2: ServerPosition(2)}
        self.asked: Dict[int, Set[str]] = {1: set(), 2: set()}
        self.inbox: List[Any] = []
        self.requests: List[RequestSignal] = []
        self.sends: List[Tuple[AttemptRef, str, str]] = []  # (ref, target, signature)
        self.polls: List[Tuple[Poll, Dict[str, bool]]] = []  # with validity as of issue time
        self.checks: List[CheckBlockhash] = []
        self.timers: Dict[int, Timer] = {}
        self.sales: List[Tuple[int, str, str]] = []  # (position, tranche, signature) that sold
        self.events: List[Any] = []
        self.signed: Dict[str, str] = {}  # signature -> tranche
        self.broadcast_sigs: Set[str] = set()
        self.failed_sigs: Set[str] = set()
        self.closing = False
        self.shut = False
        self.now = 0.0
        self.journal_ok = True

    # -- plumbing: feed the core, carry out its actions -------------------------------------------

    def feed(self, event: Any) -> None:
        assert self.core is not None
        self.now += 0.01
        self.run(self.core.handle(event, self.now))

    def run(self, actions: List[Any]) -> None:
        assert self.core is not None
        for action in actions:
            self.expect(not self.shut, f"an action after shutdown: {action}")
            late = self.closing and isinstance(action, (Sign, Broadcast, RequestSignal, CheckBlockhash))
            self.expect(not late, f"{type(action).__name__} after close began")
            if isinstance(action, Sign):
                self.run(self.core.handle(self.sign(action), self.now))
            elif isinstance(action, Persist):
                if action.what == "attempt":
                    follow = Persisted(action.ref) if self.journal_ok else PersistFailed(action.ref, OSError("disk"))
                    self.run(self.core.handle(follow, self.now))
            elif isinstance(action, Broadcast):
                sig = self.sig_of(action.tx_b64)
                self.expect(sig not in self.failed_sigs, "a signature reported dead was sent again")
                self.broadcast_sigs.add(sig)
                self.txs[sig].broadcasts += 1
                self.sends.extend((action.ref, target, sig) for target in TARGETS)
            elif isinstance(action, Poll):
                valid = {bh: self.valid(int(bh[2:])) for bh in action.blockhashes}
                self.polls.append((action, valid))
            elif isinstance(action, CheckBlockhash):
                self.checks.append(action)
            elif isinstance(action, RequestSignal):
                self.requests.append(action)
            elif isinstance(action, ArmTimer):
                self.timers[action.timer.seq] = action.timer
            elif isinstance(action, Publish):
                self.published(action.outcome)
            elif isinstance(action, (Report, Forget)):
                pass
            else:
                raise AssertionError(f"unknown action {action}")

    def sign(self, action: Sign) -> Any:
        payload: Payload = action.signal.payload
        if payload.foreign:
            return SignRefused(action.ref, ValueError("fee payer is someone else"))
        self.signed[payload.signature] = payload.tranche
        self.txs.setdefault(payload.signature, Tx(payload))
        return Signed(action.ref, payload.signature, f"bh{payload.blockhash}", f"tx{payload.id}")

    def sig_of(self, tx_b64: str) -> str:
        return self.payloads[int(tx_b64[2:])].signature

    def valid(self, built_at: int) -> bool:
        return self.height <= built_at + TTL

    def status(self, sig: str) -> Optional[SignatureStatus]:
        tx = self.txs.get(sig)
        if tx is None or not tx.landed:
            return None
        return SignatureStatus(slot=tx.slot, confirmations=None, err=tx.err, confirmation_status=COMMITMENTS[tx.conf])

    def signal(self, payload: Payload) -> Signal:
        return Signal(
            key=f"acct{payload.position}",
            position_id=payload.position,
            token_account=f"acct{payload.position}",
            mint="mint",
            wallet="wallet",
            sell_tokens=None if payload.tranche == "full" else payload.amount,
            level_index=int(payload.tranche[6:]) if payload.tranche.startswith("level:") else None,
            received_at=self.now,
            payload=payload,
        )

    def build(self, position: ServerPosition, tranche: str, *, foreign: bool = False) -> Payload:
        amount = position.tokens if tranche == "full" else LEVELS[int(tranche[6:])]
        payload = Payload(len(self.payloads) + 1, position.id, tranche, amount, self.height, foreign)
        self.payloads[payload.id] = payload
        return payload

    # -- what the core reports: each must be true of the chain ------------------------------------

    def published(self, outcome: Any) -> None:
        self.events.append(outcome)
        if isinstance(outcome, ExitLanded):
            tx = self.txs[outcome.signature]
            self.expect(tx.landed, "ExitLanded for a transaction that never landed")
            self.expect(tx.err is None, "ExitLanded for a transaction that failed on chain")
            self.expect(tx.conf >= COMMITMENTS.index(self.policy.commitment), "ExitLanded below the commitment")
            self.expect(outcome.slot == tx.slot, "ExitLanded with another slot")
        elif isinstance(outcome, ExitFailed):
            for sig in outcome.signatures:
                tx = self.txs[sig]
                if tx.landed:
                    self.expect(tx.err is not None, f"ExitFailed ({outcome.reason}) but {sig} sold")
                elif sig in self.broadcast_sigs:
                    self.expect(
                        not self.valid(tx.payload.blockhash), f"ExitFailed ({outcome.reason}) while {sig} can land"
                    )
                self.failed_sigs.add(sig)

    # -- setup ---------------------------------------------------------------------------------

    @initialize(
        commitment=st.sampled_from(COMMITMENTS),
        journaled=st.booleans(),
        max_retries=st.integers(0, 2),
    )
    def start(self, commitment: str, journaled: bool, max_retries: int) -> None:
        self.policy = ExitPolicy(commitment=commitment, max_retries=max_retries)
        self.core = self.core_class(self.policy, poll_interval=0.2, journaled=journaled)

    def ready(self) -> bool:
        """Started (after a shutdown, events still arrive: the core must ignore them)."""
        return self.core is not None

    # -- the world: a few rules, so that hypothesis reaches deep states ---------------------------

    @rule(position=st.sampled_from([1, 2]), tranche=st.sampled_from(["level:0", "level:1", "full"]))
    @precondition(lambda self: self.ready())
    def strategy_fires(self, position: int, tranche: str) -> None:
        pos = self.positions[position]
        if pos.closed or tranche in pos.fired or pos.tokens == 0:
            return
        pos.fired.add(tranche)
        pos.pending.append(tranche)
        self.asked[position].add(tranche)
        self.inbox.append(self.signal(self.build(pos, tranche)))

    @rule(chosen=st.sets(st.sampled_from(FAULTS), max_size=2))
    @precondition(lambda self: self.ready())
    def time_passes(self, chosen: Set[str]) -> None:
        """Everything pending happens once (with this round's few faults), then a block."""
        faults = {name: name in chosen for name in FAULTS}
        self.round(faults)
        if not faults["chain_stalls"]:
            self.height += 1

    @rule(kind=st.sampled_from(ONE_THINGS), index=st.integers(0, 7))
    @precondition(lambda self: self.ready())
    def one_thing_happens(self, kind: str, index: int) -> None:
        """A single event, picked out of order."""
        if kind in ("deliver", "duplicate") and self.inbox:
            message = self.inbox[index % len(self.inbox)]
            if kind == "deliver":
                self.inbox.remove(message)
                self.feed(message)
            else:
                self.inbox.append(message)
        elif kind in ("answer_request", "lose_request") and self.requests:
            request = self.requests.pop(index % len(self.requests))
            if kind == "answer_request":
                self.answer(request)
        elif kind.startswith("send_") and self.sends:
            ref, target, sig = self.sends.pop(index % len(self.sends))
            if kind != "send_error_lost":
                self.accept(sig)
            self.feed(SendResult(ref, target, None if kind == "send_ok" else ConnectionError("timed out")))
        elif kind in ("land_ok", "land_fail", "drop") and self.pool():
            tx = self.pool()[index % len(self.pool())]
            if kind == "drop":
                tx.in_pool = False
            else:
                self.land_one(tx, fail=kind == "land_fail")
        elif kind == "confirm_one":
            landed = [tx for tx in self.txs.values() if tx.landed and tx.conf < 2]
            if landed:
                landed[index % len(landed)].conf += 1
        elif kind in ("poll_ok", "poll_error") and self.polls:
            poll, valid = self.polls.pop(0)
            if kind == "poll_ok":
                self.feed(PollResult(poll.poll, {sig: self.status(sig) for sig in poll.signatures}, valid))
            else:
                self.feed(PollFailed(poll.poll, ConnectionError("rpc down")))
        elif kind in ("check_truth", "check_unknown") and self.checks:
            check = self.checks.pop(0)
            valid = self.valid(check.signal.payload.blockhash) if kind == "check_truth" else None
            self.feed(BlockhashChecked(check.ref, valid))
        elif kind == "timer" and self.timers:
            self.feed(TimerFired(self.timers.pop(sorted(self.timers)[index % len(self.timers)])))
        elif kind == "new_block":
            self.height += 1

    @rule(kind=st.sampled_from(ODD_THINGS))
    @precondition(lambda self: self.ready())
    def something_odd(self, kind: str) -> None:
        """Rarer things: a user closes a position, a signal for another payer, the journal, closing."""
        if kind == "begin_close" and not self.closing:
            self.feed(BeginClose())
            self.closing = True
        elif kind == "shutdown" and self.closing and not self.shut:
            self.feed(Shutdown())
            self.shut = True
        elif kind.startswith("user_closes"):
            pos = self.positions[int(kind[-1])]
            if not pos.closed:
                pos.closed = True
                self.inbox.append(PositionClosed(f"acct{pos.id}", pos.id))
        elif kind == "foreign_signal" and not self.positions[2].closed:
            self.inbox.append(self.signal(self.build(self.positions[2], "level:1", foreign=True)))
        elif kind.startswith("journal"):
            self.journal_ok = kind == "journal_works"

    # -- helpers -----------------------------------------------------------------------------------

    def round(self, faults: Dict[str, bool]) -> None:
        """One pass over everything pending: server, targets, chain, RPC, timers."""
        if not faults["requests_late"]:
            while self.requests:
                request = self.requests.pop(0)
                if not faults["requests_lost"]:
                    self.answer(request)
        delivering = self.inbox[:1] if faults["hold_back"] else list(self.inbox)
        for message in delivering:
            self.inbox.remove(message)
            self.feed(message)
            if faults["duplicate"] and isinstance(message, Signal):
                self.feed(message)
        while self.sends:
            ref, target, sig = self.sends.pop(0)
            if not faults["drop"]:
                self.accept(sig)
            self.feed(SendResult(ref, target, ConnectionError("timed out") if faults["send_errors"] else None))
        if not faults["chain_stalls"]:
            for tx in self.pool():
                self.land_one(tx, fail=faults["fail"])
        if not faults["unconfirmed"]:
            for tx in self.txs.values():
                tx.conf = 2 if tx.landed else tx.conf
        while self.polls:
            poll, valid = self.polls.pop(0)
            if faults["rpc_down"]:
                self.feed(PollFailed(poll.poll, ConnectionError("rpc down")))
            else:
                self.feed(PollResult(poll.poll, {sig: self.status(sig) for sig in poll.signatures}, valid))
        while self.checks:
            check = self.checks.pop(0)
            self.feed(
                BlockhashChecked(check.ref, None if faults["rpc_down"] else self.valid(check.signal.payload.blockhash))
            )
        if not faults["timers_late"]:
            for seq in sorted(self.timers):
                timer = self.timers.pop(seq, None)
                if timer is not None:
                    self.feed(TimerFired(timer))

    def answer(self, request: RequestSignal) -> None:
        """The server answers ``request_exit_signal``: its pending tranche, else the whole position."""
        pos = self.positions[int(str(request.selector)[4:])]
        if not pos.closed and pos.tokens:
            tranche = pos.pending[0] if pos.pending else "full"
            self.inbox.append(self.signal(self.build(pos, tranche)))

    def accept(self, sig: str) -> None:
        tx = self.txs[sig]
        if not tx.landed and self.valid(tx.payload.blockhash):
            tx.in_pool = True

    def pool(self) -> List[Tx]:
        return [tx for tx in self.txs.values() if tx.in_pool]

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def no_tranche_sells_twice_nor_unasked(self) -> None:
        sold = [(position, tranche) for position, tranche, _ in self.sales]
        assert len(sold) == len(set(sold)), f"a tranche sold twice: {self.sales}"
        for position, tranche in sold:
            assert tranche in self.asked[position], f"position {position} sold {tranche}, which was never asked"

    @invariant()
    def one_landed_event_per_tranche(self) -> None:
        landed = [
            (e.position_id, e.level_index, e.sell_tokens is None) for e in self.events if isinstance(e, ExitLanded)
        ]
        self.expect(len(landed) == len(set(landed)), "ExitLanded twice for one tranche")

    def teardown(self) -> None:
        if self.core is None or not self.strict:
            return
        if not self.shut:
            self.settle()
            for pos in self.core.positions.values():
                for t in pos.tranches.values():
                    assert t.phase.final, f"an exit never ended: {t.id} is {t.phase}"
            reported = {e.signature for e in self.events if isinstance(e, ExitLanded)}
            for _, _, sig in self.sales:
                assert sig in reported, f"{sig} sold but was never reported landed"
        else:
            told = {e.signature for e in self.events if isinstance(e, ExitLanded)}
            told |= {s for e in self.events if isinstance(e, ExitUnresolved) for s in e.signatures}
            for _, _, sig in self.sales:
                assert sig in told, f"{sig} sold but was reported neither landed nor unresolved"

    def settle(self) -> None:
        """Let everything happen, fairly and without faults, one block at a time, until all is decided."""
        assert self.core is not None
        self.journal_ok = True
        for _ in range(200):
            self.round(NO_FAULTS)
            if not (self.core.in_flight() or self.inbox or self.requests or self.sends or self.polls or self.checks):
                return
            self.height += 1  # time passes: what has not landed expires within TTL blocks
        raise AssertionError("the exits did not settle")

    def land_one(self, tx: Tx, fail: bool = False) -> None:
        """The chain takes a transaction from the pool: it lands (sells or fails), or is too old."""
        tx.in_pool = False
        if not self.valid(tx.payload.blockhash):
            return  # too old: a leader drops it
        pos = self.positions[tx.payload.position]
        tx.landed, tx.slot = True, self.height
        amount = tx.payload.amount or 0
        if fail or amount > pos.tokens or amount == 0:
            tx.err = "failed"
            return
        pos.tokens -= amount
        self.sales.append((pos.id, tx.payload.tranche, tx.payload.signature))
        if tx.payload.tranche in pos.pending:
            pos.pending.remove(tx.payload.tranche)
        if pos.tokens == 0 and not pos.closed:
            pos.closed = True
            self.inbox.append(PositionClosed(f"acct{pos.id}", pos.id))


SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)

TestExitCore = ExitModel.TestCase
TestExitCore.settings = SETTINGS


# -- the guards, removed one at a time: the model must find the double sell -------------------


class WithoutStaleAnswers(ExitCore):
    """Defect 1: a late refresh, or any signal of a tranche that sold, starts a new sell."""

    @staticmethod
    def _has_sold(t: Tranche) -> bool:
        return False

    @staticmethod
    def _late_answer(t: Tranche) -> bool:
        return False


class WithoutDeduplication(ExitCore):
    """Defect 2: every signal is its own tranche, so a duplicate is queued and sold again."""

    _ids = 0

    @classmethod
    def _tranche_id(cls, s: Signal) -> str:  # type: ignore[override]
        cls._ids += 1
        return f"{s.tranche}#{cls._ids}"


class WithoutLandedBelowCommitment(ExitCore):
    """Defect 3: a sell that landed but is not yet at the policy's commitment is taken for dead."""

    def _on_chain(self, status: Optional[SignatureStatus]) -> bool:  # type: ignore[override]
        return status is not None and status.reached(self.policy.commitment)


@pytest.mark.parametrize(
    ("broken", "words"),
    [
        (WithoutStaleAnswers, "sold twice"),
        (WithoutDeduplication, "sold twice"),
        (WithoutLandedBelowCommitment, "never asked"),
    ],
)
def test_the_model_catches_each_double_sell_when_its_guard_is_removed(broken: Type[ExitCore], words: str) -> None:
    machine = type(f"ExitModel{broken.__name__}", (ExitModel,), {"core_class": broken, "strict": False})
    with pytest.raises(AssertionError, match=words):
        run_state_machine_as_test(machine, settings=settings(SETTINGS, max_examples=2000, phases=[Stage.generate]))
