"""Signing real transactions and submitting them to a JSON-RPC server that verifies them."""

from __future__ import annotations

import base64
import json
import socket
from typing import Any, Iterator

import pytest
from solders.keypair import Keypair
from solders.message import to_bytes_versioned
from solders.signature import Signature
from solders.transaction import VersionedTransaction

import lasersell_sync as ls
from tests.httpserver import Recorded, Reply, ScriptedHttp, reply
from tests.support import fixture_json
from tests.txbuild import unsigned_for


@pytest.fixture
def rpc() -> Iterator[ScriptedHttp]:
    server = ScriptedHttp()

    def verify(request: Recorded) -> Reply:
        body = request.json()
        tx = VersionedTransaction.from_bytes(base64.b64decode(body["params"][0]))
        if not all(tx.verify_with_results()):
            return reply(200, {"jsonrpc": "2.0", "id": 1, "error": {"code": -32003, "message": "bad signature"}})
        return reply(200, {"jsonrpc": "2.0", "id": 1, "result": str(tx.signatures[0])})

    server.handlers["/rpc"] = verify
    yield server
    server.stop()


@pytest.fixture
def sender() -> Iterator[ls.TxSender]:
    with ls.TxSender(timeout=2.0) as tx_sender:
        yield tx_sender


def test_signing_produces_a_verifiable_signature() -> None:
    keypair = Keypair()
    signed = ls.sign_unsigned_tx(unsigned_for(keypair), keypair)
    assert signed.verify_with_results() == [True]
    assert signed.signatures[0].verify(keypair.pubkey(), to_bytes_versioned(signed.message))
    assert base64.b64decode(ls.tx.encode_signed_tx(signed)) == bytes(signed)


def test_multi_signer_transactions_take_every_keypair() -> None:
    first, second = Keypair(), Keypair()
    signed = ls.sign_unsigned_tx(unsigned_for(first, second), [second, first])
    assert signed.verify_with_results() == [True, True]
    with pytest.raises(ls.TxSubmitError, match="missing keypairs for required signers") as info:
        ls.sign_unsigned_tx(unsigned_for(first, second), first)
    assert str(second.pubkey()) in str(info.value)


def test_a_wrong_keypair_is_named_without_its_secret() -> None:
    owner, stranger = Keypair(), Keypair()
    with pytest.raises(ls.TxSubmitError) as info:
        ls.sign_unsigned_tx(unsigned_for(owner), stranger)
    error = info.value
    assert error.kind == "sign"
    assert f"{stranger.pubkey()} is not a required signer; expected {owner.pubkey()}" in str(error)
    assert str(stranger) not in str(error)  # str(Keypair) is its secret
    assert str(owner) not in repr(error)


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ("", "base64 payload is empty"),
        ("   ", "base64 payload is empty"),
        ("abc", "invalid base64"),
        ("ab$=", "invalid base64"),
        ("dGVzdA==", "not a serialized VersionedTransaction"),
        (b"bytes", "must be base64 text"),
    ],
)
def test_undecodable_payloads(payload: Any, words: str) -> None:
    with pytest.raises(ls.TxSubmitError, match=words) as info:
        ls.sign_unsigned_tx(payload, Keypair())
    assert info.value.kind == "decode"


def test_whitespace_around_base64_is_tolerated() -> None:
    keypair = Keypair()
    assert ls.sign_unsigned_tx("  " + unsigned_for(keypair) + "\n", keypair).verify_with_results() == [True]


def test_rpc_target_payload_and_verified_signature(rpc: ScriptedHttp, sender: ls.TxSender) -> None:
    keypair = Keypair()
    signed = ls.sign_unsigned_tx(unsigned_for(keypair), keypair)
    signature = sender.send(ls.SendTargetRpc(url=rpc.url + "/rpc"), signed)
    assert signature == str(signed.signatures[0])
    (request,) = rpc.requests
    expected = fixture_json("rpc_send_transaction_request_rpc_target.json")
    expected["params"][0] = ls.tx.encode_signed_tx(signed)
    assert request.json() == expected
    assert list(request.json()["params"][1]) == list(expected["params"][1])
    assert request.headers["content-type"] == "application/json"
    assert "x-api-key" not in request.headers


def test_sender_and_astralane_targets(rpc: ScriptedHttp, sender: ls.TxSender) -> None:
    keypair = Keypair()
    tx_b64 = ls.tx.encode_signed_tx(ls.sign_unsigned_tx(unsigned_for(keypair), keypair))
    sender.send_b64(ls.SendTargetHeliusSender(url=rpc.url + "/rpc"), tx_b64)
    astralane = ls.SendTargetAstralane(api_key="astra-SECRET", region="ams", endpoint=rpc.url + "/rpc")
    sender.send_b64(astralane, tx_b64)
    expected = fixture_json("rpc_send_transaction_request_sender_target.json")
    expected["params"][0] = tx_b64
    helius, astra = rpc.requests
    assert helius.json() == expected
    assert astra.json() == expected
    assert "x-api-key" not in helius.headers
    assert astra.headers["x-api-key"] == "astra-SECRET"
    assert "astra-SECRET" not in repr(astralane)
    assert ls.SendTargetAstralane(api_key="k", region="jp").url == "https://jp.gateway.astralane.io/iris"
    with pytest.raises(ValueError, match="unknown Astralane region"):
        ls.SendTargetAstralane(api_key="k", region="mars")


def test_signatures_are_verified_by_the_rpc_server(rpc: ScriptedHttp, sender: ls.TxSender) -> None:
    keypair = Keypair()
    signed = ls.sign_unsigned_tx(unsigned_for(keypair), keypair)
    raw = bytearray(bytes(signed))
    raw[-2] ^= 0x01  # tamper with the transfer amount after signing
    with pytest.raises(ls.TxSubmitError) as info:
        sender.send_b64(ls.SendTargetRpc(url=rpc.url + "/rpc"), base64.b64encode(bytes(raw)).decode())
    assert info.value.kind == "rpc_error"
    assert json.loads(str(info.value).split(": ", 1)[1]) == {"code": -32003, "message": "bad signature"}


@pytest.mark.parametrize(
    ("fixture_or_body", "status", "kind", "words"),
    [
        ("rpc_send_transaction_response_error.json", 200, "rpc_error", '"code":-32002'),
        ("rpc_send_transaction_response_empty_result.json", 200, "missing_result", "no signature in result"),
        ({"jsonrpc": "2.0", "id": 1}, 200, "missing_result", "no signature in result"),
        ("not json at all", 200, "decode_response", "response is not JSON"),
        ([1], 200, "decode_response", "not a JSON object"),
        ({"error": "overloaded"}, 503, "http_status", "HTTP 503"),
    ],
)
def test_rpc_response_handling(
    rpc: ScriptedHttp, sender: ls.TxSender, fixture_or_body: Any, status: int, kind: str, words: str
) -> None:
    body = fixture_json(fixture_or_body) if str(fixture_or_body).endswith(".json") else fixture_or_body
    rpc.queue("/rpc", reply(status, body))
    with pytest.raises(ls.TxSubmitError) as info:
        sender.send_b64(ls.SendTargetRpc(url=rpc.url + "/rpc"), "AAAA")
    assert (info.value.kind, info.value.target) == (kind, "rpc")
    assert words in str(info.value)
    assert str(info.value).startswith("rpc: ")


def test_ok_fixture_returns_the_signature(rpc: ScriptedHttp, sender: ls.TxSender) -> None:
    body = fixture_json("rpc_send_transaction_response_ok.json")
    rpc.queue("/rpc", reply(200, body))
    assert sender.send_b64(ls.SendTargetHeliusSender(url=rpc.url + "/rpc"), "AAAA") == body["result"]


def test_transport_errors_name_the_target_and_hide_keys() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = ls.SendTargetAstralane(api_key="astra-SECRET", endpoint=f"http://127.0.0.1:{port}/iris")
    with ls.TxSender() as tx_sender, pytest.raises(ls.TxSubmitError) as info:
        tx_sender.send_b64(target, "AAAA")
    assert (info.value.kind, info.value.target) == ("transport", "astralane")
    assert "astra-SECRET" not in str(info.value)


def test_connections_are_pooled(rpc: ScriptedHttp, sender: ls.TxSender) -> None:
    keypair = Keypair()
    target = ls.SendTargetRpc(url=rpc.url + "/rpc")
    for _ in range(5):
        sender.send(target, ls.sign_unsigned_tx(unsigned_for(keypair), keypair))
    assert rpc.connections == 1


def test_module_level_send_functions_use_a_shared_sender(rpc: ScriptedHttp) -> None:
    keypair = Keypair()
    signed = ls.sign_unsigned_tx(unsigned_for(keypair), keypair)
    target = ls.SendTargetRpc(url=rpc.url + "/rpc")
    assert ls.tx.send_transaction(target, signed) == str(signed.signatures[0])
    assert ls.tx.send_transaction_b64(target, ls.tx.encode_signed_tx(signed)) == str(signed.signatures[0])


def test_defaults_follow_the_spec() -> None:
    assert ls.SendTargetRpc().url == "https://solana-rpc.publicnode.com"
    assert ls.SendTargetHeliusSender().url == "https://sender.helius-rpc.com/fast"
    assert ls.SendTargetAstralane(api_key="k").url == "https://fr.gateway.astralane.io/iris"
    assert ls.SendTargetRpc(max_retries=3).config()["maxRetries"] == 3


def test_ownership_proof_verifies_against_the_exact_message() -> None:
    keypair = Keypair()
    proof = ls.prove_ownership(keypair, timestamp=1706000000)
    assert proof.wallet_pubkey == str(keypair.pubkey())
    assert proof.message == f"lasersell-register:{keypair.pubkey()}:1706000000"
    assert Signature.from_string(proof.signature).verify(keypair.pubkey(), proof.message.encode())
    assert not Signature.from_string(proof.signature).verify(Keypair().pubkey(), proof.message.encode())
    assert str(keypair) not in repr(proof)
    now = ls.prove_ownership(keypair)
    assert abs(int(now.message.rsplit(":", 1)[1]) - __import__("time").time()) < 5
    with pytest.raises(TypeError, match="solders Keypair"):
        ls.prove_ownership("not a keypair")  # type: ignore[arg-type]


def test_load_keypair_reads_solana_keygen_files_and_hides_their_contents(tmp_path: Any) -> None:
    keypair = Keypair()
    path = tmp_path / "id.json"
    path.write_text(json.dumps(list(bytes(keypair))))
    assert ls.load_keypair(path).pubkey() == keypair.pubkey()
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(list(bytes(keypair))[:63]))
    with pytest.raises(ValueError, match="not a solana-keygen keypair file") as info:
        ls.load_keypair(broken)
    assert str(list(bytes(keypair))[:8])[1:-1] not in str(info.value)
    with pytest.raises(ValueError, match="cannot load a keypair from"):
        ls.load_keypair(tmp_path / "missing.json")
