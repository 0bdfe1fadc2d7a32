"""``keys``: public keys, keystores written from every key form, passphrase checks; secrets never echoed."""

from __future__ import annotations

import io
import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from solders.keypair import Keypair

import lasersell_sync as ls
from lasersell_sync.cli import main

ROOT = Path(__file__).resolve().parent.parent
PHRASE = " ".join(["abandon"] * 11 + ["about"])
PHRASE_WALLET = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk"  # the official CLI's vector, m/44'/501'/0'/0'
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("LASERSELL_"):
            monkeypatch.delenv(name)


def keys(
    args: List[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, stdin: str = ""
) -> Tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))  # not a terminal: secrets come from stdin
    status = main(["keys", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


def one_error_line(err: str) -> str:
    (line,) = err.splitlines()
    assert line.startswith("lasersell-sync: error: ")
    return line


@pytest.fixture
def keygen_file(tmp_path: Path) -> Tuple[Keypair, Path]:
    keypair = Keypair()
    path = tmp_path / "id.json"
    path.write_text(json.dumps(list(bytes(keypair))))
    return keypair, path


def test_show_prints_the_public_key_of_a_solana_keygen_file(
    keygen_file: Tuple[Keypair, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    keypair, path = keygen_file
    assert keys(["show", str(path)], capsys, monkeypatch) == (0, f"{keypair.pubkey()}\n", "")


def test_a_base58_secret_from_stdin_becomes_a_private_keystore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    keypair = Keypair()
    secret = str(keypair)  # base58 of the 64 bytes, as wallets export it
    out_path = tmp_path / "wallet.keystore.json"
    monkeypatch.setenv(ls.wallet.PASSPHRASE_ENV, PASSPHRASE)
    status, out, err = keys(["convert", "--base58", "--out", str(out_path)], capsys, monkeypatch, stdin=secret + "\n")
    assert (status, err) == (0, "")
    assert out == f"wrote {out_path} (wallet {keypair.pubkey()})\n"
    assert stat.S_IMODE(out_path.stat().st_mode) == 0o600
    assert secret not in out_path.read_text()
    assert ls.wallet.read_keystore(out_path, PASSPHRASE).pubkey() == keypair.pubkey()


def test_a_seed_phrase_from_stdin_becomes_a_keystore_of_the_expected_wallet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out_path = tmp_path / "phrase.keystore.json"
    monkeypatch.setenv(ls.wallet.PASSPHRASE_ENV, PASSPHRASE)
    status, out, err = keys(["convert", "--seed-phrase", "--out", str(out_path)], capsys, monkeypatch, stdin=PHRASE)
    assert (status, err) == (0, "")
    assert PHRASE_WALLET in out
    assert "abandon" not in out
    assert str(ls.wallet.read_keystore(out_path, PASSPHRASE).pubkey()) == PHRASE_WALLET
    # the same phrase, shown directly
    assert keys(["show", "--seed-phrase"], capsys, monkeypatch, stdin=PHRASE) == (0, f"{PHRASE_WALLET}\n", "")


@pytest.mark.parametrize("path", ["m/44'/501'/1'/0'", "none"])
def test_a_derivation_path_picks_another_wallet_of_the_phrase(
    path: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = ls.wallet.keypair_from_seed_phrase(PHRASE, derivation_path=None if path == "none" else path).pubkey()
    assert str(expected) != PHRASE_WALLET
    args = ["show", "--seed-phrase", "--derivation-path", path]
    assert keys(args, capsys, monkeypatch, stdin=PHRASE) == (0, f"{expected}\n", "")


def test_a_malformed_derivation_path_is_refused_before_the_phrase_is_read(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.StringIO(PHRASE)
    monkeypatch.setattr(sys, "stdin", stdin)
    with pytest.raises(SystemExit) as exited:
        main(["keys", "show", "--seed-phrase", "--derivation-path", "m/44/501"])
    assert exited.value.code == 2
    line = one_error_line(capsys.readouterr().err)
    assert "argument --derivation-path: derivation_path component 1 of 'm/44/501' is not hardened" in line
    assert stdin.tell() == 0  # the phrase was never read


@pytest.mark.parametrize(("source", "stdin"), [(["{tmp}/id.json"], ""), (["--base58"], str(Keypair()))])
def test_a_derivation_path_without_a_seed_phrase_is_refused(
    source: List[str],
    stdin: str,
    keygen_file: Tuple[Keypair, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = ["show", *(arg.replace("{tmp}", str(tmp_path)) for arg in source), "--derivation-path", "m/44'/501'/1'/0'"]
    status, out, err = keys(args, capsys, monkeypatch, stdin)
    assert (status, out) == (2, "")
    assert "--derivation-path applies to --seed-phrase only" in one_error_line(err)


def test_check_tells_a_right_passphrase_from_a_wrong_one(
    keygen_file: Tuple[Keypair, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keypair, _ = keygen_file
    store = tmp_path / "wallet.keystore.json"
    ls.wallet.write_keystore(store, keypair, PASSPHRASE, m_kib=8, t=1)  # cheap KDF settings: this test checks the CLI
    monkeypatch.setenv(ls.wallet.PASSPHRASE_ENV, PASSPHRASE)
    status, out, err = keys(["check", str(store)], capsys, monkeypatch)
    assert (status, err) == (0, "")
    assert out == f"passphrase OK: {store} holds wallet {keypair.pubkey()}\n"
    monkeypatch.setenv(ls.wallet.PASSPHRASE_ENV, "tr0ub4dor&3")
    status, out, err = keys(["check", str(store)], capsys, monkeypatch)
    assert (status, out) == (1, "")  # the answer is "no": status 1, not a usage error
    line = one_error_line(err)
    assert "wrong passphrase" in line
    assert "tr0ub4dor" not in line
    # a keystore file opens with the environment's passphrase wherever a key file is taken
    monkeypatch.setenv(ls.wallet.PASSPHRASE_ENV, PASSPHRASE)
    assert keys(["show", str(store)], capsys, monkeypatch) == (0, f"{keypair.pubkey()}\n", "")


@pytest.mark.parametrize(
    ("args", "stdin", "env", "fragment"),
    [
        (["show", "{tmp}/missing.json"], "", {}, "cannot load a keypair from {tmp}/missing.json"),
        (["show"], "", {}, "exactly one of FILE, --base58 or --seed-phrase"),
        (["show", "{tmp}/id.json", "--base58"], "", {}, "(got FILE and --base58)"),
        (["show", "--base58"], "", {}, "no base58 secret key on stdin"),
        (["show", "--base58"], "not-base58-0OIl", {}, "not base58"),
        (["show", "--seed-phrase"], "abandon " * 12, {}, "checksum"),
        (["check", "{tmp}/missing.json"], "", {ls.wallet.PASSPHRASE_ENV: PASSPHRASE}, "missing.json"),
        (["check", "{tmp}/id.json"], "", {ls.wallet.PASSPHRASE_ENV: PASSPHRASE}, "not a keystore"),
        (["check", "{tmp}/id.json"], "", {}, "not a keystore (expected a JSON object"),
        (["check", "{tmp}/missing.json"], "", {}, "cannot load a keypair from {tmp}/missing.json"),
        (["check", "{tmp}/garbage.json"], "", {}, "not a keystore"),
        (
            ["convert", "{tmp}/id.json", "--out", "{tmp}/id.json"],
            "",
            {ls.wallet.PASSPHRASE_ENV: "x"},
            "exists; pass --force",
        ),
        (
            ["convert", "{tmp}/id.json", "--out", "{tmp}/no/dir.json"],
            "",
            {ls.wallet.PASSPHRASE_ENV: "x"},
            "no such directory",
        ),
        (
            ["convert", "{tmp}/id.json", "--out", "{tmp}/new.json"],
            "",
            {},
            f"no passphrase: set {ls.wallet.PASSPHRASE_ENV}",
        ),
        (
            ["convert", "{tmp}/id.json", "--out", "{tmp}/new.json"],
            "",
            {ls.wallet.PASSPHRASE_ENV: ""},
            "PASSPHRASE is empty",
        ),
    ],
    ids=[
        "missing file",
        "no key named",
        "two keys named",
        "empty stdin",
        "bad base58",
        "bad seed phrase checksum",
        "check a missing keystore",
        "check a keygen file",
        "check a keygen file without a passphrase",
        "check a missing file without a passphrase",
        "check garbage without a passphrase",
        "convert over a file",
        "convert into a missing directory",
        "convert without a passphrase",
        "convert with an empty passphrase variable",
    ],
)
def test_bad_input_is_one_line_and_status_2(
    args: List[str],
    stdin: str,
    env: Dict[str, str],
    fragment: str,
    keygen_file: Tuple[Keypair, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "garbage.json").write_text("not json at all")
    status, out, err = keys([arg.replace("{tmp}", str(tmp_path)) for arg in args], capsys, monkeypatch, stdin)
    assert (status, out) == (2, "")
    assert fragment.replace("{tmp}", str(tmp_path)) in one_error_line(err)
    assert not (tmp_path / "new.json").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["show", "--base58"], "no base58 secret key: stdin is closed"),
        (["show", "--seed-phrase"], "no seed phrase: stdin is closed"),
        (["check", "{tmp}/wallet.keystore.json"], f"no passphrase: set {ls.wallet.PASSPHRASE_ENV}"),
        (
            ["convert", "{tmp}/wallet.keystore.json", "--out", "{tmp}/new.json"],
            f"no passphrase: set {ls.wallet.PASSPHRASE_ENV}",
        ),
    ],
    ids=["base58", "seed phrase", "keystore to check", "keystore to convert"],
)
def test_with_stdin_closed_a_missing_secret_is_one_line_and_status_2(
    args: List[str],
    fragment: str,
    keygen_file: Tuple[Keypair, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ls.wallet.write_keystore(tmp_path / "wallet.keystore.json", keygen_file[0], PASSPHRASE, m_kib=8, t=1)
    monkeypatch.setattr(sys, "stdin", None)  # as Python leaves it when started with stdin closed (<&-)
    status = main(["keys", *(arg.replace("{tmp}", str(tmp_path)) for arg in args)])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert fragment in one_error_line(err)


@pytest.mark.parametrize("stdin", ["/dev/null", "closed"])
def test_show_prints_a_keystores_public_key_without_asking_for_its_passphrase(
    stdin: str, keygen_file: Tuple[Keypair, Path], tmp_path: Path
) -> None:
    """The pubkey is plain text in the file: no passphrase, no terminal, no stdin, no key derivation."""
    keypair = keygen_file[0]
    store = tmp_path / "wallet.keystore.json"
    ls.wallet.write_keystore(store, keypair, PASSPHRASE, m_kib=8, t=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LASERSELL_")}  # no passphrase anywhere
    env["PYTHONPATH"] = str(ROOT)
    redirect = "</dev/null" if stdin == "/dev/null" else "<&-"
    command = f"exec {shlex.quote(sys.executable)} -m lasersell_sync keys show {shlex.quote(str(store))} {redirect}"
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30, env=env)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{keypair.pubkey()}\n", "")


def test_show_checks_a_keystores_form_though_it_does_not_decrypt_it(
    keygen_file: Tuple[Keypair, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = tmp_path / "wallet.keystore.json"
    ls.wallet.write_keystore(store, keygen_file[0], PASSPHRASE, m_kib=8, t=1)
    document = json.loads(store.read_text())
    store.write_text(json.dumps({**document, "version": 2}))
    status, out, err = keys(["show", str(store)], capsys, monkeypatch)
    assert (status, out) == (2, "")
    assert f"cannot read the keystore {store}: version 2 is not supported" in one_error_line(err)
    store.write_text(json.dumps({**document, "pubkey": "not-a-public-key"}))
    status, out, err = keys(["show", str(store)], capsys, monkeypatch)
    assert (status, out) == (2, "")
    assert "pubkey must be a base58 public key" in one_error_line(err)
    assert "not-a-public-key" not in err


def test_in_a_terminal_secrets_are_asked_for_without_echo_and_the_passphrase_twice(tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    keypair = Keypair()
    out_path = tmp_path / "typed.keystore.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LASERSELL_")}
    env["PYTHONPATH"] = str(ROOT)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "lasersell_sync", "keys", "convert", "--base58", "--out", str(out_path)],
        env=env,
        encoding="utf-8",
        timeout=30,
    )
    seen = io.StringIO()
    child.logfile_read = seen  # everything the terminal showed
    try:
        child.expect_exact("base58 secret key: ")
        child.sendline(str(keypair))
        child.expect_exact("passphrase for the new keystore")
        child.sendline(PASSPHRASE)
        child.expect_exact("the same passphrase again: ")
        child.sendline(PASSPHRASE)
        child.expect_exact(f"wrote {out_path} (wallet {keypair.pubkey()})")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert str(keypair) not in seen.getvalue()  # typed secrets are not echoed
    assert PASSPHRASE not in seen.getvalue()
    assert ls.wallet.read_keystore(out_path, PASSPHRASE).pubkey() == keypair.pubkey()


@pytest.mark.parametrize(("key", "status"), [("\x04", 2), ("\x03", 130)])
def test_ctrl_d_or_ctrl_c_at_a_prompt_leaves_the_prompt_line_ended(tmp_path: Path, key: str, status: int) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LASERSELL_")}
    env["PYTHONPATH"] = str(ROOT)
    child = pexpect.spawn(
        sys.executable, ["-m", "lasersell_sync", "keys", "show", "--base58"], env=env, encoding="utf-8", timeout=30
    )
    seen = io.StringIO()
    child.logfile_read = seen
    try:
        child.expect_exact("base58 secret key: ")
        child.send(key)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == status
    shown = seen.getvalue().replace("\r\n", "\n")
    assert "base58 secret key: \n" in shown  # the prompt's line ends before anything else is written
    if key == "\x04":  # the error has a line of its own
        (line,) = [line for line in shown.splitlines() if "error: no input" in line]
        assert line.endswith("error: no input (end of file at the prompt)")
        assert "secret key" not in line
