"""Ladder levels in flight together, end to end: a real session's ``auto_exit`` against the simulator.

A level that fires while an earlier one is unsold sells its percent of every token held then
(PROTOCOL.md 7.5; ``position_tokens`` is what is held at signal time, 4.7). Once the earlier
level sells, that signal asks for more than is left and fails on chain, as on mainnet. The
fresh signal the executor asks for is built from what is held by then, so it sells the rest.
"""

from __future__ import annotations

import queue
from typing import Iterator, Union

import pytest

import lasersell_sync as ls
from lasersell_sync.simulator import INSUFFICIENT_FUNDS_ERROR, Simulator

LADDER = ls.StrategyConfig(
    target_profit_pct=0,
    stop_loss_pct=0,
    take_profit_levels=(
        ls.TakeProfitLevel(profit_pct=20, sell_pct=50),
        ls.TakeProfitLevel(profit_pct=40, sell_pct=100),
    ),
)
# quick re-sends; the fresh signal is waited for as long as a slow box needs
POLICY = ls.ExitPolicy(refresh_timeout=60.0, rebroadcast_interval=0.05, expiry_check_interval=0.05)
WAIT = 15.0

Outcome = Union[ls.ExitLanded, ls.ExitFailed]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=3, scenario="sideways", speed=50, max_positions=1, blockhash_ttl_slots=10_000) as simulator:
        yield simulator


def test_the_last_level_fired_while_the_first_was_unsold_sells_what_is_left(sim: Simulator) -> None:
    signals: queue.Queue[ls.ExitSignalWithTx] = queue.Queue()
    outcomes: queue.Queue[Outcome] = queue.Queue()
    opened: queue.Queue[ls.PositionOpened] = queue.Queue()
    closed: queue.Queue[ls.PositionClosed] = queue.Queue()
    session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], LADDER, endpoint=sim.stream_url)
    session.auto_exit(
        sim.wallet, ls.SendTargetRpc(url=sim.rpc_url), policy=POLICY, sender=ls.TxSender(poll_interval=0.02)
    )
    session.on(ls.ExitSignalWithTx, lambda event: signals.put(event.message))
    session.on(ls.ExitLanded, lambda event: outcomes.put(event.message))
    session.on(ls.ExitFailed, lambda event: outcomes.put(event.message))
    session.on(ls.PositionOpened, lambda event: opened.put(event.message))
    session.on(ls.PositionClosed, lambda event: closed.put(event.message))
    with session:  # connects; closes at the end
        sim.faults.hang_rpc("sendTransaction")  # level 0 stays unsold while level 1 fires
        position = opened.get(timeout=WAIT)
        tokens, left = position.tokens, position.tokens - position.tokens // 2
        assert sim.faults.move_price(1.6, position.position_id) == 1
        level0, level1 = signals.get(timeout=WAIT), signals.get(timeout=WAIT)
        sim.faults.heal_rpc()
        first, last = outcomes.get(timeout=WAIT), outcomes.get(timeout=WAIT)
        fresh = signals.get(timeout=WAIT)  # the answer to the executor's request_exit_signal
        assert (fresh.reason, fresh.level_index, fresh.sell_tokens, fresh.position_tokens) == ("manual", 1, left, left)
        assert isinstance(first, ls.ExitLanded)
        assert first.level_index == 0
        assert isinstance(last, ls.ExitLanded), last  # before the fix: exit_failed max_retries, Custom 1 thrice
        assert closed.get(timeout=WAIT).position_id == position.position_id
    assert [(s.level_index, s.sell_tokens, s.position_tokens) for s in (level0, level1)] == [
        (0, tokens // 2, tokens),
        (1, tokens, tokens),  # 100 % of what was held when it fired
    ]
    assert (last.level_index, last.attempt) == (1, 2)
    sold = [(s.ok, s.err, s.tokens) for s in sim.settlements() if s.position_id == position.position_id]
    assert sold == [(True, None, tokens // 2), (False, INSUFFICIENT_FUNDS_ERROR, 0), (True, None, left)]
