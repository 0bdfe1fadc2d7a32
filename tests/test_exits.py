"""The exit executor against the embedded simulator: real signatures, a real RPC, a real chain clock.

Every outcome is proven on the simulator's ledger (``sim.settlements()``): one successful sell
per tranche, never two. Nothing waits by sleeping: tests wait on the executor's events and on
the simulator's own clock; where a race could decide an outcome, ``sim.pause()`` freezes the
chain or a fault that never lands makes a timeout certain, and a timeout that must not expire
(a retry's confirmation) is seconds for what takes milliseconds.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterator, List, Optional, Sequence

import pytest
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

import lasersell_sync as ls
from lasersell_sync.simulator import FORCED_FAILURE_ERROR, INSUFFICIENT_FUNDS_ERROR, Settlement, Simulator

HOLD = ls.StrategyConfig(target_profit_pct=100_000, stop_loss_pct=0)  # never exits by itself
LADDER = ls.StrategyConfig(
    target_profit_pct=0, stop_loss_pct=0, take_profit_levels=(ls.TakeProfitLevel(profit_pct=20, sell_pct=50),)
)
PATIENT = ls.ExitPolicy(confirm_timeout=60.0, refresh_timeout=60.0)  # no timeout decides these tests
# For a first attempt that can never land (paused chain, dropped): its timeout is certain, and a
# partial sell's later attempts are watched until provably dead, whatever this timeout.
QUICK = ls.ExitPolicy(confirm_timeout=0.5, refresh_timeout=60.0)
# For a full exit whose first attempt can never land: the retry must confirm within this, which
# takes a few 8 ms slots; seconds of margin, so only a runner stalled for that long could miss it.
RETRY = ls.ExitPolicy(confirm_timeout=2.0, refresh_timeout=60.0)
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
        targets: Optional[Sequence[ls.SendTarget]] = None,
        before_exit: Optional[Callable[[Any], Any]] = None,
    ) -> None:
        self.sim = sim
        self.session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], strategy, endpoint=sim.stream_url)
        if before_exit is not None:  # runs before the executor sees the signal
            self.session.on(ls.ExitSignalWithTx, before_exit)
        self.opened: queue.Queue[ls.PositionOpened] = queue.Queue()
        self.submitted: queue.Queue[ls.ExitSubmitted] = queue.Queue()
        self.landed: queue.Queue[ls.ExitLanded] = queue.Queue()
        self.failed: queue.Queue[ls.ExitFailed] = queue.Queue()
        self.errors: queue.Queue[BaseException] = queue.Queue()
        self.executor = self.session.auto_exit(
            keypair or sim.wallet,
            list(targets or [ls.SendTargetRpc(url=sim.rpc_url)]),
            policy=policy,
            sender=ls.TxSender(poll_interval=0.02),
        )
        self.signals: queue.Queue[ls.ExitSignalWithTx] = queue.Queue()
        for kind, into in (
            (ls.PositionOpened, self.opened),
            (ls.ExitSubmitted, self.submitted),
            (ls.ExitLanded, self.landed),
            (ls.ExitFailed, self.failed),
            (ls.ExitSignalWithTx, self.signals),  # after the executor's own handler for the event
        ):
            self.session.on(kind, lambda event, into=into: into.put(event.message))
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


def sells(sim: Simulator, position_id: int) -> List[Settlement]:
    return [s for s in sim.settlements() if s.kind == "sell" and s.position_id == position_id]


def test_an_exit_signal_becomes_one_confirmed_sell(sim: Simulator) -> None:
    with Bot(sim) as bot:
        position = bot.position()
        bot.sell(position)
        submitted = bot.submitted.get(timeout=WAIT)
        landed = bot.landed.get(timeout=WAIT)
        stats = bot.session.stats().exits
    assert (submitted.position_id, submitted.attempt, submitted.targets) == (position.position_id, 1, ("rpc",))
    assert landed.signature == submitted.signature
    assert landed.attempts == 1
    assert landed.latency_ms > 0
    (sale,) = sells(sim, position.position_id)
    assert sale.ok
    assert sale.signature == landed.signature
    assert sale.tokens == position.tokens
    assert stats is not None
    assert (stats.signals, stats.submitted, stats.landed, stats.failed, stats.in_flight) == (1, 1, 1, 0, 0)


def test_a_dropped_sell_is_retried_with_a_bumped_slippage(sim: Simulator) -> None:
    with Bot(sim, policy=RETRY) as bot:
        position = bot.position()
        sim.faults.drop_transactions(1.0, count=1)
        bot.sell(position)
        first, second = bot.submitted.get(timeout=WAIT), bot.submitted.get(timeout=WAIT)
        landed = bot.landed.get(timeout=WAIT)
    assert (first.attempt, first.slippage_bps) == (1, None)
    assert (second.attempt, second.slippage_bps) == (2, 2020)  # 2000 pad + the 20 bps first bump
    assert (landed.signature, landed.attempts, landed.slippage_bps) == (second.signature, 2, 2020)
    assert sim.transaction_state(first.signature) == "dropped"
    (sale,) = sells(sim, position.position_id)
    assert (sale.signature, sale.slippage_bps) == (second.signature, 2020)


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
    assert landed.signature == submitted.signature
    assert [s.signature for s in sells(sim, position.position_id)] == [submitted.signature]


def test_a_full_exit_that_lands_late_is_retried_harmlessly(sim: Simulator) -> None:
    with Bot(sim, policy=RETRY) as bot:
        position = bot.position()
        sim.faults.drop_transactions(1.0, count=1)  # the first attempt is held up on its way...
        bot.sell(position)
        signal = bot.signals.get(timeout=WAIT)
        first, second = bot.submitted.get(timeout=WAIT), bot.submitted.get(timeout=WAIT)
        landed = bot.landed.get(timeout=WAIT)
        # ...and lands late, once the retry sold everything: the very same transaction, re-sent
        # now, so the order of the two landings is certain, not a race against a delay
        late_tx = ls.sign_unsigned_tx(signal.unsigned_tx_b64, sim.wallet)
        assert str(late_tx.signatures[0]) == first.signature
        with ls.TxSender() as sender:
            assert sender.send(ls.SendTargetRpc(url=sim.rpc_url), late_tx) == first.signature
        late = sim.wait_for_settlement(first.signature, timeout=WAIT)
        assert bot.failed.empty()
    assert late is not None
    assert late.err == INSUFFICIENT_FUNDS_ERROR  # the retry had sold everything: nothing left
    assert landed.signature == second.signature
    outcomes = [(s.signature, s.ok) for s in sells(sim, position.position_id)]
    assert outcomes == [(second.signature, True), (first.signature, False)]


def _tranche(bot: Bot, sim: Simulator) -> ls.PositionOpened:
    """Open a position and lift its price so the ladder's first level (sell 50 %) fires."""
    position = bot.position()
    assert sim.faults.move_price(1.6, position.position_id) == 1
    return position


def test_a_ladder_tranche_that_lands_late_is_never_sold_twice(sim: Simulator) -> None:
    # the chain freezes as the signal arrives: the tranche cannot land (nor its price move) yet
    with Bot(sim, policy=QUICK, strategy=LADDER, before_exit=lambda event: sim.pause()) as bot:
        position = _tranche(bot, sim)
        signal = bot.signals.get(timeout=WAIT)
        first = bot.submitted.get(timeout=WAIT)
        # the confirmation timed out: the executor now asks whether it can still land
        assert sim.wait_for(lambda: sim.rpc_calls("isBlockhashValid") >= 2, timeout=WAIT)
        assert bot.submitted.empty()  # it is valid, so no retry
        sim.resume()  # it lands late
        landed = bot.landed.get(timeout=WAIT)
        assert bot.submitted.empty()
    assert signal.sell_tokens is not None
    assert first.sell_tokens == signal.sell_tokens
    assert (landed.signature, landed.attempts) == (first.signature, 1)
    assert [(s.signature, s.tokens) for s in sells(sim, position.position_id)] == [
        (first.signature, signal.sell_tokens)
    ]


def test_a_dropped_ladder_tranche_is_retried_only_once_its_blockhash_expired() -> None:
    # 150 slots at speed 50 is 1.2 s: the first attempt's blockhash outlives its 0.5 s timeout
    with Simulator(seed=3, scenario="sideways", speed=50, max_positions=1, blockhash_ttl_slots=150) as sim:
        with Bot(sim, policy=QUICK, strategy=LADDER) as bot:
            still_valid: List[bool] = []
            signals: List[ls.ExitSignalWithTx] = []
            bot.session.on(ls.ExitSignalWithTx, lambda event: signals.append(event.message))

            @bot.session.on(ls.ExitSubmitted)
            def retried(event: ls.Event[ls.ExitSubmitted]) -> None:
                if event.message.attempt == 2:  # was the first attempt provably dead by now?
                    first_tx = ls.decode_unsigned_tx(signals[0].unsigned_tx_b64)
                    still_valid.append(ls.is_blockhash_valid(sim.rpc_url, ls.tx.recent_blockhash(first_tx)))

            sim.faults.drop_transactions(1.0, count=1)
            position = _tranche(bot, sim)
            first, second = bot.submitted.get(timeout=WAIT), bot.submitted.get(timeout=WAIT)
            landed = bot.landed.get(timeout=WAIT)
        (sale,) = sells(sim, position.position_id)
    assert sim_state_was_dropped(first.signature, sim)
    assert still_valid == [False]
    assert second.attempt == 2
    assert (landed.signature, sale.signature) == (second.signature, second.signature)


def sim_state_was_dropped(signature: str, sim: Simulator) -> bool:
    return sim.transaction_state(signature) in ("dropped", "expired")


def test_a_sell_that_keeps_failing_ends_in_exit_failed(sim: Simulator) -> None:
    with Bot(sim) as bot:
        position = bot.position()
        sim.faults.fail_transactions(1.0)
        bot.sell(position)
        failed = bot.failed.get(timeout=WAIT)
        attempts = [bot.submitted.get(timeout=WAIT) for _ in range(3)]
        assert bot.landed.empty()
    assert (failed.reason, failed.attempts, failed.position_id) == ("max_retries", 3, position.position_id)
    assert "6000" in (failed.error or "")
    assert [a.slippage_bps for a in attempts] == [None, 2020, 2060]
    assert [(s.ok, s.err) for s in sells(sim, position.position_id)] == [(False, FORCED_FAILURE_ERROR)] * 3


def _foreign_signal(sim: Simulator, position_id: int, payer: Keypair) -> str:
    """An exit signal for our wallet whose transaction makes someone else pay (and sign)."""
    instruction = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Pubkey.new_unique(), lamports=1))
    message = MessageV0.try_compile(payer.pubkey(), [instruction], [], Hash.new_unique())
    unsigned = VersionedTransaction.populate(message, [Signature.default()])
    return ls.encode_server(
        ls.ExitSignalWithTx(
            session_id=1,
            position_id=position_id,
            wallet_pubkey=sim.wallet_pubkey,
            mint=str(Pubkey.new_unique()),
            position_tokens=10,
            profit_units=0,
            reason="manual",
            triggered_at_ms=1,
            unsigned_tx_b64=ls.encode_signed_tx(unsigned),
        )
    )


def test_a_transaction_with_another_fee_payer_is_refused_and_never_sent(sim: Simulator) -> None:
    with Bot(sim) as bot:
        bot.position()
        sim.faults.push_raw([_foreign_signal(sim, 424242, Keypair())])
        failed = bot.failed.get(timeout=WAIT)
        error = bot.errors.get(timeout=WAIT)
        stats = bot.session.stats().exits
    assert (failed.position_id, failed.reason, failed.attempts) == (424242, "refused", 1)
    assert "fee payer" in (failed.error or "")
    assert isinstance(error, ls.ExitRefusedError)
    assert stats is not None
    assert (stats.submitted, stats.refused) == (0, 1)
    assert not sim.settlements()


def test_signals_of_a_wallet_without_its_keypair_are_refused(sim: Simulator) -> None:
    with Bot(sim, keypair=Keypair()) as bot:
        position = bot.position()
        bot.sell(position)
        failed = bot.failed.get(timeout=WAIT)
    assert failed.reason == "refused"
    assert f"no keypair for wallet {sim.wallet_pubkey}" in (failed.error or "")
    assert not sells(sim, position.position_id)


def test_close_reports_sells_in_flight_as_abandoned(sim: Simulator) -> None:
    bot = Bot(sim)
    bot.session.connect()
    position = bot.position()
    sim.pause()  # the sell cannot land
    bot.sell(position)
    submitted = bot.submitted.get(timeout=WAIT)
    # the sell cannot land, so close() waits half its timeout for it, then reports it abandoned;
    # the other half lets the handlers finish: 2 s, so a stalled runner cannot cut them short
    assert bot.session.close(timeout=4.0) is True
    failed = bot.failed.get_nowait()  # handled before close() returned
    assert (failed.reason, failed.signature) == ("abandoned", submitted.signature)
    assert bot.landed.empty()
    ours = [t.name for t in threading.enumerate() if t.name.startswith("lasersell-") and "-sim-" not in t.name]
    assert not ours


def test_fan_out_to_two_targets_lands_once(sim: Simulator) -> None:
    targets = [ls.SendTargetRpc(url=sim.rpc_url), ls.SendTargetRpc(url=sim.rpc_url + "?api-key=second-endpoint")]
    with Bot(sim, targets=targets) as bot:
        position = bot.position()
        bot.sell(position)
        submitted = bot.submitted.get(timeout=WAIT)
        landed = bot.landed.get(timeout=WAIT)
    assert submitted.targets == ("rpc", "rpc")
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


# -- settings that must agree before anything is sent ------------------------------------------


def _session(**options: Any) -> ls.StreamSession:
    return ls.StreamSession("k", [str(Keypair().pubkey())], HOLD, endpoint="ws://127.0.0.1:9/v1/ws", **options)


def test_the_send_mode_and_tip_follow_the_targets() -> None:
    session = _session()
    session.auto_exit(Keypair(), [ls.SendTargetHeliusSender(), ls.SendTargetRpc()])
    intent = session._conn.intent
    assert (intent.send_mode, intent.tip_lamports) == ("helius_sender", 1_000_000)
    session.close()
    session = _session()
    session.auto_exit(Keypair(), ls.SendTargetRpc(url="https://rpc.example"))
    assert (session._conn.intent.send_mode, session._conn.intent.tip_lamports) == ("rpc", None)
    with pytest.raises(RuntimeError, match="already"):
        session.auto_exit(Keypair(), ls.SendTargetRpc())
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
        session.auto_exit(Keypair(), targets, confirm_rpc)
    with pytest.raises(TypeError, match="Keypair"):
        session.auto_exit("not a keypair", [ls.SendTargetRpc()])  # type: ignore[arg-type]
    session.close()
