"""The exit executor's rules, with no I/O: events in, actions out (sans-I/O, like h11).

One object holds the ledger and decides everything: which signal starts a sell, which one only
refreshes a sell in flight, which one is stale; when an attempt is dead, landed or undecided;
when to ask for a fresh signal. It has no thread, socket or clock: the shell feeds it events
(with the shell's monotonic ``now``, used only for reported latencies) and carries out the
actions it returns, in order. That is what lets a test drive it through any interleaving.

Why a tranche cannot sell twice:

- a tranche gets a new attempt only once every earlier attempt is provably dead: failed on chain
  at the policy's commitment, or not seen on chain by a status call made *after* the RPC said
  its blockhash had expired (liveness and landing are judged by the same calls, in that order);
- an attempt seen on chain at any commitment is never taken for dead, and the same signed bytes
  are re-broadcast (same signature: a transaction lands once at most);
- a tranche that sold stays in the ledger until its position has closed, so any later signal
  for it is stale; signals are de-duplicated by tranche, and one tranche per position is worked
  on at a time;
- answers to ``request_exit_signal`` are counted, so a late answer to an exit that has ended
  is stale, never a new sell.
"""

from __future__ import annotations

import collections
import logging
from typing import Any, Callable, Dict, List, Optional, Tuple

from ...tx.confirm import SignatureStatus
from . import reports
from .ledger import Attempt, AttemptState, Phase, PositionLedger, Tranche
from .messages import (
    Action,
    ArmTimer,
    AttemptRef,
    BeginClose,
    BlockhashChecked,
    Broadcast,
    CheckBlockhash,
    Event,
    Forget,
    Outcome,
    Persist,
    Persisted,
    PersistFailed,
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
    TimerKind,
)
from .outcomes import ExitStats
from .policy import ExitPolicy
from .watch import PollSchedule, Verdict, Watched, judge

__all__ = ["ExitCore"]

logger = logging.getLogger(__name__)

_TOMBSTONES = 4096  # closed positions remembered, so a straggling signal for one is stale
_REQUESTS_PER_RETRY = 2  # refresh timeouts a fresh signal is waited for (a full exit asks again)
_ACTIVE = (Phase.CHECKING, Phase.SELLING, Phase.REFRESHING)
_ANSWER_REASONS = frozenset({"manual", "sell_now", "manual_sell"})  # how the server labels answers

Found = Tuple[Optional[PositionLedger], Optional[Tranche], Optional[Attempt]]


class ExitCore:
    """The ledger and every rule of the exit executor. Not thread-safe: the shell serialises calls.

    Args:
        policy: retries, commitment and intervals.
        poll_interval: seconds between two status polls while something may land.
        journaled: attempts must be written (``Persist``/``Persisted``) before they are sent.
    """

    def __init__(self, policy: ExitPolicy, *, poll_interval: float = 0.2, journaled: bool = False) -> None:
        self.policy = policy
        self.poll_interval = poll_interval
        self.journaled = journaled
        self.positions: Dict[str, PositionLedger] = {}
        self.closing = False
        self.shut = False
        self.last_status_error: Optional[str] = None
        self._tombstones: collections.OrderedDict[int, None] = collections.OrderedDict()
        self._counts: Dict[str, int] = collections.Counter()
        self._failed_by_reason: Dict[str, int] = collections.Counter()
        self._seq = 0
        self._polls = PollSchedule(poll_interval, self._arm, self._emit)
        self._out: List[Action] = []
        self._now = 0.0

    # -- the one entry point ---------------------------------------------------------------------

    def handle(self, event: Event, now: float) -> List[Action]:
        """Feed one event; returns the actions to carry out, in order (none once shut down)."""
        if self.shut:
            return []
        self._out, self._now = [], now
        handler = _HANDLERS[type(event)]
        handler(self, event)
        return self._out

    def restore(self, ledgers: List[PositionLedger], now: float) -> List[Action]:
        """Adopt positions read back from a journal; their open attempts are watched and re-sent.

        A tranche whose attempts all turned out dead is refreshed (or given up) as if it had
        just died; one that may have landed is settled before any signal of its position acts.
        """
        self._out, self._now = [], now
        for pos in ledgers:
            self.positions[pos.key] = pos
            for t in pos.tranches.values():
                if t.phase.final:
                    pos.sold_out = pos.sold_out or (t.id == "full" and t.phase is Phase.SOLD)
                    continue
                t.phase, pos.active = Phase.SELLING, t.id
                for a in t.live():
                    assert a.tx_b64 is not None
                    self._emit(Broadcast(t.ref(pos.key, a.number), a.tx_b64, first=True))
                    self._arm_attempt_timers(pos, t, a)
                if not t.live():
                    self._attempt_dead(pos, t)
        self._poke()
        return self._out

    # -- reading ---------------------------------------------------------------------------------

    def stats(self) -> ExitStats:
        """The counters, and how many tranches are in flight or queued now."""
        phases = [t.phase for pos in self.positions.values() for t in pos.tranches.values()]
        return ExitStats(
            **self._counts,
            in_flight=sum(1 for p in phases if p in _ACTIVE),
            queued=phases.count(Phase.QUEUED),
            failed_by_reason=dict(self._failed_by_reason),
        )

    def in_flight(self) -> int:
        """Tranches whose outcome is not decided yet (queued ones included)."""
        return sum(1 for pos in self.positions.values() for t in pos.tranches.values() if not t.phase.final)

    def may_land(self) -> int:
        """Attempts that could still land: what ``close()`` waits for."""
        return len(self._watched())

    # -- signals ---------------------------------------------------------------------------------

    def _on_signal(self, s: Signal) -> None:
        self._count("signals")
        if s.position_id in self._tombstones:
            self._stale(s, "its position has closed")
            return
        pos = self.positions.get(s.key)
        if pos is None:
            pos = self.positions[s.key] = PositionLedger(
                key=s.key, position_id=s.position_id, token_account=s.token_account, mint=s.mint
            )
        else:  # the server's id is the position's current alias
            pos.position_id = s.position_id
            pos.token_account = pos.token_account or s.token_account
        self._admit(pos, s)
        t = pos.tranches.get(self._tranche_id(s))
        if t is not None and s.payload is not None and not t.known(s.payload):
            t.payloads.append(s.payload)

    def _admit(self, pos: PositionLedger, s: Signal) -> None:
        """What a signal means for its tranche: a new sell, a refresh, a duplicate, or stale."""
        tranche = self._tranche_id(s)
        t = pos.tranches.get(tranche)
        asked = self._misanswered(pos, s)
        if pos.sold_out:
            self._stale(s, "its position was sold in full")
        elif asked is not None:
            asked.requests_owed -= 1
            logger.warning(
                "position %d: request_exit_signal for %s was answered with an exit of the whole position; not sold",
                pos.position_id,
                asked.id,
            )
            self._stale(s, f"a full exit answering the request for {asked.id}")
        elif t is None:
            t = pos.tranches[tranche] = Tranche(id=tranche, phase=Phase.QUEUED, signal=s, first_received=s.received_at)
            self._enqueue(pos, t)
        elif self._has_sold(t):
            self._stale(s, "its tranche has sold")
        elif t.known(s.payload):  # a copy is never an answer, nor a new sell
            self._stale(s, "a copy of a signal it already had")
        elif t.phase.final:
            if self._late_answer(t):
                t.requests_owed -= 1
                self._stale(s, "it answers a request of an exit that has ended")
            else:  # a new signal for a tranche whose every attempt is dead: a new round
                t.phase, t.signal, t.held, t.first_received = Phase.QUEUED, s, None, s.received_at
                t.round, t.base, t.slippage_bps, t.unresolved_reported = t.round + 1, len(t.attempts), None, False
                self._enqueue(pos, t)
        else:
            if t.requests_owed > 0:
                t.requests_owed -= 1
            if t.phase is Phase.REFRESHING:  # the fresh signal: the next attempt
                t.signal, t.held = s, None
                self._start_attempt(pos, t)
                return
            if t.phase is Phase.QUEUED:
                t.signal = s  # the newer one: a fresher blockhash
            else:  # checked or in flight: kept for a retry, never a second sell
                t.held = s
            self._count("duplicates")

    # The guards, one predicate each (the model-based test removes them one at a time to show
    # that it catches the double sells they prevent).

    @staticmethod
    def _tranche_id(s: Signal) -> str:
        """Signals are de-duplicated by tranche: a signal's tranche id."""
        return s.tranche

    @staticmethod
    def _has_sold(t: Tranche) -> bool:
        """A tranche that sold is never sold again."""
        return t.phase is Phase.SOLD

    @staticmethod
    def _misanswered(pos: PositionLedger, s: Signal) -> Optional[Tranche]:
        """A partial tranche whose refresh this full exit answers (the server had nothing left to
        refresh: a request cannot name its tranche), or None. Selling it would sell more than the
        strategy asked, so it is stale; a full exit the strategy fires has a reason of its own."""
        if s.sell_tokens is not None or s.reason not in _ANSWER_REASONS:
            return None
        return next((t for t in pos.tranches.values() if t.id != "full" and t.requests_owed > 0), None)

    @staticmethod
    def _may_ask_again(t: Tranche) -> bool:
        """Only a full exit asks twice for its refresh (a second answer is a full exit as well)."""
        return t.id == "full"

    @staticmethod
    def _late_answer(t: Tranche) -> bool:
        """A signal answering a request of an exit that has ended is stale."""
        return t.requests_owed > 0

    def _enqueue(self, pos: PositionLedger, t: Tranche) -> None:
        if self.closing or pos.closed:
            t.phase = Phase.FAILED
            self._fail(pos, t, "abandoned" if self.closing else "position_closed", "it arrived too late to be sent")
            return
        t.waited = pos.active is not None
        pos.queue.append(t.id)
        self._next(pos)

    def _stale(self, s: Signal, why: str) -> None:
        self._count("stale")
        logger.debug("exit signal for position %d (%s) ignored: %s", s.position_id, s.tranche, why)

    def _next(self, pos: PositionLedger) -> None:
        """Start the position's next queued tranche, if none is being sold."""
        if pos.active is not None or self.closing or pos.closed or pos.sold_out:
            return
        while pos.queue:
            t = pos.tranches[pos.queue.pop(0)]
            if t.phase is not Phase.QUEUED:
                continue
            pos.active = t.id
            if t.waited:  # it may be old: is its blockhash still valid?
                t.phase = Phase.CHECKING
                self._emit(CheckBlockhash(t.ref(pos.key, len(t.attempts) + 1), t.signal))
            else:
                self._start_attempt(pos, t)
            return

    def _on_blockhash_checked(self, ev: BlockhashChecked) -> None:
        pos, t = self._tranche(ev.ref)
        if pos is None or t is None or t.phase is not Phase.CHECKING or ev.ref.number != len(t.attempts) + 1:
            return
        if t.held is not None:  # a newer signal arrived meanwhile: send that one
            t.signal, t.held = t.held, None
        elif ev.valid is False:
            t.phase, t.request_no = Phase.REFRESHING, 0
            self._request(pos, t)
            return
        self._start_attempt(pos, t)

    # -- one attempt -----------------------------------------------------------------------------

    def _start_attempt(self, pos: PositionLedger, t: Tranche) -> None:
        t.phase = Phase.SELLING
        a = Attempt(number=len(t.attempts) + 1, slippage_bps=t.slippage_bps)
        t.attempts.append(a)
        self._emit(Sign(t.ref(pos.key, a.number), t.signal))

    def _on_signed(self, ev: Signed) -> None:
        pos, t, a = self._find(ev.ref)
        if pos is None or t is None or a is None or a.state is not AttemptState.SIGNING:
            return
        a.signature, a.blockhash, a.tx_b64 = ev.signature, ev.blockhash, ev.tx_b64
        if self.closing or pos.closed:
            self._never_sent(pos, t, a)
        elif self.journaled:
            a.state = AttemptState.UNSENT
            fields = {"signature": a.signature, "blockhash": a.blockhash, "tx_b64": a.tx_b64}
            self._emit(Persist(what="attempt", ref=ev.ref, fields=fields))
        else:
            self._release(pos, t, a)

    def _on_persisted(self, ev: Persisted) -> None:
        pos, t, a = self._find(ev.ref)
        if pos is None or t is None or a is None or a.state is not AttemptState.UNSENT:
            return
        if self.closing or pos.closed:
            self._never_sent(pos, t, a)
        else:
            self._release(pos, t, a)

    def _on_persist_failed(self, ev: PersistFailed) -> None:
        pos, t, a = self._find(ev.ref)
        if pos is None or t is None or a is None or a.state is not AttemptState.UNSENT:
            return
        a.state = AttemptState.NEVER_SENT
        self._emit(Report(ev.error))
        self._fail(pos, t, "journal", f"the journal could not record the attempt, so it was not sent: {ev.error}")

    def _on_sign_refused(self, ev: SignRefused) -> None:
        pos, t, a = self._find(ev.ref)
        if pos is None or t is None or a is None or a.state is not AttemptState.SIGNING:
            return
        a.state = AttemptState.NEVER_SENT
        self._count("refused")
        self._emit(Report(ev.error))
        self._fail(pos, t, "refused", str(ev.error))

    def _never_sent(self, pos: PositionLedger, t: Tranche, a: Attempt) -> None:
        a.state = AttemptState.NEVER_SENT
        self._persist("state", pos, t, a, state=a.state.value)
        self._attempt_dead(pos, t)

    def _release(self, pos: PositionLedger, t: Tranche, a: Attempt) -> None:
        """From here on the attempt may land: send it, watch it, re-send it."""
        assert a.tx_b64 is not None
        a.state = AttemptState.LIVE
        ref = t.ref(pos.key, a.number)
        self._emit(Broadcast(ref, a.tx_b64, first=True))
        self._arm_attempt_timers(pos, t, a)
        if not t.unresolved_reported and a.number == t.base + 1:
            self._arm(TimerKind.UNRESOLVED, self.policy.unresolved_after, ref, tag=t.round)
        self._want_poll()

    def _arm_attempt_timers(self, pos: PositionLedger, t: Tranche, a: Attempt) -> None:
        ref = t.ref(pos.key, a.number)
        self._arm(TimerKind.REBROADCAST, self.policy.rebroadcast_interval, ref)
        self._arm(TimerKind.EXPIRY, self.policy.expiry_check_interval, ref)

    def _on_send_result(self, ev: SendResult) -> None:
        pos, t, a = self._find(ev.ref)
        if pos is None or t is None or a is None or ev.error is not None or a.submitted:
            return
        if a.state.may_land and not t.phase.final:
            a.submitted = True
            self._count("submitted")
            self._publish(reports.submitted(pos, t, a, ev.target))

    # -- watching: polls and their verdicts ------------------------------------------------------

    def _watched(self) -> Watched:
        return [
            (pos, t, a)
            for pos in self.positions.values()
            for t in pos.tranches.values()
            if not t.phase.final
            for a in t.attempts
            if a.state.may_land
        ]

    def _want_poll(self) -> None:
        self._polls.want(self._watched())

    def _poke(self) -> None:
        self._polls.poke(self._watched())

    def _on_poll_result(self, ev: PollResult) -> None:
        if not self._polls.answered(ev.poll):
            return
        self.last_status_error = None
        for pos, t, a in self._watched():
            if a.signature is not None and a.signature in ev.statuses:
                status = ev.statuses[a.signature]
                valid = ev.valid.get(a.blockhash) if a.blockhash is not None else None
                verdict = judge(a, status, valid, on_chain=self._on_chain(status), commitment=self.policy.commitment)
                self._apply(pos, t, a, verdict)
        self._polls.next(self._watched())

    def _on_poll_failed(self, ev: PollFailed) -> None:
        if not self._polls.answered(ev.poll):
            return
        self.last_status_error = str(ev.error)
        self._count("status_errors")
        self._polls.next(self._watched())

    def _apply(self, pos: PositionLedger, t: Tranche, a: Attempt, verdict: Verdict) -> None:
        """Act on what a poll proved about attempt ``a``."""
        ref = t.ref(pos.key, a.number)
        if verdict in (Verdict.SOLD, Verdict.DEAD, Verdict.ON_CHAIN):
            self._persist("state", pos, t, a, state=a.state.value, slot=a.slot, err=a.err)
        if verdict is Verdict.SOLD:
            self._sold(pos, t, a)
        elif verdict is Verdict.DEAD:
            self._attempt_dead(pos, t)
        elif verdict is Verdict.GONE:  # a fork dropped it: send it again, and watch its expiry
            self._arm(TimerKind.REBROADCAST, self.policy.rebroadcast_interval, ref)
        elif verdict is Verdict.VALID:
            self._arm(TimerKind.EXPIRY, self.policy.expiry_check_interval, ref)

    @staticmethod
    def _on_chain(status: Optional[SignatureStatus]) -> bool:
        """Seen on chain at any commitment: from then on it is never taken for dead."""
        return status is not None

    # -- outcomes --------------------------------------------------------------------------------

    def _sold(self, pos: PositionLedger, t: Tranche, a: Attempt) -> None:
        t.phase = Phase.SOLD
        self._count("landed")
        if not a.submitted:  # seen on chain before any target answered
            a.submitted = True
            self._count("submitted")
            self._publish(reports.submitted(pos, t, a, None))
        self._publish(reports.landed(pos, t, a, self._now))
        self._persist("outcome", pos, t, a, phase=t.phase.value)
        if t.id == "full":
            pos.sold_out = True
            for other in list(pos.tranches.values()):
                if other.phase is Phase.QUEUED:
                    self._fail(pos, other, "superseded", "a full exit sold the position first; nothing was sent")
        self._done(pos, t)

    def _attempt_dead(self, pos: PositionLedger, t: Tranche) -> None:
        """The attempt in flight died: retry with a fresh signal, or give up."""
        if t.phase is not Phase.SELLING or t.live():
            return
        if self.closing:
            self._fail(pos, t, "abandoned", "the executor closed before it sold")
        elif pos.closed:
            self._fail(pos, t, "position_closed", "the position closed before it sold")
        elif t.dead_attempts() > self.policy.max_retries:
            self._fail(pos, t, "max_retries", reports.describe_death(t.current))
        else:
            t.slippage_bps = self.policy.slippage_for(t.dead_attempts())
            t.phase, t.held, t.request_no = Phase.REFRESHING, None, 0
            self._count("retries")
            self._request(pos, t)

    def _request(self, pos: PositionLedger, t: Tranche) -> None:
        t.request_no += 1
        t.requests_owed += 1
        ref = t.ref(pos.key, len(t.attempts) + 1)
        self._emit(RequestSignal(pos.selector, t.slippage_bps, ref))
        self._arm(TimerKind.REFRESH, self.policy.refresh_timeout, ref, tag=t.request_no)

    def _fail(self, pos: PositionLedger, t: Tranche, reason: str, error: Optional[str]) -> None:
        t.phase = Phase.FAILED
        self._count("failed")
        self._failed_by_reason[reason] += 1
        self._publish(reports.failed(pos, t, reason, error))
        if t.attempts:
            self._persist("outcome", pos, t, t.attempts[-1], phase=t.phase.value)
        self._done(pos, t)

    def _done(self, pos: PositionLedger, t: Tranche) -> None:
        if pos.active == t.id:
            pos.active = None
        if t.id in pos.queue:
            pos.queue.remove(t.id)
        self._next(pos)
        self._maybe_forget(pos)

    def _maybe_forget(self, pos: PositionLedger) -> None:
        if pos.closed and not pos.busy() and self.positions.get(pos.key) is pos:
            del self.positions[pos.key]
            self._tombstone(pos.position_id)
            self._emit(Forget(pos.key))

    # -- positions, timers, closing --------------------------------------------------------------

    def _on_position_closed(self, ev: PositionClosed) -> None:
        self._tombstone(ev.position_id)
        pos = self.positions.get(ev.key)
        if pos is None:
            return
        pos.closed = True
        for t in list(pos.tranches.values()):
            if t.phase in (Phase.QUEUED, Phase.CHECKING, Phase.REFRESHING):
                self._fail(pos, t, "position_closed", "the position closed before it sold")
        if any(t.live() for t in pos.tranches.values()):
            self._poke()  # most likely our own sell closed it: look now, before deciding anything
        self._maybe_forget(pos)

    def _on_timer(self, ev: TimerFired) -> None:
        timer = ev.timer
        if timer.kind == TimerKind.POLL:
            self._polls.fired(timer, self._watched())
            return
        assert timer.ref is not None
        pos, t, a = self._find(timer.ref)
        if pos is None or t is None:
            return
        if timer.kind == TimerKind.REBROADCAST:
            if a is not None and a.state is AttemptState.LIVE and not self.closing:
                assert a.tx_b64 is not None
                self._count("rebroadcasts")
                self._emit(Broadcast(timer.ref, a.tx_b64, first=False))
                self._arm(TimerKind.REBROADCAST, self.policy.rebroadcast_interval, timer.ref)
        elif timer.kind == TimerKind.EXPIRY:
            if a is not None and a.state is AttemptState.LIVE:
                a.expiry_due = True  # the next poll checks its blockhash (and re-arms this)
            elif a is not None and a.state is AttemptState.LANDED:
                self._arm(TimerKind.EXPIRY, self.policy.expiry_check_interval, timer.ref)
        elif timer.kind == TimerKind.REFRESH:
            current = timer.ref.number == len(t.attempts) + 1 and timer.tag == t.request_no
            if t.phase is Phase.REFRESHING and current:
                self._refresh_lapsed(pos, t, timer.ref)
        elif timer.kind == TimerKind.UNRESOLVED and self._undecided(t, timer.tag):
            t.unresolved_reported = True
            self._count("unresolved")
            why = self.last_status_error or "not seen on chain yet, and its blockhash is still valid"
            self._publish(reports.unresolved(pos, t, "not_confirmed", why))

    def _refresh_lapsed(self, pos: PositionLedger, t: Tranche, ref: AttemptRef) -> None:
        """No fresh signal in time. A full exit asks once more. A partial tranche waits as long
        again without asking: a request cannot name its tranche, and a second one answered after
        the first had sold the tranche would come back as an exit of the whole position."""
        if t.request_no >= _REQUESTS_PER_RETRY:
            waited = _REQUESTS_PER_RETRY * self.policy.refresh_timeout
            self._fail(pos, t, "no_signal", f"no fresh signal within {waited:g} s of request_exit_signal")
        elif self._may_ask_again(t):
            self._request(pos, t)
        else:
            t.request_no += 1
            self._arm(TimerKind.REFRESH, self.policy.refresh_timeout, ref, tag=t.request_no)

    @staticmethod
    def _undecided(t: Tranche, round_: int) -> bool:
        """Still no verdict in this round of the tranche, and not reported as such yet."""
        return t.phase is Phase.SELLING and t.round == round_ and not t.unresolved_reported and bool(t.live())

    def _on_begin_close(self, ev: BeginClose) -> None:
        self._begin_close(look=True)

    def _begin_close(self, *, look: bool) -> None:
        if self.closing:
            return
        self.closing = True
        for pos in list(self.positions.values()):
            for t in list(pos.tranches.values()):
                if t.phase in (Phase.QUEUED, Phase.CHECKING, Phase.REFRESHING):
                    self._fail(pos, t, "abandoned", "the executor closed before it was sent")
                elif t.phase is Phase.SELLING:
                    for a in t.attempts:
                        if a.state in (AttemptState.SIGNING, AttemptState.UNSENT):
                            self._never_sent(pos, t, a)
        if look and self._watched():
            self._poke()  # a last look before close decides anything

    def _on_shutdown(self, ev: Shutdown) -> None:
        self._begin_close(look=False)
        for pos in self.positions.values():
            for t in pos.tranches.values():
                if t.phase is Phase.SELLING:
                    t.phase = Phase.UNRESOLVED
                    self._count("unresolved")
                    why = "the executor closed before it could tell whether the sell landed"
                    self._publish(reports.unresolved(pos, t, "closed", why))
        self.shut = True

    # -- plumbing --------------------------------------------------------------------------------

    def _tranche(self, ref: AttemptRef) -> Tuple[Optional[PositionLedger], Optional[Tranche]]:
        pos = self.positions.get(ref.key)
        return pos, pos.tranches.get(ref.tranche) if pos is not None else None

    def find(self, ref: AttemptRef) -> Found:
        """The position, tranche and attempt a reference names (None where there is none)."""
        return self._find(ref)

    def _find(self, ref: AttemptRef) -> Found:
        pos, t = self._tranche(ref)
        if t is None or not 1 <= ref.number <= len(t.attempts):
            return pos, t, None
        return pos, t, t.attempts[ref.number - 1]

    def _arm(self, kind: str, delay: float, ref: Optional[AttemptRef] = None, *, tag: int = 0) -> Timer:
        self._seq += 1
        timer = Timer(kind=kind, seq=self._seq, ref=ref, tag=tag)
        self._emit(ArmTimer(timer, delay))
        return timer

    def _persist(self, what: str, pos: PositionLedger, t: Tranche, a: Attempt, **fields: object) -> None:
        if self.journaled:
            self._emit(Persist(what=what, ref=t.ref(pos.key, a.number), fields=dict(fields)))

    def _publish(self, outcome: Outcome) -> None:
        self._emit(Publish(outcome))

    def _emit(self, action: Action) -> None:
        self._out.append(action)

    def _count(self, name: str) -> None:
        self._counts[name] += 1

    def _tombstone(self, position_id: int) -> None:
        self._tombstones[position_id] = None
        self._tombstones.move_to_end(position_id)
        while len(self._tombstones) > _TOMBSTONES:
            self._tombstones.popitem(last=False)


_HANDLERS: Dict[type, Callable[[ExitCore, Any], None]] = {
    Signal: ExitCore._on_signal,
    Signed: ExitCore._on_signed,
    SignRefused: ExitCore._on_sign_refused,
    Persisted: ExitCore._on_persisted,
    PersistFailed: ExitCore._on_persist_failed,
    SendResult: ExitCore._on_send_result,
    PollResult: ExitCore._on_poll_result,
    PollFailed: ExitCore._on_poll_failed,
    BlockhashChecked: ExitCore._on_blockhash_checked,
    TimerFired: ExitCore._on_timer,
    PositionClosed: ExitCore._on_position_closed,
    BeginClose: ExitCore._on_begin_close,
    Shutdown: ExitCore._on_shutdown,
}
