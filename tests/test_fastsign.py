"""The in-place signing fast path gives byte-identical results to the full path, or refuses."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

import lasersell_sync as ls
from tests.txbuild import unsigned_for


def legacy_unsigned(payer: Keypair, accounts: int = 3) -> str:
    memo = Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")
    instructions = [
        transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Pubkey.new_unique(), lamports=i + 1))
        for i in range(accounts)
    ]
    instructions.append(Instruction(memo, b"exit", []))
    message = Message.new_with_blockhash(instructions, payer.pubkey(), Hash.new_unique())
    return base64.b64encode(bytes(VersionedTransaction.populate(message, [Signature.default()]))).decode()


@pytest.mark.parametrize(
    "build", [lambda k: unsigned_for(k), lambda k: legacy_unsigned(k), lambda k: legacy_unsigned(k, 140)]
)
def test_the_fast_path_matches_the_full_path_byte_for_byte(build: Any) -> None:
    keypair = Keypair()
    unsigned = build(keypair)
    full = ls.sign_unsigned_tx(unsigned, keypair)
    fast = ls.tx.fast_sign(unsigned, keypair)
    assert fast.tx_b64 == ls.tx.encode_signed_tx(full)
    assert fast.signature == str(full.signatures[0])
    assert fast.blockhash == str(full.message.recent_blockhash)
    assert all(VersionedTransaction.from_bytes(base64.b64decode(fast.tx_b64)).verify_with_results())


def test_another_fee_payer_is_refused_without_signing() -> None:
    with pytest.raises(ls.TxSubmitError, match="fee payer is") as info:
        ls.tx.fast_sign(unsigned_for(Keypair()), Keypair())
    assert info.value.kind == "sign"


def test_several_signers_are_left_to_the_full_path() -> None:
    payer, other = Keypair(), Keypair()
    with pytest.raises(ls.TxSubmitError, match="2 signers are required") as info:
        ls.tx.fast_sign(unsigned_for(payer, other), payer)
    assert info.value.kind == "sign"


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ("not base64!", "invalid base64"),
        (base64.b64encode(b"\x01" + bytes(10)).decode(), "truncated"),
        (base64.b64encode(b"\x01" + bytes(64) + b"\x81\x01\x00\x00").decode(), "unsupported message version 1"),
        (base64.b64encode(b"\xff\xff\xff\xff").decode(), "bad length prefix"),
        (base64.b64encode(b"\x01" + bytes(64) + b"\x80\x02\x00\x00\x01" + bytes(64)).decode(), "inconsistent"),
    ],
)
def test_malformed_payloads_are_decode_errors(payload: str, words: str) -> None:
    with pytest.raises(ls.TxSubmitError, match=words) as info:
        ls.tx.fast_sign(payload, Keypair())
    assert info.value.kind == "decode"


def test_a_v0_message_with_lookup_tables_signs_the_same() -> None:
    keypair = Keypair()
    instruction = transfer(TransferParams(from_pubkey=keypair.pubkey(), to_pubkey=Pubkey.new_unique(), lamports=1))
    message = MessageV0.try_compile(keypair.pubkey(), [instruction], [], Hash.new_unique())
    unsigned = base64.b64encode(bytes(VersionedTransaction.populate(message, [Signature.default()]))).decode()
    assert ls.tx.fast_sign(unsigned, keypair).tx_b64 == ls.tx.encode_signed_tx(ls.sign_unsigned_tx(unsigned, keypair))
