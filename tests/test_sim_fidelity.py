"""The simulator behaves like the service and the chain, so an exit executor can be tested honestly.

Real sessions, real solders keypairs and signatures, the simulator's JSON-RPC over HTTP. Nothing
waits by sleeping: the tests wait on stream events or on the simulator's own clock
(``sim.wait_for``), and ``sim.pause()`` stages submissions so no race decides an outcome.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
import requests
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

import lasersell_sync as ls
from lasersell_sync import cli
from lasersell_sync.cli import simulate as cli_simulate
from lasersell_sync.simulator import (
    FORCED_FAILURE_ERROR,
    INSUFFICIENT_FUNDS_ERROR,
    SLIPPAGE_ERROR,
    Settlement,
    Simulator,
)
from lasersell_sync.simulator.chain import GENESIS_MS
from lasersell_sync.simulator.faults import TxFaults

HOLD = ls.StrategyConfig(target_profit_pct=100_000, stop_loss_pct=0)  # never exits by itself
MINT = str(Pubkey.new_unique())  # a token no simulated market tracks


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=5, scenario="sideways", speed=50, max_positions=1, blockhash_ttl_slots=10_000) as simulator:
        yield simulator


def rpc(sim: Simulator, method: str, params: Optional[List[Any]] = None) -> Dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    reply: Dict[str, Any] = requests.post(sim.rpc_url, json=body, timeout=10).json()
    return reply


def statuses(sim: Simulator, signatures: List[str]) -> List[Optional[Dict[str, Any]]]:
    value: List[Optional[Dict[str, Any]]] = rpc(
        sim, "getSignatureStatuses", [signatures, {"searchTransactionHistory": True}]
    )["result"]["value"]
    return value


def untracked_sell(sim: Simulator, tokens: int = 1000) -> VersionedTransaction:
    """A signed ``/v1/sell`` of a token no market tracks (it always has the tokens)."""
    body = {
        "mint": MINT,
        "user_pubkey": sim.wallet_pubkey,
        "amount_tokens": tokens,
        "output": "SOL",
        "slippage_bps": 500,
    }
    reply = requests.post(sim.api_url + "/v1/sell", json=body, headers={"x-api-key": sim.api_key}, timeout=10)
    return ls.sign_unsigned_tx(reply.json()["tx"], sim.wallet)


def send(sim: Simulator, tx: VersionedTransaction) -> str:
    return ls.tx.send_transaction(ls.SendTargetRpc(url=sim.rpc_url), tx)


def settle(sim: Simulator, signature: str) -> Settlement:
    settlement = sim.wait_for_settlement(signature)
    assert settlement is not None, f"{signature} did not land"
    return settlement


class Watcher:
    """A real StreamSession whose events land in queues, to wait on."""

    def __init__(self, sim: Simulator, strategy: ls.StrategyConfig = HOLD, api_key: Optional[str] = None) -> None:
        self.session = ls.StreamSession(api_key or sim.api_key, [sim.wallet_pubkey], strategy, endpoint=sim.stream_url)
        self.opened: queue.Queue[ls.PositionOpened] = queue.Queue()
        self.signals: queue.Queue[ls.ExitSignalWithTx] = queue.Queue()
        self.balances: queue.Queue[ls.BalanceUpdate] = queue.Queue()
        self.closed: queue.Queue[ls.PositionClosed] = queue.Queue()
        self.pnl: queue.Queue[ls.PnlUpdate] = queue.Queue()
        for kind, into in (
            (ls.PositionOpened, self.opened),
            (ls.ExitSignalWithTx, self.signals),
            (ls.BalanceUpdate, self.balances),
            (ls.PositionClosed, self.closed),
            (ls.PnlUpdate, self.pnl),
        ):
            self.session.on(kind, lambda event, into=into: into.put(event.message))

    def __enter__(self) -> Watcher:
        self.hello = self.session.connect()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.session.close()

    def signal(self, position_id: int, slippage_bps: Optional[int] = None) -> ls.ExitSignalWithTx:
        """Request an exit signal and wait for it."""
        self.session.request_exit_signal(position_id, slippage_bps=slippage_bps)
        return self.signals.get(timeout=10)

    def balance(self, tokens: int) -> ls.BalanceUpdate:
        """Wait for the balance update showing ``tokens``."""
        while True:
            update = self.balances.get(timeout=10)
            if update.tokens == tokens:
                return update


def signed(sim: Simulator, signal: ls.ExitSignalWithTx) -> VersionedTransaction:
    return ls.sign_unsigned_tx(signal.unsigned_tx_b64, sim.wallet)


# -- getSignatureStatuses, isBlockhashValid, re-sends --------------------------------------------


def test_a_status_is_null_until_the_transaction_lands_then_processed_confirmed_finalized(sim: Simulator) -> None:
    tx = untracked_sell(sim)
    sim.pause()  # nothing can land until resume(): the null is certain
    signature = send(sim, tx)
    assert signature == str(tx.signatures[0])
    assert statuses(sim, [signature]) == [None]
    assert sim.transaction_state(signature) == "pending"
    sim.resume()
    settled = settle(sim, signature)
    assert (settled.kind, settled.tokens, settled.err, settled.wallet) == ("sell", 1000, None, sim.wallet_pubkey)
    assert sim.wait_for(lambda: sim.slot > settled.slot)
    (status,) = statuses(sim, [signature])
    assert status is not None
    assert status["slot"] == settled.slot
    assert status["confirmationStatus"] == "confirmed"
    assert status["confirmations"] >= 1
    assert (status["err"], status["status"]) == (None, {"Ok": None})
    assert sim.wait_for(lambda: sim.slot >= settled.slot + 32)
    (final,) = statuses(sim, [signature])
    assert final is not None
    assert (final["confirmationStatus"], final["confirmations"]) == ("finalized", None)


def test_statuses_are_batched_in_the_request_order(sim: Simulator) -> None:
    txs = [untracked_sell(sim, tokens) for tokens in (1, 2, 3)]
    sim.pause()
    signatures = [send(sim, tx) for tx in txs]
    sim.resume()
    settled = [settle(sim, signature) for signature in signatures]
    unknown = str(Keypair().sign_message(b"never sent"))
    answer = rpc(sim, "getSignatureStatuses", [[signatures[2], unknown, signatures[0], signatures[1]]])["result"]
    assert answer["context"]["slot"] >= settled[-1].slot
    value = answer["value"]
    assert value[1] is None
    assert [entry["slot"] for entry in (value[2], value[3], value[0])] == [s.slot for s in settled]
    assert [s.tokens for s in sim.settlements()] == [1, 2, 3]  # landing order = sending order


def test_a_blockhash_is_valid_for_ttl_slots_and_an_expired_transaction_never_lands() -> None:
    with Simulator(seed=5, speed=50, blockhash_ttl_slots=3) as sim:
        sim.pause()
        latest = rpc(sim, "getLatestBlockhash")["result"]
        blockhash, last_valid = latest["value"]["blockhash"], latest["value"]["lastValidBlockHeight"]
        assert last_valid == latest["context"]["slot"] + 3
        tx = untracked_sell(sim)
        assert str(tx.message.recent_blockhash) == blockhash  # built transactions carry the chain's blockhash
        valid = rpc(sim, "isBlockhashValid", [blockhash, {"commitment": "processed"}])["result"]
        assert valid == {"context": {"slot": latest["context"]["slot"]}, "value": True}
        sim.resume()
        assert sim.wait_for(lambda: sim.slot > last_valid)
        assert rpc(sim, "isBlockhashValid", [blockhash, {"commitment": "processed"}])["result"]["value"] is False
        signature = send(sim, tx)  # skipPreflight: accepted, never lands
        assert sim.transaction_state(signature) == "expired"
        assert statuses(sim, [signature]) == [None]
        preflight = rpc(sim, "sendTransaction", [ls.tx.encode_signed_tx(tx), {"encoding": "base64"}])
        assert preflight["error"] == {"code": -32002, "message": "Transaction simulation failed: Blockhash not found"}
        # accepted in time, but held (land_late) past its blockhash's last valid slot: dropped
        sim.pause()
        held = untracked_sell(sim)
        sim.faults.land_late(0.3, count=1)
        late = send(sim, held)
        assert sim.transaction_state(late) == "pending"
        sim.resume()
        assert sim.wait_for(lambda: sim.transaction_state(late) == "expired")
        assert statuses(sim, [late]) == [None]
        assert sim.settlements() == []


def test_resending_returns_the_same_signature_and_settles_once(sim: Simulator) -> None:
    tx = untracked_sell(sim)
    sim.pause()
    signature = send(sim, tx)
    assert send(sim, tx) == signature  # while pending
    sim.resume()
    settled = settle(sim, signature)
    assert send(sim, tx) == signature  # after it landed: skipPreflight answers the signature again
    assert sim.wait_for(lambda: sim.slot > settled.slot + 2)
    assert [s.signature for s in sim.settlements()] == [signature]
    with_preflight = rpc(sim, "sendTransaction", [ls.tx.encode_signed_tx(tx), {"encoding": "base64"}])
    assert with_preflight["error"]["code"] == -32002
    assert "already been processed" in with_preflight["error"]["message"]


# -- what a sell does on chain ---------------------------------------------------------------------


def test_a_sell_fails_when_the_price_moves_past_its_slippage_and_a_wider_refresh_succeeds(sim: Simulator) -> None:
    with Watcher(sim) as watcher:
        opened = watcher.opened.get(timeout=10)
        assert opened.token_price_quote is not None
        assert opened.token_price_quote > 1000  # lamports per whole token, not a rounded handful
        tight = watcher.signal(opened.position_id, slippage_bps=1000)
        assert sim.faults.move_price(0.5, opened.position_id) == 1  # the price halves before it lands
        preflight = rpc(sim, "sendTransaction", [ls.tx.encode_signed_tx(signed(sim, tight)), {"encoding": "base64"}])
        assert preflight["error"] == {
            "code": -32002,
            "message": "Transaction simulation failed: Error processing Instruction 1: custom program error: 0x1774",
        }
        failed = settle(sim, send(sim, signed(sim, tight)))  # skipPreflight: it lands, and fails on chain
        assert (failed.err, failed.tokens, failed.slippage_bps) == (SLIPPAGE_ERROR, 0, 1000)
        (status,) = statuses(sim, [failed.signature])
        assert status is not None
        assert (status["err"], status["status"]) == (SLIPPAGE_ERROR, {"Err": SLIPPAGE_ERROR})
        engine = sim.engine
        assert engine is not None
        assert engine.positions[opened.position_id].state.tokens == opened.tokens  # nothing sold
        wide = watcher.signal(opened.position_id, slippage_bps=9000)
        sold = settle(sim, send(sim, signed(sim, wide)))
        assert (sold.err, sold.tokens, sold.slippage_bps) == (None, opened.tokens, 9000)
        assert sold.quote_units >= sold.min_quote_units > 0
        assert watcher.balance(0).mint == opened.mint
        assert watcher.closed.get(timeout=10).position_id == opened.position_id
    assert sim.settlements() == [failed, sold]
    assert sim.settlements(successful_only=True) == [sold]
    assert (sold.position_id, sold.mint, sold.token_account) == (opened.position_id, opened.mint, opened.token_account)


def test_selling_more_than_the_position_holds_fails_and_sells_nothing(sim: Simulator) -> None:
    with Watcher(sim) as watcher:
        opened = watcher.opened.get(timeout=10)
        first = watcher.signal(opened.position_id)
        retry = watcher.signal(opened.position_id)  # a second full exit, as a retry would get
        assert retry.unsigned_tx_b64 != first.unsigned_tx_b64
        sold = settle(sim, send(sim, signed(sim, first)))
        assert (sold.err, sold.tokens, sold.slippage_bps) == (None, opened.tokens, 2000)  # the default
        again = settle(sim, send(sim, signed(sim, retry)))
        assert (again.err, again.tokens, again.requested_tokens) == (INSUFFICIENT_FUNDS_ERROR, 0, opened.tokens)
        assert watcher.closed.get(timeout=10).position_id == opened.position_id
    assert sum(s.tokens for s in sim.settlements(successful_only=True)) == opened.tokens


def test_a_tranche_retried_while_the_first_is_pending_sells_twice_and_settlements_show_it(sim: Simulator) -> None:
    ladder = ls.StrategyConfig(
        target_profit_pct=0,
        stop_loss_pct=0,
        take_profit_levels=(
            ls.TakeProfitLevel(profit_pct=20, sell_pct=25),
            ls.TakeProfitLevel(profit_pct=100_000, sell_pct=100),
        ),
    )
    with Watcher(sim, ladder) as watcher:
        opened = watcher.opened.get(timeout=10)
        sim.faults.move_price(1.5)  # +50 %: the first level fires
        tranche = watcher.signals.get(timeout=10)
        assert (tranche.reason, tranche.level_index) == ("chained_tp", 0)
        assert tranche.sell_tokens == opened.tokens // 4
        sim.pause()  # the first sell stays pending while the client "retries"
        first = send(sim, signed(sim, tranche))
        retry = watcher.signal(opened.position_id, slippage_bps=2500)
        assert (retry.sell_tokens, retry.level_index) == (tranche.sell_tokens, 0)  # the same tranche again
        second = send(sim, signed(sim, retry))
        sim.resume()
        settled = [settle(sim, first), settle(sim, second)]
        assert [(s.err, s.tokens) for s in settled] == [(None, tranche.sell_tokens)] * 2
        assert watcher.balance(opened.tokens - 2 * tranche.sell_tokens).mint == opened.mint
    sold = [s for s in sim.settlements(successful_only=True) if s.position_id == opened.position_id]
    assert [s.signature for s in sold] == [first, second]  # the double sell is on record
    engine = sim.engine
    assert engine is not None
    assert engine.positions[opened.position_id].state.tokens == opened.tokens - 2 * tranche.sell_tokens


# -- fault switches --------------------------------------------------------------------------------


def test_drop_transactions_accepts_but_never_lands_exactly_the_next_one(sim: Simulator) -> None:
    sim.faults.drop_transactions(1.0, count=1)
    dropped_tx, kept_tx = untracked_sell(sim, 1), untracked_sell(sim, 2)
    sim.pause()
    dropped, kept = send(sim, dropped_tx), send(sim, kept_tx)
    sim.resume()
    settle(sim, kept)  # the dropped one was sent first: it would have landed by now
    assert sim.transaction_state(dropped) == "dropped"
    assert statuses(sim, [dropped, kept])[0] is None
    assert sim.faults.transaction_settings()["drop"] == {"rate": 1.0, "remaining": 0}
    assert send(sim, dropped_tx) == dropped  # re-broadcast: a new submission, and it lands
    assert settle(sim, dropped).tokens == 1
    assert [s.tokens for s in sim.settlements()] == [2, 1]


def test_fail_transactions_lands_with_a_forced_error_that_sells_nothing(sim: Simulator) -> None:
    with Watcher(sim) as watcher:
        opened = watcher.opened.get(timeout=10)
        sim.faults.fail_transactions(1.0, count=1)
        failed = settle(sim, send(sim, signed(sim, watcher.signal(opened.position_id))))
        assert (failed.err, failed.tokens, failed.position_id) == (FORCED_FAILURE_ERROR, 0, opened.position_id)
        (status,) = statuses(sim, [failed.signature])
        assert status is not None
        assert status["status"] == {"Err": FORCED_FAILURE_ERROR}
        engine = sim.engine
        assert engine is not None
        assert engine.positions[opened.position_id].state.tokens == opened.tokens
        sold = settle(sim, send(sim, signed(sim, watcher.signal(opened.position_id))))  # the switch is spent
        assert (sold.err, sold.tokens) == (None, opened.tokens)


def test_land_late_holds_a_transaction_for_wall_clock_seconds(sim: Simulator) -> None:
    sim.faults.land_late(0.3, count=1)
    late_tx, prompt_tx = untracked_sell(sim, 1), untracked_sell(sim, 2)
    started = time.monotonic()
    late, prompt = send(sim, late_tx), send(sim, prompt_tx)
    prompt_settled = settle(sim, prompt)
    late_settled = settle(sim, late)
    assert time.monotonic() - started >= 0.3
    assert late_settled.slot >= prompt_settled.slot
    assert late_settled.err is None


def test_transaction_faults_are_seeded_and_counted() -> None:
    def decisions(seed: int) -> List[Any]:
        faults = TxFaults(seed)
        faults.set_drop(0.3)
        faults.set_fail(0.5, count=3)
        faults.set_late(1.5, rate=0.5)
        return [faults.decide() for _ in range(40)]

    assert decisions(7) == decisions(7)
    assert decisions(7) != decisions(8)
    drawn = decisions(7)
    assert sum(d.fail for d in drawn) == 3
    assert 0 < sum(d.drop for d in drawn) < 40
    assert not [d for d in drawn if d.drop and (d.fail or d.late_seconds)]
    assert {d.late_seconds for d in drawn} == {0.0, 1.5}
    off = TxFaults(7)
    off.set_drop(1.0, count=0)
    off.set_late(0)
    assert not any(d.drop or d.late_seconds for d in (off.decide() for _ in range(10)))
    with pytest.raises(ValueError, match="rate"):
        off.set_drop(1.5)
    with pytest.raises(ValueError, match="rate"):
        off.set_fail(-0.1)
    with pytest.raises(ValueError, match="count"):
        off.set_drop(1, count=-1)
    with pytest.raises(ValueError, match="seconds"):
        off.set_late(float("nan"))


# -- sessions are scoped like the service's ----------------------------------------------------------


def test_a_second_session_on_the_same_api_key_is_refused_and_the_first_is_undisturbed(sim: Simulator) -> None:
    with Watcher(sim) as first:
        second = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], HOLD, endpoint=sim.stream_url)
        with pytest.raises(ls.StreamServerError) as info:
            second.connect()
        second.close()
        assert info.value.code == "capacity_exceeded"
        assert info.value.server_message == "max_sessions_per_api_key limit reached"
        first.opened.get(timeout=10)
        while first.pnl.qsize():
            first.pnl.get_nowait()
        first.pnl.get(timeout=10)  # the first session still hears its market
        assert first.session.connected
        assert first.session.stats().reconnects == 0
        with Watcher(sim, api_key="another-key") as other:  # another key: another account
            assert other.opened.get(timeout=10).wallet_pubkey == sim.wallet_pubkey
    with Watcher(sim) as again:  # the first one closed: the key is free
        assert again.session.connected


class Recorder:
    """Every message of a StreamConnection, in arrival order, with a way to wait for some."""

    def __init__(self) -> None:
        self.messages: List[Any] = []
        self._changed = threading.Condition()

    def __call__(self, message: Any, received_at: float) -> None:
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    def wait(self, predicate: Callable[[List[Any]], bool]) -> List[Any]:
        with self._changed:
            assert self._changed.wait_for(lambda: predicate(self.messages), timeout=10)
            return list(self.messages)


def about(position_id: int, wallet: str, message: Any) -> bool:
    return getattr(message, "position_id", None) == position_id or getattr(message, "wallet_pubkey", None) == wallet


def opened_by_wallet(messages: List[Any]) -> Dict[str, int]:
    return {m.wallet_pubkey: m.position_id for m in messages if isinstance(m, ls.PositionOpened)}


def test_sessions_hear_only_their_wallets_and_update_wallets_stops_tracking_removed_ones() -> None:
    theirs = str(Keypair().pubkey())
    with Simulator(seed=5, scenario="sideways", speed=50, open_every_ticks=1, max_positions=2) as sim:
        mine = sim.wallet_pubkey
        recorder = Recorder()
        both = ls.proto.Configure(wallet_pubkeys=(mine, theirs), strategy=HOLD)
        with ls.StreamConnection(sim.api_key, both, on_message=recorder, endpoint=sim.stream_url) as conn:
            ids = opened_by_wallet(recorder.wait(lambda ms: len(opened_by_wallet(ms)) == 2))
            their_id, my_id = ids[theirs], ids[mine]
            recorder.wait(lambda ms: any(isinstance(m, ls.PnlUpdate) and m.position_id == their_id for m in ms))
            sent_at = len(recorder.wait(lambda ms: True))
            conn.send(ls.proto.UpdateWallets(wallet_pubkeys=(mine,)))
            conn.send(ls.proto.Ping(client_time_ms=1))
            messages = recorder.wait(lambda ms: any(isinstance(m, ls.Pong) for m in ms[sent_at:]))
            mark = next(i for i, m in enumerate(messages) if i >= sent_at and isinstance(m, ls.Pong))

            def mine_after(ms: List[Any]) -> bool:
                return sum(isinstance(m, ls.PnlUpdate) and m.position_id == my_id for m in ms[mark:]) >= 10

            after = recorder.wait(mine_after)[mark:]
            assert not [m for m in after if about(their_id, theirs, m)]
            conn.send(ls.proto.UpdateWallets(wallet_pubkeys=(mine, theirs)))  # added back: announced again
            recorder.wait(
                lambda ms: any(isinstance(m, ls.PositionOpened) and m.position_id == their_id for m in ms[mark:])
            )
        later = Recorder()
        only_mine = ls.proto.Configure(wallet_pubkeys=(mine,), strategy=HOLD)
        with ls.StreamConnection(sim.api_key, only_mine, on_message=later, endpoint=sim.stream_url):
            heard = later.wait(lambda ms: sum(isinstance(m, ls.PnlUpdate) and m.position_id == my_id for m in ms) >= 10)
    assert my_id in {m.position_id for m in heard if isinstance(m, ls.PositionOpened)}  # re-announced
    assert not [m for m in heard if about(their_id, theirs, m)]


def test_hello_ok_and_pong_carry_the_simulated_clock() -> None:
    with Simulator(seed=5, scenario="sideways", speed=50) as sim:
        with Watcher(sim) as first:
            first_pnl = first.pnl.get(timeout=10)
        assert sim.wait_for(lambda: sim.now_ms >= first_pnl.server_time_ms + 2000)
        before = sim.now_ms
        second = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], HOLD, endpoint=sim.stream_url)
        pongs: queue.Queue[ls.Pong] = queue.Queue()
        second.on(ls.Pong, lambda event: pongs.put(event.message))
        try:
            greeting = second.connect()
            after = sim.now_ms
            second.ping()
            pong = pongs.get(timeout=10)
        finally:
            second.close()
    assert first.hello.server_time_ms == GENESIS_MS  # time starts with the first session
    assert first_pnl.server_time_ms > GENESIS_MS
    assert before <= greeting.server_time_ms <= after  # simulated time, not the wall clock
    assert greeting.server_time_ms <= pong.server_time_ms <= sim.now_ms


def test_the_exit_api_route_uses_the_stream_spelling_of_market_type(sim: Simulator) -> None:
    with Watcher(sim) as watcher:
        opened = watcher.opened.get(timeout=10)
        assert opened.market_context is not None
        headers = {"x-api-key": sim.api_key}
        for mint, expected in ((opened.mint, opened.market_context.market_type), (MINT, "pump_fun")):
            body = {
                "mint": mint,
                "user_pubkey": sim.wallet_pubkey,
                "amount_tokens": 5,
                "output": "SOL",
                "slippage_bps": 1,
            }
            reply = requests.post(sim.api_url + "/v1/sell", json=body, headers=headers, timeout=10).json()
            assert reply["route"] == {"market_type": expected}
    assert opened.market_context.market_type == "pump_swap"  # sideways tokens trade on PumpSwap


# -- the RPC speaks JSON-RPC 2.0 like a node -------------------------------------------------------


def test_rpc_errors_and_other_methods(sim: Simulator) -> None:
    def error_of(method: str, params: List[Any]) -> Any:
        return rpc(sim, method, params)["error"]

    assert error_of("getBalance", [sim.wallet_pubkey]) == {"code": -32601, "message": "Method not found"}
    assert error_of("getSignatureStatuses", ["not-a-list"])["code"] == -32602
    assert error_of("getSignatureStatuses", [["nope"]])["code"] == -32602
    too_many = [str(Keypair().sign_message(i.to_bytes(2, "big"))) for i in range(257)]
    assert error_of("getSignatureStatuses", [too_many])["message"] == "Too many inputs provided; max 256"
    assert error_of("isBlockhashValid", ["%%%"])["code"] == -32602
    assert error_of("sendTransaction", ["@@@", {"encoding": "base64"}])["code"] == -32602
    tampered = bytearray(bytes(untracked_sell(sim)))
    tampered[10] ^= 1  # inside the signature
    encoded = ls.tx.encode_signed_tx(VersionedTransaction.from_bytes(bytes(tampered)))
    assert error_of("sendTransaction", [encoded, {"encoding": "base64", "skipPreflight": True}])["code"] == -32003
    parse = requests.post(sim.rpc_url, data=b"{not json", timeout=10).json()
    assert parse == {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}
    assert requests.post(sim.rpc_url, json={"id": 4, "method": "getSlot"}, timeout=10).json()["error"]["code"] == -32600
    batch = [{"jsonrpc": "2.0", "id": i, "method": m} for i, m in enumerate(("getSlot", "getHealth", "nope"))]
    answers = requests.post(sim.rpc_url, json=batch, timeout=10).json()
    assert [a["id"] for a in answers] == [0, 1, 2]
    assert isinstance(answers[0]["result"], int)
    assert answers[1]["result"] == "ok"
    assert answers[2]["error"]["code"] == -32601


# -- the simulate command line -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--drop-transactions", "2"),
        ("--fail-transactions", "-0.1"),
        ("--fail-transactions", "nan"),
        ("--land-late", "-1"),
        ("--land-late", "inf"),
        ("--blockhash-ttl-slots", "0"),
        ("--blockhash-ttl-slots", "1.5"),
    ],
)
def test_cli_fault_options_reject_bad_values_on_one_line(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["simulate", "--port", "0", "--http-port", "0", option, value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert option in err
    assert repr(value) in err


def test_cli_fault_options_reach_the_simulator() -> None:
    args = cli.build_parser().parse_args(
        [
            "simulate",
            "--port",
            "0",
            "--http-port",
            "0",
            "--drop-transactions",
            "0.25",
            "--fail-transactions",
            "0.5",
            "--land-late",
            "1.5",
            "--blockhash-ttl-slots",
            "7",
        ]
    )
    sim = cli_simulate._start(args)
    try:
        sim.pause()  # the two calls below see the same slot
        assert sim.blockhash_ttl_slots == 7
        assert sim.faults.transaction_settings() == {
            "drop": {"rate": 0.25, "remaining": None},
            "fail": {"rate": 0.5, "remaining": None},
            "late": {"rate": 1.0, "remaining": None, "seconds": 1.5},
        }
        last_valid = rpc(sim, "getLatestBlockhash")["result"]["value"]["lastValidBlockHeight"]
        assert last_valid == rpc(sim, "getSlot")["result"] + 7
    finally:
        sim.stop()
