"""The exit executor against the embedded simulator: real signatures, a real RPC, a real chain clock.

Every outcome is proven on the simulator's ledger (``sim.settlements()``): one successful sell
per tranche, never two. Nothing waits by sleeping: tests wait on the executor's events and on
the simulator's own clock. Where an ordering decides the outcome, the simulator holds it still:
``sim.pause()`` freezes the chain, ``hang_rpc`` holds requests and ``hold_signals`` holds exit
signals, each until the test lets go. The numbered tests stage the defects of the issue that
rebuilt the executor, one each.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Callable, Iterator, List, Optional, Sequence

import pytest
from solders.keypair import Keypair

import lasersell_sync as ls
from lasersell_sync.simulator import FORCED_FAILURE_ERROR, Settlement, Simulator
from tests.txbuild import foreign_signal

HOLD = ls.StrategyConfig(target_profit_pct=100_000, stop_loss_pct=0)  # never exits by itself
LADDER = ls.StrategyConfig(
    target_profit_pct=0, stop_loss_pct=0, take_profit_levels=(ls.TakeProfitLevel(profit_pct=20, sell_pct=50),)
)
LADDER2 = ls.StrategyConfig(
    target_profit_pct=0,
    stop_loss_pct=0,
    take_profit_levels=(
        ls.TakeProfitLevel(profit_pct=20, sell_pct=25),
        ls.TakeProfitLevel(profit_pct=40, sell_pct=25),
    ),
)
# Quick re-sends and checks; no timer decides an outcome unless a test says so.
PATIENT = ls.ExitPolicy(
    refresh_timeout=60.0, rebroadcast_interval=0.05, expiry_check_interval=0.05, unresolved_after=60.0
)
WAIT = 15.0


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=3, scenario="sideways", speed=50, max_positions=1, blockhash_ttl_slots=10_000) as simulator:
        yield simulator


class Bot:
    """A session with ``auto_exit`` whose executor events land in queues."""

    def __init__(
        self,
        sim: Simulator,
        *,
        policy: ls.ExitPolicy = PATIENT,
        strategy: ls.StrategyConfig = HOLD,
        keypair: Optional[Keypair] = None,
        targets: Optional[Sequence[ls.tx.SendTarget]] = None,
        before_exit: Optional[Callable[[Any], Any]] = None,
        sender: Optional[ls.TxSender] = None,
        wallets: Sequence[str] = (),
    ) -> None:
        self.sim = sim
        watched = [sim.wallet_pubkey, *wallets]
        self.session = ls.StreamSession(sim.api_key, watched, strategy, endpoint=sim.stream_url)
        if before_exit is not None:  # runs before the executor sees the signal
            self.session.on(ls.ExitSignalWithTx, before_exit)
        self.opened: queue.Queue[ls.PositionOpened] = queue.Queue()
        self.submitted: queue.Queue[ls.ExitSubmitted] = queue.Queue()
        self.landed: queue.Queue[ls.ExitLanded] = queue.Queue()
        self.failed: queue.Queue[ls.ExitFailed] = queue.Queue()
        self.unresolved: queue.Queue[ls.ExitUnresolved] = queue.Queue()
        self.closed: queue.Queue[ls.PositionClosed] = queue.Queue()
        self.errors: queue.Queue[BaseException] = queue.Queue()
        self.names: List[str] = []
        self.executor = self.session.auto_exit(
            keypair or sim.wallet,
            list(targets or [ls.SendTargetRpc(url=sim.rpc_url)]),
            policy=policy,
            sender=sender or ls.TxSender(poll_interval=0.02),
        )
        self.signals: queue.Queue[ls.ExitSignalWithTx] = queue.Queue()
        for kind, into in (
            (ls.PositionOpened, self.opened),
            (ls.ExitSubmitted, self.submitted),
            (ls.ExitLanded, self.landed),
            (ls.ExitFailed, self.failed),
            (ls.ExitUnresolved, self.unresolved),
            (ls.PositionClosed, self.closed),
            (ls.ExitSignalWithTx, self.signals),  # after the executor's own handler for the event
        ):
            self.session.on(kind, lambda event, into=into: into.put(event.message))
        self.session.on_any(lambda event: self.names.append(event.type))
        self.session.on_error(lambda error, event: self.errors.put(error))

    def __enter__(self) -> Bot:
        self.session.connect()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.session.close()

    def position(self) -> ls.PositionOpened:
        return self.opened.get(timeout=WAIT)

    def sell(self, position: ls.PositionOpened, slippage_bps: Optional[int] = None) -> None:
        """Ask for an exit signal: the executor takes it from there."""
        self.session.request_exit_signal(position.token_account, slippage_bps=slippage_bps)

    def stats(self) -> ls.ExitStats:
        return self.executor.stats()


def sells(sim: Simulator, position_id: int) -> List[Settlement]:
    return [s for s in sim.settlements() if s.kind == "sell" and s.position_id == position_id]


def signature_of(signal: ls.ExitSignalWithTx, keypair: Keypair) -> str:
    """The signature the executor gives this signal's transaction (signing is deterministic)."""
    return str(ls.sign_unsigned_tx(signal.unsigned_tx_b64, keypair).signatures[0])


def our_threads() -> List[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("lasersell-") and "-sim-" not in t.name]


# -- the path of one exit ---------------------------------------------------------------------


def test_an_exit_signal_becomes_one_confirmed_sell(sim: Simulator) -> None:
    with Bot(sim) as bot:
        position = bot.position()
        bot.sell(position)
        submitted = bot.submitted.get(timeout=WAIT)
        landed = bot.landed.get(timeout=WAIT)
        stats = bot.session.stats().exits
    assert (submitted.position_id, submitted.attempt, submitted.targets) == (position.position_id, 1, ("rpc",))
    assert (landed.signature, landed.attempt, landed.slippage_bps) == (submitted.signature, 1, None)
    assert landed.latency_ms > 0
    (sale,) = sells(sim, position.position_id)
    assert (sale.ok, sale.signature, sale.slot, sale.tokens) == (True, landed.signature, landed.slot, position.tokens)
    assert stats is not None
    assert (stats.signals, stats.submitted, stats.landed, stats.failed, stats.in_flight) == (1, 1, 1, 0, 0)


def test_a_dropped_sell_is_rebroadcast_with_the_same_signature(sim: Simulator) -> None:
    with Bot(sim) as bot:
        position = bot.position()
        sim.faults.drop_transactions(1.0, count=1)
        bot.sell(position)
        submitted = bot.submitted.get(timeout=WAIT)
        landed = bot.landed.get(timeout=WAIT)
        stats = bot.stats()
    assert (landed.signature, landed.attempt) == (submitted.signature, 1)
    assert stats.rebroadcasts >= 1
    assert stats.retries == 0
    assert [s.signature for s in sells(sim, position.position_id)] == [submitted.signature]


def test_a_sell_that_fails_on_chain_is_retried_and_reported_as_the_attempt_that_landed(sim: Simulator) -> None:
    # defect 5: ExitLanded reports the landed attempt's own signature, slippage and number
    with Bot(sim) as bot:
        position = bot.position()
        sim.faults.fail_transactions(1.0, count=1)
        bot.sell(position)
        first, second = bot.submitted.get(timeout=WAIT), bot.submitted.get(timeout=WAIT)
        landed = bot.landed.get(timeout=WAIT)
    assert (first.attempt, first.slippage_bps) == (1, None)
    assert (second.attempt, second.slippage_bps) == (2, 2020)  # 2000 pad + the 20 bps first bump
    assert (landed.signature, landed.attempt, landed.slippage_bps) == (second.signature, 2, 2020)
    outcomes = [(s.signature, s.err) for s in sells(sim, position.position_id)]
    assert outcomes == [(first.signature, FORCED_FAILURE_ERROR), (second.signature, None)]


def test_a_newer_signal_refreshes_the_sell_in_flight_instead_of_starting_another(sim: Simulator) -> None:
    # the chain freezes as the first signal arrives: nothing lands until both were handled
    with Bot(sim, before_exit=lambda event: sim.pause()) as bot:
        position = bot.position()
        bot.sell(position)
        bot.signals.get(timeout=WAIT)
        submitted = bot.submitted.get(timeout=WAIT)
        bot.sell(position, slippage_bps=900)
        bot.signals.get(timeout=WAIT)  # handled by the executor before it reached this queue
        sim.resume()
        landed = bot.landed.get(timeout=WAIT)
        assert bot.submitted.empty()
        duplicates = bot.stats().duplicates
    assert landed.signature == submitted.signature
    assert duplicates == 1
    assert [s.signature for s in sells(sim, position.position_id)] == [submitted.signature]


def test_a_sell_that_keeps_failing_ends_in_exit_failed_listing_every_attempt(sim: Simulator) -> None:
    with Bot(sim) as bot:
        position = bot.position()
        sim.faults.fail_transactions(1.0)
        bot.sell(position)
        failed = bot.failed.get(timeout=WAIT)
        assert bot.landed.empty()
    assert (failed.reason, failed.attempts, failed.position_id) == ("max_retries", 3, position.position_id)
    assert "6000" in (failed.error or "")
    sold = sells(sim, position.position_id)
    assert failed.signatures == tuple(s.signature for s in sold)
    assert [(s.ok, s.err, s.slippage_bps) for s in sold] == [
        (False, FORCED_FAILURE_ERROR, 2000),  # the signal's own slippage (the server's default)
        (False, FORCED_FAILURE_ERROR, 2020),
        (False, FORCED_FAILURE_ERROR, 2060),
    ]


def test_a_ladder_tranche_is_retried_only_once_its_blockhash_expired() -> None:
    # 150 slots at speed 50 is 1.2 s: every copy of the first attempt is dropped until it expires
    with Simulator(seed=3, scenario="sideways", speed=50, max_positions=1, blockhash_ttl_slots=150) as sim:
        with Bot(sim, strategy=LADDER) as bot:
            still_valid: List[bool] = []
            signals: List[ls.ExitSignalWithTx] = []
            bot.session.on(ls.ExitSignalWithTx, lambda event: signals.append(event.message))

            @bot.session.on(ls.ExitSubmitted)
            def retried(event: ls.Event[ls.ExitSubmitted]) -> None:
                if event.message.attempt == 2:  # was the first attempt provably dead by now?
                    first_tx = ls.tx.decode_unsigned_tx(signals[0].unsigned_tx_b64)
                    still_valid.append(ls.tx.is_blockhash_valid(sim.rpc_url, ls.tx.recent_blockhash(first_tx)))

            sim.faults.drop_transactions(1.0)
            position = bot.position()
            assert sim.faults.move_price(1.6, position.position_id) == 1
            first_signature = None
            while first_signature is None:  # the first attempt never lands: it is not accepted
                first_signature = signature_of(bot.signals.get(timeout=WAIT), sim.wallet)
            assert sim.wait_for(lambda: sim.transaction_state(first_signature) is not None, WAIT)
            # the retry's fresh transaction may land: stop dropping once a fresh signal is asked for
            assert sim.wait_for(lambda: sim.commands_received("request_exit_signal") >= 1, WAIT)
            sim.faults.drop_transactions(0.0)
            landed = bot.landed.get(timeout=WAIT)
        (sale,) = sells(sim, position.position_id)
    assert still_valid == [False]
    assert landed.attempt == 2
    assert sale.signature == landed.signature != first_signature


def test_a_transaction_with_another_fee_payer_is_refused_and_never_sent(sim: Simulator) -> None:
    with Bot(sim) as bot:
        bot.position()
        sim.faults.push_raw([foreign_signal(sim.wallet_pubkey, 424242, Keypair())])
        failed = bot.failed.get(timeout=WAIT)
        error = bot.errors.get(timeout=WAIT)
        stats = bot.stats()
    assert (failed.position_id, failed.reason, failed.attempts, failed.signatures) == (424242, "refused", 1, ())
    assert "fee payer" in (failed.error or "")
    assert isinstance(error, ls.ExitRefusedError)
    assert (stats.submitted, stats.refused) == (0, 1)
    assert stats.failed_by_reason == {"refused": 1}
    assert not sim.settlements()


def test_a_keypair_for_none_of_the_wallets_is_refused_at_auto_exit(sim: Simulator) -> None:
    session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], HOLD, endpoint=sim.stream_url)
    stranger = Keypair()
    with pytest.raises(ValueError, match="not one of the session's wallets") as info:
        session.auto_exit(stranger, ls.SendTargetRpc(url=sim.rpc_url))
    assert f"keypair is the key of {stranger.pubkey()}, which is not one of the session's wallets" in str(info.value)
    assert sim.wallet_pubkey in str(info.value)
    session.auto_exit(sim.wallet, ls.SendTargetRpc(url=sim.rpc_url))  # nothing was half set up
    session.close()


def test_a_wallet_without_its_keypair_is_warned_about_once_not_once_per_signal(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    other = Keypair()  # the bot holds the key of its second wallet only
    caplog.set_level(logging.WARNING, logger="lasersell_sync")
    with Bot(sim, keypair=other, wallets=[str(other.pubkey())]) as bot:
        position = bot.position()
        for _ in range(3):
            bot.sell(position)
            bot.signals.get(timeout=WAIT)  # the user's handlers still see every signal
    warned = [r for r in caplog.records if "has no keypair for wallet" in r.getMessage()]
    assert [r.getMessage() for r in warned] == [
        f"auto_exit has no keypair for wallet {sim.wallet_pubkey}: its exit signals are left to your handlers"
    ]
    assert bot.errors.empty()  # no "unhandled error" line per signal
    assert bot.failed.empty()
    assert (bot.stats().unkeyed, bot.stats().signals, bot.stats().refused) == (3, 0, 0)
    assert not sells(sim, position.position_id)


def test_fan_out_to_two_targets_lands_once(sim: Simulator) -> None:
    targets = [ls.SendTargetRpc(url=sim.rpc_url), ls.SendTargetRpc(url=sim.rpc_url_for("second"))]
    with Bot(sim, targets=targets) as bot:
        position = bot.position()
        bot.sell(position)
        submitted = bot.submitted.get(timeout=WAIT)
        landed = bot.landed.get(timeout=WAIT)
        assert bot.submitted.empty()  # one event per attempt, at the first acceptance
    assert submitted.targets == ("rpc",)
    assert landed.signature == submitted.signature
    assert [s.signature for s in sells(sim, position.position_id)] == [submitted.signature]


def test_exit_events_reach_events_iterators_too(sim: Simulator) -> None:
    with Bot(sim) as bot:
        events = bot.session.events()
        position = bot.position()
        bot.sell(position)
        bot.landed.get(timeout=WAIT)
        names = []
        while (event := events.get(timeout=0)) is not None:
            names.append(event.type)
        events.close()
    assert names.index("exit_signal_with_tx") < names.index("exit_submitted") < names.index("exit_landed")


# -- the defects, one test each ------------------------------------------------------------------


def _hold_the_first_answer(sim: Simulator) -> Callable[[Any], None]:
    """A before-exit handler: from the first signal on, the next exit signal (the answer to the
    executor's first request_exit_signal) is held back until the test releases it."""
    seen: List[int] = []

    def before_exit(event: ls.Event[ls.ExitSignalWithTx]) -> None:
        seen.append(1)
        if len(seen) == 1:
            sim.faults.hold_signals(1)

    return before_exit


REFRESH = ls.ExitPolicy(refresh_timeout=0.2, rebroadcast_interval=0.05, expiry_check_interval=0.05)


def test_1_a_late_refresh_never_sells_a_full_exit_twice(sim: Simulator) -> None:
    # attempt 1 fails on chain; the answer to the first request_exit_signal is held back past
    # refresh_timeout, so the executor asks again and sells the second answer; then the first
    # one arrives, after the exit has ended
    with Bot(sim, policy=REFRESH, before_exit=_hold_the_first_answer(sim)) as bot:
        sim.faults.fail_transactions(1.0, count=1)
        position = bot.position()
        bot.sell(position)
        landed = bot.landed.get(timeout=WAIT)
        assert sim.faults.release_signals() == 1
        late = [bot.signals.get(timeout=WAIT) for _ in range(3)][-1]  # handled by the executor by now
        stats = bot.stats()
        assert bot.failed.empty()
    assert late.sell_tokens is None
    assert landed.attempt == 2
    assert stats.stale == 1
    assert sim.commands_received("request_exit_signal") == 1 + 2  # the bot's, and two refreshes
    outcomes = [s.ok for s in sells(sim, position.position_id)]
    assert outcomes == [False, True]


def test_1_a_late_refresh_never_sells_a_ladder_tranche_after_its_exit_ended(sim: Simulator) -> None:
    # a partial tranche never asks twice (a second answer could be a full exit): it waits two
    # refresh timeouts, fails, and the answer that comes later is stale, not a new sell
    with Bot(sim, policy=REFRESH, strategy=LADDER, before_exit=_hold_the_first_answer(sim)) as bot:
        sim.faults.fail_transactions(1.0, count=1)
        position = bot.position()
        assert sim.faults.move_price(1.6, position.position_id) == 1
        failed = bot.failed.get(timeout=WAIT)
        assert sim.faults.release_signals() == 1
        late = [bot.signals.get(timeout=WAIT) for _ in range(2)][-1]
        stats = bot.stats()
        assert bot.submitted.qsize() <= 1
        assert bot.landed.empty()
    assert (failed.reason, failed.attempts, failed.level_index) == ("no_signal", 1, 0)
    assert late.level_index == 0
    assert stats.stale == 1
    assert sim.commands_received("request_exit_signal") == 1
    assert [s.ok for s in sells(sim, position.position_id)] == [False]


def test_2_a_duplicated_tranche_signal_is_sold_once(sim: Simulator) -> None:
    # sends hang, so level 0 stays in flight while level 1 fires; each signal arrives twice
    with Bot(sim, strategy=LADDER2) as bot:
        sim.faults.hang_rpc("sendTransaction")
        sim.faults.duplicate_signals(2)
        position = bot.position()
        assert sim.faults.move_price(1.6, position.position_id) == 1
        signals = [bot.signals.get(timeout=WAIT) for _ in range(4)]
        sim.faults.heal_rpc()
        landed = [bot.landed.get(timeout=WAIT), bot.landed.get(timeout=WAIT)]
        stats = bot.stats()
    assert sorted(s.level_index for s in signals) == [0, 0, 1, 1]
    assert sorted(e.level_index for e in landed) == [0, 1]
    # each copy is the very transaction the executor already has (in flight, or queued)
    assert (stats.stale, stats.duplicates) == (2, 0)
    level1 = next(s for s in signals if s.level_index == 1)
    sold = [(s.ok, s.tokens) for s in sells(sim, position.position_id)]
    assert sold == [(True, signals[0].sell_tokens), (True, level1.sell_tokens)]


def test_3_a_tranche_that_landed_below_the_commitment_is_never_taken_for_dead() -> None:
    # finalized takes 32 slots; the blockhash lives 20: it expires while the sell is landed
    # but not final, and the executor checks it then. It must wait, not sell again.
    policy = ls.ExitPolicy(commitment="finalized", rebroadcast_interval=0.05, expiry_check_interval=0.02)
    with Simulator(seed=3, scenario="sideways", speed=50, max_positions=1, blockhash_ttl_slots=20) as sim:
        with Bot(sim, policy=policy, strategy=LADDER) as bot:
            position = bot.position()
            assert sim.faults.move_price(1.6, position.position_id) == 1
            submitted = bot.submitted.get(timeout=WAIT)
            landed = bot.landed.get(timeout=WAIT)
            stats = bot.stats()
            assert bot.submitted.empty()
        (sale,) = sells(sim, position.position_id)
    assert (landed.signature, landed.attempt, sale.signature) == (submitted.signature, 1, submitted.signature)
    assert stats.retries == 0
    assert sale.tokens < position.tokens  # half of it: the other half was never sold


def test_3_a_queued_tranche_whose_blockhash_expired_is_refreshed_not_sent() -> None:
    with Simulator(seed=3, scenario="sideways", speed=50, max_positions=1, blockhash_ttl_slots=20) as sim:
        with Bot(sim, strategy=LADDER2) as bot:
            sim.faults.hang_rpc("sendTransaction")  # level 0 stays in flight, level 1 waits in the queue
            position = bot.position()
            assert sim.faults.move_price(1.6, position.position_id) == 1
            signals = [bot.signals.get(timeout=WAIT) for _ in range(2)]
            (queued,) = [s for s in signals if s.level_index == 1]
            blockhash = ls.tx.recent_blockhash(ls.tx.decode_unsigned_tx(queued.unsigned_tx_b64))
            assert sim.wait_for(lambda: not ls.tx.is_blockhash_valid(sim.rpc_url, blockhash), WAIT)
            sim.faults.heal_rpc()
            landed = sorted([bot.landed.get(timeout=WAIT), bot.landed.get(timeout=WAIT)], key=lambda e: e.attempt)
        sold = sells(sim, position.position_id)
    stale_signature = signature_of(queued, sim.wallet)
    assert sim.transaction_state(stale_signature) is None  # never sent
    assert [e.level_index for e in landed if e.level_index == 1] == [1]
    assert [s.ok for s in sold] == [True, True]
    assert stale_signature not in {s.signature for s in sold}


def test_4_a_position_closed_while_its_sell_is_not_final_yet_is_reported_landed(sim: Simulator) -> None:
    # finalized: the position closes (at processed) long before the sell is final
    policy = ls.ExitPolicy(commitment="finalized", rebroadcast_interval=0.05, expiry_check_interval=0.05)
    with Bot(sim, policy=policy) as bot:
        position = bot.position()
        bot.sell(position)
        landed = bot.landed.get(timeout=WAIT)
        assert bot.failed.empty()
        names = list(bot.names)
    assert names.index("position_closed") < names.index("exit_landed")
    assert [s.signature for s in sells(sim, position.position_id)] == [landed.signature]


@pytest.mark.parametrize("mode", ["fail", "hang"])
def test_4_when_the_status_rpc_fails_the_exit_is_unresolved_then_the_truth(sim: Simulator, mode: str) -> None:
    policy = ls.ExitPolicy(unresolved_after=0.3, rebroadcast_interval=0.05, expiry_check_interval=0.05)
    with Bot(sim, policy=policy) as bot:
        position = bot.position()
        (sim.faults.fail_rpc if mode == "fail" else sim.faults.hang_rpc)("getSignatureStatuses")
        bot.sell(position)
        submitted = bot.submitted.get(timeout=WAIT)
        assert sim.wait_for_settlement(submitted.signature, WAIT) is not None  # it sold
        unresolved = bot.unresolved.get(timeout=WAIT)
        sim.faults.heal_rpc()
        landed = bot.landed.get(timeout=WAIT)
        assert bot.failed.empty()
        stats = bot.stats()
    assert (unresolved.reason, unresolved.signatures) == ("not_confirmed", (submitted.signature,))
    assert landed.signature == submitted.signature
    assert stats.status_errors >= (1 if mode == "fail" else 0)


def test_4_a_chain_that_stalls_delays_the_verdict_not_the_truth(sim: Simulator) -> None:
    # the chain stops as the signal arrives; the executor keeps checking, and does not retry
    with Bot(sim, before_exit=lambda event: sim.pause()) as bot:
        position = bot.position()
        bot.sell(position)
        submitted = bot.submitted.get(timeout=WAIT)
        assert sim.wait_for(lambda: sim.rpc_calls("isBlockhashValid") >= 2, WAIT)  # still valid: wait
        assert sim.rpc_calls("sendTransaction") >= 2  # re-broadcast meanwhile
        sim.resume()
        landed = bot.landed.get(timeout=WAIT)
        assert bot.failed.empty()
        assert bot.submitted.empty()
    assert (landed.signature, landed.attempt) == (submitted.signature, 1)


def test_6_nothing_more_is_sent_for_a_position_that_sold_out(sim: Simulator) -> None:
    with Bot(sim) as bot:
        position = bot.position()
        bot.sell(position)
        signal = bot.signals.get(timeout=WAIT)
        landed = bot.landed.get(timeout=WAIT)
        bot.closed.get(timeout=WAIT)
        sim.faults.push_raw([ls.proto.encode_server(signal)])  # the same signal again, after it sold
        bot.signals.get(timeout=WAIT)
        stats = bot.stats()
    assert stats.stale == 1
    assert (stats.submitted, stats.retries) == (1, 0)
    assert sim.commands_received("request_exit_signal") == 1  # the bot's own, nothing after
    assert [s.signature for s in sells(sim, position.position_id)] == [landed.signature]


def test_7_close_is_bounded_when_every_rpc_hangs_and_reports_the_sell_unresolved(sim: Simulator) -> None:
    bot = Bot(sim, sender=ls.TxSender(timeout=30.0, poll_interval=0.02))
    bot.session.connect()
    position = bot.position()
    sim.faults.hang_rpc()  # every method, every URL
    bot.sell(position)
    assert sim.wait_for(lambda: sim.faults.hung_rpc_requests >= 1, WAIT)
    started = time.monotonic()
    bot.session.close(timeout=1.0)
    elapsed = time.monotonic() - started
    unresolved = bot.unresolved.get_nowait()  # published before close() returned
    assert elapsed < 1.0 + 3.0  # not the 30 s a hung request would take
    assert unresolved.reason == "closed"
    assert len(unresolved.signatures) == 1
    assert not our_threads()


def test_7_nothing_is_signed_or_sent_once_close_began(sim: Simulator) -> None:
    bot = Bot(sim, strategy=LADDER2, sender=ls.TxSender(timeout=30.0, poll_interval=0.02))
    bot.session.connect()
    sim.faults.hang_rpc("sendTransaction")  # level 0 in flight, level 1 queued
    position = bot.position()
    assert sim.faults.move_price(1.6, position.position_id) == 1
    signals = [bot.signals.get(timeout=WAIT) for _ in range(2)]
    bot.session.close(timeout=1.0)
    (queued,) = [s for s in signals if s.level_index == 1]
    failed = bot.failed.get_nowait()
    assert (failed.level_index, failed.reason, failed.signatures) == (1, "abandoned", ())
    assert bot.unresolved.get_nowait().level_index == 0
    sim.faults.heal_rpc()
    assert sim.transaction_state(signature_of(queued, sim.wallet)) is None
    assert not our_threads()


def test_8_a_target_that_never_answers_delays_nobody(sim: Simulator) -> None:
    targets = [ls.SendTargetRpc(url=sim.rpc_url), ls.SendTargetRpc(url=sim.rpc_url_for("dead"))]
    with Bot(sim, targets=targets, sender=ls.TxSender(timeout=30.0, poll_interval=0.02)) as bot:
        sim.faults.hang_rpc("sendTransaction", label="dead")
        position = bot.position()
        bot.sell(position)
        submitted = bot.submitted.get(timeout=WAIT)
        landed = bot.landed.get(timeout=WAIT)
        still_hung = sim.faults.hung_rpc_requests
    assert still_hung == 1  # the dead target still holds the first send: nobody waited for it
    assert submitted.targets == ("rpc",)
    assert landed.signature == submitted.signature


# -- settings that must agree before anything is sent ------------------------------------------


OWNER = Keypair()  # the key of the session's wallet


def _session(**options: Any) -> ls.StreamSession:
    return ls.StreamSession("k", [OWNER.pubkey()], HOLD, endpoint="ws://127.0.0.1:9/v1/ws", **options)


def test_the_send_mode_and_tip_follow_the_targets() -> None:
    session = _session()
    session.auto_exit(OWNER, [ls.SendTargetHeliusSender(), ls.SendTargetRpc()])
    intent = session._conn.intent
    assert (intent.send_mode, intent.tip_lamports) == ("helius_sender", 1_000_000)
    session.close()
    session = _session()
    session.auto_exit(OWNER, ls.SendTargetRpc(url="https://rpc.example"))
    assert (session._conn.intent.send_mode, session._conn.intent.tip_lamports) == ("rpc", None)
    with pytest.raises(RuntimeError, match="already"):
        session.auto_exit(OWNER, ls.SendTargetRpc())
    session.close()


@pytest.mark.parametrize(
    ("options", "targets", "confirm_rpc", "words"),
    [
        ({"send_mode": "rpc"}, [ls.SendTargetHeliusSender()], "https://rpc.example", "send_mode is 'rpc'"),
        ({}, [ls.SendTargetHeliusSender(), ls.SendTargetAstralane(api_key="a" * 12)], "https://x.example", "mix"),
        ({}, [ls.SendTargetHeliusSender()], None, "confirm_rpc is required"),
        ({}, [], None, "at least one"),
        ({"send_mode": "helius_sender", "tip_lamports": 0}, [ls.SendTargetHeliusSender()], "https://x.io", "tip"),
    ],
)
def test_contradicting_settings_are_refused(
    options: dict, targets: list, confirm_rpc: Optional[str], words: str
) -> None:
    session = _session(**options)
    with pytest.raises(ValueError, match=words):
        session.auto_exit(OWNER, targets, confirm_rpc)
    with pytest.raises(TypeError, match="Keypair"):
        session.auto_exit("not a keypair", [ls.SendTargetRpc()])  # type: ignore[arg-type]
    session.close()
