"""Confirmation: ``getSignatureStatuses`` polling (batched), ``isBlockhashValid`` and fan-out sends.

A scripted JSON-RPC server on 127.0.0.1 verifies every signature it is sent and answers status
queries from a table the test controls; nothing here sleeps to synchronise.
"""

from __future__ import annotations

import base64
import threading
from typing import Any, Dict, Iterator, List, Optional

import pytest
from solders.keypair import Keypair
from solders.transaction import VersionedTransaction

import lasersell_sync as ls
from tests.httpserver import Recorded, Reply, ScriptedHttp, reply
from tests.txbuild import unsigned_for

FAST_POLL = 0.02


class Chain:
    """A JSON-RPC endpoint with a status table: sendTransaction, getSignatureStatuses, isBlockhashValid."""

    def __init__(self, server: ScriptedHttp, path: str = "/rpc") -> None:
        self.server = server
        self.path = path
        self.url = server.url + path
        self.statuses: Dict[str, Optional[Dict[str, Any]]] = {}
        self.valid_blockhashes: set = set()
        self.sent: List[VersionedTransaction] = []
        self.refuse = False
        self.lock = threading.Lock()
        server.handlers[path] = self.handle

    def handle(self, request: Recorded) -> Reply:
        body = request.json()
        method, params = body["method"], body["params"]
        if method == "sendTransaction":
            if self.refuse:
                return reply(200, {"jsonrpc": "2.0", "id": 1, "error": {"code": -32005, "message": "node is behind"}})
            tx = VersionedTransaction.from_bytes(base64.b64decode(params[0]))
            assert all(tx.verify_with_results()), "a transaction arrived with a bad signature"
            with self.lock:
                self.sent.append(tx)
            return reply(200, {"jsonrpc": "2.0", "id": 1, "result": str(tx.signatures[0])})
        if method == "getSignatureStatuses":
            assert params[1] == {"searchTransactionHistory": True}
            with self.lock:
                value = [self.statuses.get(sig) for sig in params[0]]
            return reply(200, {"jsonrpc": "2.0", "id": 1, "result": {"context": {"slot": 100}, "value": value}})
        if method == "isBlockhashValid":
            valid = params[0] in self.valid_blockhashes
            return reply(200, {"jsonrpc": "2.0", "id": 1, "result": {"context": {"slot": 100}, "value": valid}})
        return reply(200, {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "Method not found"}})

    def set(self, signature: str, level: Optional[str], err: Any = None, slot: int = 99) -> None:
        with self.lock:
            self.statuses[signature] = (
                None if level is None else {"slot": slot, "confirmations": 1, "err": err, "confirmationStatus": level}
            )

    def status_calls(self) -> List[List[str]]:
        return [
            r.json()["params"][0]
            for r in self.server.requests
            if r.path == self.path and r.json()["method"] == "getSignatureStatuses"
        ]


@pytest.fixture
def chain(http: ScriptedHttp) -> Chain:
    return Chain(http)


@pytest.fixture
def sender() -> Iterator[ls.TxSender]:
    with ls.TxSender(timeout=2.0, poll_interval=FAST_POLL) as tx_sender:
        yield tx_sender


def signed_tx() -> VersionedTransaction:
    keypair = Keypair()
    return ls.sign_unsigned_tx(unsigned_for(keypair), keypair)


def land_when_polled(chain: Chain, signature: str, level: str = "confirmed", err: Any = None, after: int = 2) -> None:
    """Let the status change once the poller has asked ``after`` times (it starts unseen)."""
    original = chain.handle

    def handle(request: Recorded) -> Reply:
        if request.json()["method"] == "getSignatureStatuses" and len(chain.status_calls()) >= after:
            chain.set(signature, level, err)
        return original(request)

    chain.server.handlers[chain.path] = handle


def test_confirm_waits_for_the_commitment_and_reports_the_landing(chain: Chain, sender: ls.TxSender) -> None:
    tx = signed_tx()
    signature = sender.send(ls.SendTargetRpc(url=chain.url), tx)
    chain.set(signature, "processed")  # seen, but not final enough yet
    land_when_polled(chain, signature, "confirmed", after=3)
    outcome = sender.confirm(signature, chain.url, timeout=5.0)
    assert outcome == ls.tx.Confirmation(
        signature=signature, outcome="landed", slot=99, confirmation_status="confirmed"
    )
    assert outcome.landed
    assert not outcome.failed
    assert len(chain.status_calls()) >= 3


def test_an_on_chain_error_is_a_failed_confirmation(chain: Chain, sender: ls.TxSender) -> None:
    signature = str(signed_tx().signatures[0])
    error = {"InstructionError": [1, {"Custom": 6004}]}
    chain.set(signature, "processed", err=error)
    outcome = sender.confirm(signature, chain.url, timeout=5.0)
    assert outcome.failed
    assert outcome.err == error
    assert outcome.slot == 99


def test_a_signature_never_seen_times_out(chain: Chain, sender: ls.TxSender) -> None:
    signature = str(signed_tx().signatures[0])
    outcome = sender.confirm(signature, chain.url, timeout=0.1)
    assert outcome == ls.tx.Confirmation(signature=signature, outcome="timeout")
    assert outcome.timed_out
    assert chain.status_calls()  # it did ask before giving up


def test_signatures_in_flight_share_one_call_per_poll_and_idle_polls_nothing(chain: Chain, sender: ls.TxSender) -> None:
    signatures = [str(signed_tx().signatures[0]) for _ in range(5)]
    outcomes: List[Any] = []
    done = threading.Event()

    def collect(result: Any) -> None:
        outcomes.append(result)
        if len(outcomes) == len(signatures):
            done.set()

    poller = sender.poller(chain.url)
    for signature in signatures:
        poller.watch(signature, 5.0, collect)
    calls_before = len(chain.status_calls())
    for signature in signatures:
        chain.set(signature, "finalized")
    assert done.wait(5.0)
    calls = chain.status_calls()
    assert poller.polls == len(calls)  # one HTTP call per poll, never one per signature
    assert sorted(calls[-1]) == sorted(signatures)  # the poll that confirmed them asked about all five
    assert all(len(call) == len(set(call)) for call in calls)
    assert {o.signature for o in outcomes} == set(signatures)
    assert all(o.landed for o in outcomes)
    assert calls_before <= len(calls)

    confirm_threads = [t for t in threading.enumerate() if t.name == "lasersell-confirm"]
    for thread in confirm_threads:
        thread.join(5.0)  # it ends by itself once nothing is in flight
    assert not any(t.is_alive() for t in confirm_threads)
    assert poller.in_flight() == 0
    assert len(chain.status_calls()) == len(calls)  # and nothing is polled afterwards


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (reply(503, "overloaded"), "http_status"),
        (reply(200, {"jsonrpc": "2.0", "id": 1, "error": {"code": -32005, "message": "behind"}}), "rpc_error"),
        (reply(200, "not json"), "decode_response"),
        (reply(200, {"jsonrpc": "2.0", "id": 1, "result": {"value": [{"slot": "one"}]}}), "decode_response"),
        (reply(200, {"jsonrpc": "2.0", "id": 1, "result": {"context": {"slot": 1}, "value": []}}), "missing_result"),
    ],
)
def test_rpc_failures_while_confirming_raise_typed_errors(
    http: ScriptedHttp, sender: ls.TxSender, answer: Reply, kind: str
) -> None:
    path = "/bad?api-key=SECRET-KEY-123456"
    http.queue(path, answer)
    with pytest.raises(ls.TxSubmitError) as info:
        sender.confirm(str(signed_tx().signatures[0]), http.url + path, timeout=5.0)
    assert info.value.kind == kind
    assert info.value.target == "confirm rpc"
    assert "SECRET-KEY-123456" not in str(info.value)


def test_blockhash_validity(chain: Chain, sender: ls.TxSender) -> None:
    tx = signed_tx()
    blockhash = ls.tx.recent_blockhash(tx)
    assert sender.is_blockhash_valid(chain.url, blockhash) is False
    chain.valid_blockhashes.add(str(blockhash))
    assert sender.is_blockhash_valid(chain.url, str(blockhash)) is True
    assert ls.tx.is_blockhash_valid(chain.url, blockhash) is True


def test_fan_out_sends_one_signature_to_every_target(http: ScriptedHttp, sender: ls.TxSender) -> None:
    first, second = Chain(http, "/one"), Chain(http, "/two")
    tx = signed_tx()
    submission = sender.send_many([ls.SendTargetRpc(url=first.url), ls.SendTargetHeliusSender(url=second.url)], tx)
    assert submission.signature == str(tx.signatures[0])
    assert submission.accepted == ("rpc", "helius sender")
    assert [bytes(t) for t in first.sent] == [bytes(t) for t in second.sent] == [bytes(tx)]

    second.refuse = True
    partly = sender.send_many([ls.SendTargetRpc(url=first.url), ls.SendTargetHeliusSender(url=second.url)], tx)
    assert partly.accepted == ("rpc",)
    assert partly.errors["helius sender"].kind == "rpc_error"

    first.refuse = True
    with pytest.raises(ls.TxSubmitError, match="node is behind"):
        sender.send_many([ls.SendTargetRpc(url=first.url), ls.SendTargetHeliusSender(url=second.url)], tx)


def test_send_and_confirm(chain: Chain, sender: ls.TxSender) -> None:
    tx = signed_tx()
    land_when_polled(chain, str(tx.signatures[0]), "confirmed", after=1)
    outcome = sender.send_and_confirm(ls.SendTargetRpc(url=chain.url), tx, chain.url, timeout=5.0)
    assert outcome.landed
    assert outcome.signature == str(tx.signatures[0])


def test_module_level_confirmation_uses_the_shared_sender(chain: Chain) -> None:
    tx = signed_tx()
    chain.set(str(tx.signatures[0]), "confirmed")
    assert ls.tx.send_and_confirm(ls.SendTargetRpc(url=chain.url), tx, chain.url, timeout=5.0).landed
    assert ls.tx.confirm_transaction(str(tx.signatures[0]), chain.url, timeout=5.0).landed


def test_a_closed_sender_releases_waiting_confirmations(chain: Chain) -> None:
    sender = ls.TxSender(poll_interval=FAST_POLL)
    errors: List[BaseException] = []

    def wait() -> None:
        try:
            sender.confirm(str(signed_tx().signatures[0]), chain.url, timeout=30.0)
        except ls.TxSubmitError as exc:
            errors.append(exc)

    waiter = threading.Thread(target=wait, name="test-confirm-waiter")
    waiter.start()
    with chain.server.cond:
        chain.server.cond.wait_for(lambda: chain.status_calls(), 5.0)
    sender.close()
    waiter.join(5.0)
    assert not waiter.is_alive()
    assert [getattr(e, "kind", None) for e in errors] == ["transport"]


def test_bad_arguments_fail_before_anything_is_sent(sender: ls.TxSender) -> None:
    with pytest.raises(ValueError, match="rpc_url"):
        sender.confirm("sig", "ftp://x")
    with pytest.raises(TypeError, match="signature"):
        sender.confirm(b"sig", "http://127.0.0.1:9")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        sender.send_many([], signed_tx())
    with pytest.raises(ValueError, match="commitment"):
        sender.poller("http://127.0.0.1:9").watch("sig", 1.0, print, commitment="final")
