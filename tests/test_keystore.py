"""The official CLI's encrypted keystore: round trip, the exact format, tampering, passphrases.

Argon2id at the default 64 MiB / 3 passes costs a noticeable fraction of a second, so one test
writes and reads with the defaults and the rest use the cheapest parameters (``CHEAP``).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest
from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt, crypto_aead_xchacha20poly1305_ietf_encrypt
from nacl.pwhash import argon2id
from solders.keypair import Keypair

import lasersell_sync as ls
from tests.keychecks import PASSPHRASE, assert_signs_for, raises_without

CHEAP: Dict[str, int] = {"m_kib": 8, "t": 1}
"""The cheapest Argon2id libsodium runs: fine for tests, never for a real wallet."""
AAD = b"lasersell-keystore-v1"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


def sealed_by_hand(
    keypair: Keypair,
    passphrase: str,
    *,
    m_kib: int = 8,
    t: int = 1,
    aad: bytes = AAD,
    plaintext: Optional[bytes] = None,
) -> Dict[str, Any]:
    """A keystore built here from the format's description, with PyNaCl directly."""
    salt, nonce = os.urandom(16), os.urandom(24)
    key = argon2id.kdf(32, passphrase.encode(), salt, opslimit=t, memlimit=m_kib * 1024)
    sealed = crypto_aead_xchacha20poly1305_ietf_encrypt(
        bytes(keypair) if plaintext is None else plaintext, aad, nonce, key
    )
    return {
        "version": 1,
        "pubkey": str(keypair.pubkey()),
        "kdf": {"name": "argon2id", "params": {"m_kib": m_kib, "t": t, "p": 1}, "salt_b64": b64(salt)},
        "cipher": {"name": "xchacha20poly1305", "nonce_b64": b64(nonce), "ciphertext_b64": b64(sealed)},
    }


def opened_by_hand(document: Dict[str, Any], passphrase: str) -> bytes:
    """The plaintext of a keystore, opened here from the format's description."""
    params = document["kdf"]["params"]
    salt = unb64(document["kdf"]["salt_b64"])
    key = argon2id.kdf(32, passphrase.encode(), salt, opslimit=params["t"], memlimit=params["m_kib"] * 1024)
    cipher = document["cipher"]
    return crypto_aead_xchacha20poly1305_ietf_decrypt(
        unb64(cipher["ciphertext_b64"]), AAD, unb64(cipher["nonce_b64"]), key
    )


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


@pytest.fixture(autouse=True)
def no_passphrase_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ls.wallet.PASSPHRASE_ENV, raising=False)


def test_a_keystore_round_trips_with_the_default_parameters(tmp_path: Path) -> None:
    keypair = Keypair()
    path = tmp_path / "wallet.json"
    ls.wallet.write_keystore(path, keypair, PASSPHRASE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["wallet.json"]  # no temporary file left behind
    document = json.loads(path.read_text())
    assert document["version"] == 1
    assert document["pubkey"] == str(keypair.pubkey())
    assert document["kdf"]["name"] == "argon2id"
    assert document["kdf"]["params"] == {"m_kib": 65536, "t": 3, "p": 1}
    assert len(unb64(document["kdf"]["salt_b64"])) == 16
    assert document["cipher"]["name"] == "xchacha20poly1305"
    assert len(unb64(document["cipher"]["nonce_b64"])) == 24
    assert len(unb64(document["cipher"]["ciphertext_b64"])) == 64 + 16
    text = path.read_text()
    assert str(keypair) not in text
    assert b64(bytes(keypair)) not in text
    assert PASSPHRASE not in text
    loaded = ls.wallet.read_keystore(path, PASSPHRASE)
    assert loaded == keypair
    assert_signs_for(loaded, str(keypair.pubkey()))


def test_the_format_matches_its_description_both_ways(tmp_path: Path) -> None:
    keypair = Keypair()
    written = tmp_path / "written.json"
    ls.wallet.write_keystore(written, keypair, PASSPHRASE, **CHEAP)
    assert opened_by_hand(json.loads(written.read_text()), PASSPHRASE) == bytes(keypair)
    by_hand = write_json(tmp_path / "by_hand.json", sealed_by_hand(keypair, PASSPHRASE, m_kib=16, t=2))
    assert ls.wallet.read_keystore(by_hand, PASSPHRASE) == keypair  # the file's own parameters are honoured
    assert ls.load_keypair(by_hand, passphrase=PASSPHRASE) == keypair  # told from a keygen file by content
    unpadded = json.loads(by_hand.read_text())
    unpadded["kdf"]["salt_b64"] = unpadded["kdf"]["salt_b64"].rstrip("=")
    assert ls.wallet.read_keystore(write_json(tmp_path / "unpadded.json", unpadded), PASSPHRASE) == keypair


def test_each_write_draws_a_fresh_salt_and_nonce(tmp_path: Path) -> None:
    keypair = Keypair()
    documents = []
    for name in ("a.json", "b.json"):
        ls.wallet.write_keystore(tmp_path / name, keypair, PASSPHRASE, **CHEAP)
        documents.append(json.loads((tmp_path / name).read_text()))
    assert documents[0]["kdf"]["salt_b64"] != documents[1]["kdf"]["salt_b64"]
    assert documents[0]["cipher"]["nonce_b64"] != documents[1]["cipher"]["nonce_b64"]
    assert documents[0]["cipher"]["ciphertext_b64"] != documents[1]["cipher"]["ciphertext_b64"]


def test_a_wrong_passphrase_is_a_typed_error_without_secrets(tmp_path: Path) -> None:
    keypair = Keypair()
    path = tmp_path / "wallet.json"
    ls.wallet.write_keystore(path, keypair, PASSPHRASE, **CHEAP)
    wrong = "not-the-passphrase"
    for call in (lambda: ls.wallet.read_keystore(path, wrong), lambda: ls.load_keypair(path, passphrase=wrong)):
        error = raises_without(
            ls.errors.WrongPassphraseError,
            call,
            [wrong, PASSPHRASE, str(keypair)],
            "wrong passphrase, or the keystore was modified",
        )
        assert error.path == str(path)
        assert str(path) in str(error)
        assert isinstance(error, ls.KeyLoadError)
        assert isinstance(error, ValueError)


def flip(text: str) -> str:
    """The same base64 field with one bit of its first byte flipped."""
    raw = bytearray(unb64(text))
    raw[0] ^= 1
    return b64(bytes(raw))


def edit(document: Dict[str, Any], section: Optional[str], key: str, change: Callable[[Any], Any]) -> None:
    holder = document if section is None else document[section] if "." not in section else document["kdf"]["params"]
    holder[key] = change(holder.get(key))


TAMPERED_BUT_WELL_FORMED = [
    ("cipher", "ciphertext_b64", flip),
    ("cipher", "nonce_b64", flip),
    ("kdf", "salt_b64", flip),
    ("kdf.params", "m_kib", lambda value: value * 2),
    ("kdf.params", "t", lambda value: value + 1),
]


@pytest.mark.parametrize(
    ("section", "key", "change"), TAMPERED_BUT_WELL_FORMED, ids=lambda v: v if isinstance(v, str) else ""
)
def test_tampering_with_what_the_key_depends_on_fails_decryption(
    tmp_path: Path, section: str, key: str, change: Callable[[Any], Any]
) -> None:
    keypair = Keypair()
    document = sealed_by_hand(keypair, PASSPHRASE)
    assert ls.wallet.read_keystore(write_json(tmp_path / "intact.json", document), PASSPHRASE) == keypair
    edit(document, section, key, change)
    path = write_json(tmp_path / "tampered.json", document)
    raises_without(
        ls.errors.WrongPassphraseError,
        lambda: ls.wallet.read_keystore(path, PASSPHRASE),
        [PASSPHRASE, str(keypair)],
        "or the keystore was modified",
    )


def test_the_associated_data_is_bound_and_the_version_is_checked(tmp_path: Path) -> None:
    keypair = Keypair()
    other_aad = write_json(tmp_path / "v2aad.json", sealed_by_hand(keypair, PASSPHRASE, aad=b"lasersell-keystore-v2"))
    raises_without(ls.errors.WrongPassphraseError, lambda: ls.wallet.read_keystore(other_aad, PASSPHRASE), [PASSPHRASE])
    document = sealed_by_hand(keypair, PASSPHRASE)
    document["version"] = 2
    path = write_json(tmp_path / "v2.json", document)
    error = raises_without(
        ls.errors.KeystoreFormatError,
        lambda: ls.wallet.read_keystore(path, PASSPHRASE),
        [PASSPHRASE],
        "version 2 is not supported",
    )
    assert error.field == "version"


def test_a_pubkey_that_does_not_match_the_key_inside_is_tampering(tmp_path: Path) -> None:
    keypair = Keypair()
    document = sealed_by_hand(keypair, PASSPHRASE)
    document["pubkey"] = str(Keypair().pubkey())
    path = write_json(tmp_path / "pubkey.json", document)
    error = raises_without(
        ls.errors.KeystoreFormatError,
        lambda: ls.wallet.read_keystore(path, PASSPHRASE),
        [PASSPHRASE, str(keypair)],
        "does not match the decrypted key",
    )
    assert error.field == "pubkey"
    halves = sealed_by_hand(keypair, PASSPHRASE, plaintext=bytes(keypair)[:32] + bytes(Keypair().pubkey()))
    path = write_json(tmp_path / "halves.json", halves)
    error = raises_without(
        ls.errors.KeystoreFormatError, lambda: ls.wallet.read_keystore(path, PASSPHRASE), [PASSPHRASE], "public half"
    )
    assert error.field == "cipher.ciphertext_b64"


MALFORMED: List[Any] = [
    ("version", None, "version", lambda v: "1", "must be an integer"),
    ("version", None, "version", lambda v: True, "must be an integer"),
    ("pubkey", None, "pubkey", lambda v: "not-a-key", "base58 public key"),
    ("kdf", None, "kdf", lambda v: "argon2id", "must be a JSON object"),
    ("kdf.name", "kdf", "name", lambda v: "scrypt", "must be 'argon2id'"),
    ("kdf.params", "kdf", "params", lambda v: None, "must be a JSON object"),
    ("kdf.params.p", "kdf.params", "p", lambda v: 4, "one lane"),
    ("kdf.params.m_kib", "kdf.params", "m_kib", lambda v: 2**30, "within 8..1048576"),
    ("kdf.params.m_kib", "kdf.params", "m_kib", lambda v: 4, "within 8..1048576"),
    ("kdf.params.t", "kdf.params", "t", lambda v: 10**6, "within 1..16"),
    ("kdf.params.t", "kdf.params", "t", lambda v: 0, "within 1..16"),
    ("kdf.params.t", "kdf.params", "t", lambda v: 3.0, "must be an integer"),
    ("kdf.salt_b64", "kdf", "salt_b64", lambda v: b64(bytes(15)), "16 bytes, got 15"),
    ("kdf.salt_b64", "kdf", "salt_b64", lambda v: "not base64!", "not valid base64"),
    ("kdf.salt_b64", "kdf", "salt_b64", lambda v: 7, "must be a base64 string"),
    ("cipher.name", "cipher", "name", lambda v: "aes-256-gcm", "must be 'xchacha20poly1305'"),
    ("cipher.nonce_b64", "cipher", "nonce_b64", lambda v: b64(bytes(12)), "24 bytes, got 12"),
    ("cipher.ciphertext_b64", "cipher", "ciphertext_b64", lambda v: b64(unb64(v)[:-1]), "80 bytes, got 79"),
    ("cipher", None, "cipher", lambda v: [], "must be a JSON object"),
]


@pytest.mark.parametrize(
    ("field", "section", "key", "change", "match"), MALFORMED, ids=[f"{m[0]}-{i}" for i, m in enumerate(MALFORMED)]
)
def test_malformed_fields_are_named_before_any_key_is_derived(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    section: Optional[str],
    key: str,
    change: Callable[[Any], Any],
    match: str,
) -> None:
    keypair = Keypair()
    document = sealed_by_hand(keypair, PASSPHRASE)
    edit(document, section, key, change)
    path = write_json(tmp_path / "bad.json", document)
    derived: List[int] = []
    monkeypatch.setattr(argon2id, "kdf", lambda *args, **kwargs: derived.append(1))  # must not be reached
    error = raises_without(
        ls.errors.KeystoreFormatError,
        lambda: ls.wallet.read_keystore(path, PASSPHRASE),
        [PASSPHRASE, str(keypair)],
        match,
    )
    assert error.field == field
    assert str(path) in str(error)
    assert derived == []


def test_missing_fields_are_named(tmp_path: Path) -> None:
    for section, key, field in [
        (None, "kdf", "kdf"),
        ("kdf", "salt_b64", "kdf.salt_b64"),
        ("cipher", "nonce_b64", "cipher.nonce_b64"),
    ]:
        document = sealed_by_hand(Keypair(), PASSPHRASE)
        del (document if section is None else document[section])[key]
        path = write_json(tmp_path / f"{field}.json", document)
        error = raises_without(
            ls.errors.KeystoreFormatError,
            lambda p=path: ls.wallet.read_keystore(p, PASSPHRASE),
            [PASSPHRASE],
            "is missing",
        )
        assert error.field == field


def test_truncated_garbage_and_keygen_files_are_not_keystores(tmp_path: Path) -> None:
    keypair = Keypair()
    path = tmp_path / "wallet.json"
    ls.wallet.write_keystore(path, keypair, PASSPHRASE, **CHEAP)
    text = path.read_text()
    cases = {
        "truncated": text[: len(text) // 2],
        "garbage": "\x00garbage",
        "empty": "",
        "keygen": json.dumps(list(bytes(keypair))),
    }
    for name, content in cases.items():
        broken = tmp_path / f"{name}.json"
        broken.write_text(content)
        error = raises_without(
            ls.errors.KeystoreFormatError,
            lambda p=broken: ls.wallet.read_keystore(p, PASSPHRASE),
            [PASSPHRASE, str(keypair)],
            "not a keystore",
        )
        assert error.path == str(broken)
    truncated = tmp_path / "truncated.json"
    raises_without(
        ls.errors.InvalidKeyError,
        lambda: ls.load_keypair(truncated, passphrase=PASSPHRASE),
        [PASSPHRASE],
        "nor a keystore",
    )
    raises_without(
        ls.errors.InvalidKeyError,
        lambda: ls.wallet.read_keystore(tmp_path / "missing.json", PASSPHRASE),
        [PASSPHRASE],
        "cannot load a keypair from",
    )


def test_the_passphrase_comes_from_the_argument_then_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keypair = Keypair()
    path = tmp_path / "wallet.json"
    ls.wallet.write_keystore(path, keypair, PASSPHRASE, **CHEAP)
    for call in (lambda: ls.wallet.read_keystore(path), lambda: ls.load_keypair(path)):
        error = raises_without(ls.errors.PassphraseRequiredError, call, [str(keypair)], "LASERSELL_WALLET_PASSPHRASE")
        assert error.field == "passphrase"
        assert error.path == str(path)
    monkeypatch.setenv(ls.wallet.PASSPHRASE_ENV, "")  # empty counts as unset
    raises_without(ls.errors.PassphraseRequiredError, lambda: ls.wallet.read_keystore(path), [], "passphrase=")
    monkeypatch.setenv(ls.wallet.PASSPHRASE_ENV, PASSPHRASE)
    assert ls.wallet.PASSPHRASE_ENV == "LASERSELL_WALLET_PASSPHRASE"
    assert ls.wallet.read_keystore(path) == keypair
    assert ls.load_keypair(path) == keypair
    monkeypatch.setenv(ls.wallet.PASSPHRASE_ENV, "stale-environment-value")
    assert ls.wallet.read_keystore(path, PASSPHRASE) == keypair  # the argument wins
    raises_without(
        ls.errors.WrongPassphraseError, lambda: ls.load_keypair(path), ["stale-environment-value", PASSPHRASE]
    )
    raises_without(
        TypeError, lambda: ls.wallet.read_keystore(path, PASSPHRASE.encode()), [PASSPHRASE], "passphrase must be a str"
    )  # type: ignore[arg-type]


def test_writing_is_atomic_and_private_from_creation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "wallet.json"
    path.write_text("previous content")
    os.chmod(path, 0o644)
    renames: List[Any] = []
    real_replace = os.replace

    def replace(source: Any, target: Any) -> None:
        renames.append(
            (Path(source).parent, stat.S_IMODE(os.stat(source).st_mode), json.loads(Path(source).read_text())["pubkey"])
        )
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    previous_umask = os.umask(0)  # a permissive umask must not widen the file
    try:
        keypair = Keypair()
        ls.wallet.write_keystore(path, keypair, PASSPHRASE, **CHEAP)
    finally:
        os.umask(previous_umask)
    assert renames == [(tmp_path, 0o600, str(keypair.pubkey()))]  # complete and private before it was renamed in
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ls.wallet.read_keystore(path, PASSPHRASE) == keypair
    assert sorted(os.listdir(tmp_path)) == ["wallet.json"]


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(OSError, match="occupied"):  # os.replace cannot put a file over a directory
        ls.wallet.write_keystore(target, Keypair(), PASSPHRASE, **CHEAP)
    assert sorted(os.listdir(tmp_path)) == ["occupied"]
    assert sorted(os.listdir(target)) == ["keep"]
    with pytest.raises(FileNotFoundError):
        ls.wallet.write_keystore(tmp_path / "no" / "such" / "dir.json", Keypair(), PASSPHRASE, **CHEAP)


def test_write_keystore_checks_its_arguments_first(tmp_path: Path) -> None:
    path = tmp_path / "wallet.json"
    keypair = Keypair()
    raises_without(
        TypeError, lambda: ls.wallet.write_keystore(path, str(keypair), PASSPHRASE), [str(keypair)], "solders Keypair"
    )  # type: ignore[arg-type]
    raises_without(
        TypeError,
        lambda: ls.wallet.write_keystore(path, keypair, PASSPHRASE.encode()),
        [PASSPHRASE],
        "passphrase must be a str",
    )  # type: ignore[arg-type]
    raises_without(ValueError, lambda: ls.wallet.write_keystore(path, keypair, ""), [], "must not be empty")
    raises_without(
        ValueError, lambda: ls.wallet.write_keystore(path, keypair, PASSPHRASE, m_kib=4), [PASSPHRASE], "m_kib"
    )
    raises_without(
        ValueError, lambda: ls.wallet.write_keystore(path, keypair, PASSPHRASE, m_kib=8, t=0), [PASSPHRASE], "t must be"
    )
    assert not path.exists()


def test_without_pynacl_the_error_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_json(tmp_path / "wallet.json", sealed_by_hand(Keypair(), PASSPHRASE))
    monkeypatch.setitem(sys.modules, "nacl.bindings", None)  # "import nacl.bindings" now fails
    for call in (
        lambda: ls.wallet.read_keystore(path, PASSPHRASE),
        lambda: ls.wallet.write_keystore(tmp_path / "new.json", Keypair(), PASSPHRASE),
    ):
        error = raises_without(ls.MissingExtraError, call, [PASSPHRASE], "pip install 'lasersell_sync\\[keystore\\]'")
        assert error.extra == "keystore"
    assert not (tmp_path / "new.json").exists()


def test_log_lines_name_the_file_and_wallet_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    keypair = Keypair()
    path = tmp_path / "wallet.json"
    with caplog.at_level(logging.DEBUG, logger="lasersell_sync.wallet"):
        ls.wallet.write_keystore(path, keypair, PASSPHRASE, **CHEAP)
        ls.wallet.read_keystore(path, PASSPHRASE)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert str(keypair.pubkey()) in logged
    assert str(keypair) not in logged
    assert PASSPHRASE not in logged
