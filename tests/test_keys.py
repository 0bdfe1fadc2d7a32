"""Keys in every form users hold them: seed phrases, base58 secret keys, solana-keygen files.

The seed-phrase derivation is checked against the official CLI's vector and against a SLIP-0010
ed25519 derivation written here with hashlib/hmac and PyNaCl's ed25519 (not solders), so the
tests do not just repeat the code under test. Every error is typed and carries no secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import unicodedata
from pathlib import Path
from typing import Any, List

import pytest
from nacl.signing import SigningKey
from solders.keypair import Keypair
from solders.pubkey import Pubkey

import lasersell_sync as ls
from lasersell_sync.wallet._secret import BASE58_ALPHABET
from tests.keychecks import PASSPHRASE, assert_signs_for, raises_without

ABANDON = " ".join(["abandon"] * 11 + ["about"])
"""BIP39's first test phrase (all-zero entropy)."""
OFFICIAL_CLI_VECTOR = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk"
"""What the official CLI derives from ABANDON at m/44'/501'/0'/0' with no passphrase."""
TREZOR_SEED = bytes.fromhex(
    "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04"
)
"""The BIP39 reference vectors' seed of ABANDON with the passphrase "TREZOR"."""
LEGAL = "legal winner thank year wave sausage worth useful legal winner thank yellow"
"""BIP39 reference vector for entropy 0x7f * 16."""
ZOO_24 = " ".join(["zoo"] * 23 + ["vote"])
"""BIP39 reference vector for entropy 0xff * 32 (24 words)."""


# -- an independent derivation: BIP39 seed, SLIP-0010 ed25519, ed25519 public key ------------------


def bip39_seed(phrase: str, passphrase: str = "") -> bytes:
    normalized = unicodedata.normalize("NFKD", phrase)
    salt = "mnemonic" + unicodedata.normalize("NFKD", passphrase)
    return hashlib.pbkdf2_hmac("sha512", normalized.encode(), salt.encode(), 2048)


def slip10_ed25519(seed: bytes, indexes: List[int]) -> bytes:
    """SLIP-0010 for ed25519: hardened children only; the 32-byte private key at the path."""
    digest = hmac.new(b"ed25519 seed", seed, hashlib.sha512).digest()
    key, chain = digest[:32], digest[32:]
    for index in indexes:
        data = b"\x00" + key + (index | 0x80000000).to_bytes(4, "big")
        digest = hmac.new(chain, data, hashlib.sha512).digest()
        key, chain = digest[:32], digest[32:]
    return key


def ed25519_pubkey(private: bytes) -> str:
    return str(Pubkey.from_bytes(bytes(SigningKey(private).verify_key)))


# -- seed phrases ----------------------------------------------------------------------------------


def test_the_official_cli_vector() -> None:
    keypair = ls.wallet.keypair_from_seed_phrase(ABANDON)
    assert str(keypair.pubkey()) == OFFICIAL_CLI_VECTOR
    assert ls.wallet.DEFAULT_DERIVATION_PATH == "m/44'/501'/0'/0'"
    assert_signs_for(keypair, OFFICIAL_CLI_VECTOR)
    assert ed25519_pubkey(slip10_ed25519(bip39_seed(ABANDON), [44, 501, 0, 0])) == OFFICIAL_CLI_VECTOR
    pasted = "  Abandon abandon ABANDON\tabandon abandon abandon\nabandon abandon abandon abandon abandon about \n"
    assert ls.wallet.keypair_from_seed_phrase(pasted) == keypair  # case and whitespace do not make a new wallet


@pytest.mark.parametrize(
    ("phrase", "passphrase", "path", "indexes"),
    [
        (ABANDON, "TREZOR", "m/44'/501'/0'/0'", [44, 501, 0, 0]),
        (ABANDON, "", "m/44'/501'/1'/0'", [44, 501, 1, 0]),
        (ABANDON, "pässwörd ünïcode", "m/44'/501'/7'/0'", [44, 501, 7, 0]),
        (LEGAL, "", "m/44'/501'/0'", [44, 501, 0]),
        (ZOO_24, "TREZOR", "m/44h/501H/2'/0h", [44, 501, 2, 0]),
    ],
)
def test_passphrases_and_accounts_match_an_independent_slip10_derivation(
    phrase: str, passphrase: str, path: str, indexes: List[int]
) -> None:
    keypair = ls.wallet.keypair_from_seed_phrase(phrase, passphrase=passphrase, derivation_path=path)
    expected = ed25519_pubkey(slip10_ed25519(bip39_seed(phrase, passphrase), indexes))
    assert str(keypair.pubkey()) == expected
    assert_signs_for(keypair, expected)
    assert str(keypair.pubkey()) != OFFICIAL_CLI_VECTOR  # a different passphrase or account is another wallet


def test_the_bip39_seed_matches_the_reference_vector_and_no_path_is_solana_keygen() -> None:
    assert bip39_seed(ABANDON, "TREZOR") == TREZOR_SEED  # the test's own derivation is right
    keypair = ls.wallet.keypair_from_seed_phrase(ABANDON, passphrase="TREZOR", derivation_path=None)
    assert str(keypair.pubkey()) == ed25519_pubkey(TREZOR_SEED[:32])
    assert keypair == Keypair.from_seed_phrase_and_passphrase(ABANDON, "TREZOR")  # solana-keygen's no-path key


@pytest.mark.parametrize(
    ("phrase", "match"),
    [
        (ABANDON.replace("about", "abandon"), "checksum"),
        (" ".join(reversed(LEGAL.split())), "checksum"),
        (ABANDON.replace("about", "abuot"), "word 12 is not in the BIP39 English word list"),
        ("abandn " + ABANDON.split(" ", 1)[1].replace("about", "abuot"), "words 1, 12 are not"),
        (" ".join(["abandon"] * 11), "has 11 words"),
        (ABANDON + " about", "has 13 words"),
        ("", "has 0 words"),
    ],
)
def test_an_invalid_phrase_is_an_error_not_another_wallet(phrase: str, match: str) -> None:
    error = raises_without(
        ls.errors.InvalidSeedPhraseError,
        lambda: ls.wallet.keypair_from_seed_phrase(phrase, passphrase=PASSPHRASE),
        ["abuot", "abandn", PASSPHRASE, "yellow", "legal"],
        match=match,
    )
    assert isinstance(error, ls.KeyLoadError)
    assert isinstance(error, ValueError)
    assert isinstance(error, ls.LaserSellError)
    assert error.field == "phrase"


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("m/44'/501'/0/0", "component 3 .* is not hardened"),
        ("M/44'/501'/0'/0'", "must look like"),
        ("44'/501'/0'/0'", "must look like"),
        ("m/44'/501'/2147483648'/0'", "component 3 .* below 2\\^31"),
        ("m/44'/501'/x'/0'", "component 3"),
        ("m/44'/501'/0'/", "component 4"),
        ("m/" + "0'/" * 200, "must look like"),
    ],
)
def test_a_bad_derivation_path_is_refused_before_anything_is_derived(path: str, match: str) -> None:
    error = raises_without(
        ls.errors.InvalidDerivationPathError,
        lambda: ls.wallet.keypair_from_seed_phrase(ABANDON, derivation_path=path),
        ["abandon", "about"],
        match=match,
    )
    assert error.field == "derivation_path"


def test_seed_phrase_arguments_are_type_checked_without_echoing_them() -> None:
    raises_without(
        TypeError, lambda: ls.wallet.keypair_from_seed_phrase(ABANDON.encode()), ["abandon"], "phrase must be a str"
    )  # type: ignore[arg-type]
    raises_without(
        TypeError,
        lambda: ls.wallet.keypair_from_seed_phrase(ABANDON, passphrase=PASSPHRASE.encode()),
        [PASSPHRASE],
        "passphrase",
    )  # type: ignore[arg-type]
    raises_without(
        TypeError,
        lambda: ls.wallet.keypair_from_seed_phrase(ABANDON, derivation_path=0),
        ["abandon"],
        "derivation_path",
    )  # type: ignore[arg-type]


def test_without_the_word_list_package_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mnemonic", None)  # "import mnemonic" now fails
    error = raises_without(ls.MissingExtraError, lambda: ls.wallet.keypair_from_seed_phrase(ABANDON), ["abandon"])
    assert "pip install 'lasersell_sync[keystore]'" in str(error)
    assert error.extra == "keystore"
    assert isinstance(error, ls.KeyLoadError)


# -- base58 secret keys ----------------------------------------------------------------------------


def b58encode(raw: bytes) -> str:
    number = int.from_bytes(raw, "big")
    digits = ""
    while number:
        number, digit = divmod(number, 58)
        digits = BASE58_ALPHABET[digit] + digits
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + digits


def test_a_base58_secret_key_as_phantom_exports_it() -> None:
    keypair = Keypair()
    exported = b58encode(bytes(keypair))
    assert exported == str(keypair)  # the test's encoder agrees with solders
    loaded = ls.wallet.keypair_from_base58(exported)
    assert loaded == keypair
    assert_signs_for(loaded, str(keypair.pubkey()))
    assert ls.wallet.keypair_from_base58(f"  {exported}\n") == keypair  # pasted with a newline
    low = Keypair.from_seed(bytes(32))  # a secret starting with zero bytes keeps its leading "1"s
    assert ls.wallet.keypair_from_base58(b58encode(bytes(low))) == low


def test_bad_base58_keys_are_typed_errors_that_never_quote_the_key() -> None:
    keypair = Keypair()
    secret = str(keypair)
    raw = bytes(keypair)
    cases = [
        (b58encode(raw[:63]), "decodes to 63 bytes, expected 64"),
        (b58encode(raw + b"\1"), "decodes to 65 bytes"),
        (str(keypair.pubkey()), "32 bytes: that is a public key or a bare seed"),
        (b58encode(raw[:32]), "32 bytes"),
        (secret[:-1] + "0", "not base58"),
        (secret[:40] + "Il" + secret[42:], "not base58"),
        (secret * 2, "characters long"),
        (b58encode(raw[:32] + bytes(Keypair().pubkey())), "public half does not match"),
        ("", "decodes to 0 bytes"),
    ]
    for text, match in cases:
        error = raises_without(
            ls.errors.InvalidKeyError,
            lambda t=text: ls.wallet.keypair_from_base58(t),
            [secret, text[:20] or secret],
            match,
        )
        assert error.field == "secret"
        assert isinstance(error, ValueError)
    raises_without(TypeError, lambda: ls.wallet.keypair_from_base58(raw), [secret], "secret must be a base58 str")  # type: ignore[arg-type]


# -- solana-keygen files ---------------------------------------------------------------------------


def test_solana_keygen_files_load_by_str_and_path(tmp_path: Path) -> None:
    keypair = Keypair()
    path = tmp_path / "id.json"
    path.write_text(json.dumps(list(bytes(keypair))))
    for given in (path, str(path)):
        loaded = ls.load_keypair(given)
        assert loaded == keypair
        assert_signs_for(loaded, str(keypair.pubkey()))
    path.write_text(json.dumps(list(bytes(keypair)), indent=1) + "\n")  # formatting does not matter
    assert ls.load_keypair(path) == keypair


def test_bad_keygen_files_are_typed_errors_naming_the_file_not_the_numbers(tmp_path: Path) -> None:
    keypair = Keypair()
    values = list(bytes(keypair))
    mismatched = values[:32] + list(bytes(Keypair().pubkey()))
    cases: List[Any] = [
        (json.dumps(values[:63]), "not a solana-keygen keypair file .*got 63"),
        (json.dumps([*values, 1]), "got 65"),
        (json.dumps([*values[:63], 256]), "integers 0..255"),
        (json.dumps([*values[:63], True]), "integers 0..255"),
        (json.dumps([*values[:63], 1.0]), "integers 0..255"),
        (json.dumps(mismatched), "not the public key of the first 32"),
        (json.dumps(str(keypair)), "nor a keystore"),
        ("[" * 10_000, "nor a keystore"),
        ("", "nor a keystore"),
        ("garbage", "nor a keystore"),
        (b"\xff\xfe[1, 2]", "not a text"),
        ("[" + "0, " * 30_000 + "0]", "larger than"),
    ]
    for number, (content, match) in enumerate(cases):
        path = tmp_path / f"key{number}.json"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        error = raises_without(
            ls.errors.InvalidKeyError,
            lambda p=path: ls.load_keypair(p),
            [str(keypair), ", ".join(map(str, values[:6]))],
            match,
        )
        assert str(path) in str(error)
        assert error.path == str(path)
        assert isinstance(error, ValueError)


def test_unreadable_files_keep_the_old_message(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.json", tmp_path):
        error = raises_without(ls.KeyLoadError, lambda p=path: ls.load_keypair(p), [], "cannot load a keypair from")
        assert str(path) in str(error)
    raises_without(TypeError, lambda: ls.load_keypair(42), [], "path must be a str or a path")  # type: ignore[arg-type]


def test_the_key_errors_form_one_family_under_key_load_error() -> None:
    family = [
        ls.errors.InvalidKeyError,
        ls.errors.InvalidSeedPhraseError,
        ls.errors.InvalidDerivationPathError,
        ls.errors.KeystoreFormatError,
        ls.errors.WrongPassphraseError,
        ls.errors.PassphraseRequiredError,
        ls.MissingExtraError,
    ]
    for kind in family:
        assert issubclass(kind, ls.KeyLoadError)
        assert kind.__name__ in ls.errors.__all__
    assert "KeyLoadError" in ls.__all__  # catch the family with the top-level name
    assert issubclass(ls.KeyLoadError, ls.LaserSellError)
    assert issubclass(ls.KeyLoadError, ValueError)  # callers of the old load_keypair catch ValueError
